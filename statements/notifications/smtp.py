"""Sending mail: SMTP_URL parsed carefully, and Python's own smtplib and email.

    smtp://USER:PASSWORD@HOST:587    STARTTLS, required (the server must offer it)
    smtps://USER:PASSWORD@HOST:465   TLS from the first byte
    smtp+plain://localhost:25        no TLS: only to a mail server on this machine

Certificates are verified against the system's trust store, or SMTP_CA_FILE when set.
The user and password are percent-decoded (a password with "@" or "/" is written %40,
%2F). No message, exception or log line ever carries the password: errors name the
setting and the problem, never the URL.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "smtp+plain": 25}
TIMEOUT_SECONDS = 30
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class SmtpUrlError(ValueError):
    """SMTP_URL is malformed; the message says how, without repeating the URL."""


class SendFailed(Exception):
    """The mail server could not be reached or refused; the message holds no secret."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over; the password never appears in a repr."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    @property
    def security(self) -> str:
        """ "starttls", "tls" or "none"."""
        return {"smtp": "starttls", "smtps": "tls", "smtp+plain": "none"}[self.scheme]


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str, ca_file: str | None = None) -> SmtpConfig:
    """Read an SMTP_URL (see the module's docstring); SmtpUrlError says what is wrong."""
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise SmtpUrlError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # urlsplit's own message may quote the URL, and with it the password.
        raise SmtpUrlError("has a malformed host or port") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SmtpUrlError("must start with smtp://, smtps:// or smtp+plain://")
    host = parts.hostname or ""
    if not host:
        raise SmtpUrlError("names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpUrlError("must be only scheme, credentials, host and port (no path or query)")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if any(ch < " " or ch == "\x7f" for ch in (username or "") + (password or "")):
        # Percent-decoding must not smuggle a line break into the SMTP dialogue.
        raise SmtpUrlError("has control characters in its user name or password")
    if password is not None and not username:
        raise SmtpUrlError("has a password but no user name")
    if scheme == "smtp+plain":
        if not _is_loopback(host):
            raise SmtpUrlError("smtp+plain:// (no TLS) is only for a mail server on this machine")
        if username:
            raise SmtpUrlError(
                "smtp+plain:// may not carry credentials: they would travel unencrypted"
            )
    if port == 0:
        raise SmtpUrlError("has port 0")
    ca_path = None
    if ca_file:
        ca_path = Path(ca_file)
        if not ca_path.is_file():
            raise SmtpUrlError("SMTP_CA_FILE names no readable file")
    return SmtpConfig(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        username=username,
        password=password,
        ca_file=ca_path,
    )


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(config.ca_file) if config.ca_file is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(
            config.host, config.port, timeout=TIMEOUT_SECONDS, context=_tls_context(config)
        )
    server = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    if config.security == "starttls":
        server.ehlo()
        if not server.has_extn("starttls"):
            server.close()
            raise SendFailed("the mail server does not offer STARTTLS; nothing was sent")
        server.starttls(context=_tls_context(config))
        server.ehlo()
    return server


class Mailer:
    """One connection to the mail server, open for the length of a `with` block."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._server: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        try:
            server = _connect(self.config)
        except SendFailed:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"cannot reach the mail server ({type(exc).__name__})") from None
        self._server = server
        if self.config.username:
            try:
                server.login(self.config.username, self.config.password or "")
            except (OSError, smtplib.SMTPException) as exc:
                self._close()
                raise SendFailed(
                    f"the mail server refused the credentials ({type(exc).__name__})"
                ) from None
        return self

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; SendFailed if the server refuses it."""
        if self._server is None:
            raise RuntimeError("use Mailer in a with block")
        try:
            self._server.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"the mail server refused a message ({type(exc).__name__})") from None

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()

    def __exit__(self, *_exc: object) -> None:
        self._close()
