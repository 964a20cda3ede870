"""A real SMTP server (aiosmtpd) on a free port, plain or with STARTTLS under a
self-signed certificate made here, and an app that sends through it."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import secrets
import socket
import ssl
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from statements.notifications.smtp import parse_smtp_url

SMTP_USER = "mailer"
SMTP_PASSWORD = "p@ss/w0rd:secret"
SENDER = "notifications@statements.test"


class Inbox:
    """What the server received, parsed as the recipient's mail program would."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook: keep the message."""
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=default_policy))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        """aiosmtpd's authenticator: only the test's credentials."""
        ok = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def plain_smtp(inbox: Inbox) -> Iterator[str]:
    """A plain SMTP server on this machine; yields its SMTP_URL."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp+plain://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return _self_signed(tmp_path)


@pytest.fixture
def starttls_smtp(inbox: Inbox, tls_files: tuple[Path, Path]) -> Iterator[str]:
    """An SMTP server that requires STARTTLS and a login; yields its SMTP_URL."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield f"smtp://{SMTP_USER}:p%40ss%2Fw0rd%3Asecret@localhost:{port}"
    finally:
        controller.stop()


@pytest.fixture
def notification_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture
def mailing_app(
    app_with: Callable[..., Flask], notification_key: str
) -> Callable[[str | None, Path | None], Flask]:
    """An app on the test's database that sends through the given SMTP_URL (or none)."""

    def build(url: str | None, ca_file: Path | None = None) -> Flask:
        smtp = parse_smtp_url(url, str(ca_file) if ca_file else None) if url else None
        return app_with(smtp=smtp, mail_from=SENDER, notification_key=notification_key)

    return build


@pytest.fixture
def tls_smtp(inbox: Inbox, tls_files: tuple[Path, Path]) -> Iterator[str]:
    """An SMTP server speaking TLS from the first byte (smtps://); yields its SMTP_URL."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=context,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield f"smtps://{SMTP_USER}:p%40ss%2Fw0rd%3Asecret@127.0.0.1:{port}"
    finally:
        controller.stop()
