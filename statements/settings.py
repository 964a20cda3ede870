"""Typed, immutable settings, read once from the environment."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pyrage
from limits import parse_many

from crypto.kdf import KdfParams
from statements.notifications.smtp import SmtpConfig, SmtpUrlError, parse_smtp_url

Environment = Literal["development", "production"]

MIN_SECRET_LENGTH = 32
MAX_NETWORK_NAME = 120
# Outside development the KDF may not be cheaper than OWASP's floor for Argon2id
# (19 MiB, two passes): a seized database must not be cheap to attack offline.
MIN_PRODUCTION_KDF = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)
# A schema-less URL, as the C2SP checkpoint format asks of a log's origin; it is also the
# name checkpoints are signed under, which may hold no space or "+".
_HOST = re.compile(r"\.?[a-z0-9.-]+(:[0-9]{1,5})?")
_METRICS_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,256}")
_MAIL_FROM = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}")
_LOG_ORIGIN = re.compile(r"[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


# The letterhead's logo is read once, at start-up; beyond these it is refused there rather
# than slowing (or failing) every letterhead PDF.
MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_PIXELS = 4096  # per side, for a PNG
MAX_LETTERHEAD_CHARS = 200
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Letterhead:
    """The network's name, logo, press contact and dateline place, for the letterhead PDF."""

    name: str
    contact: str = ""
    place: str = ""
    # The logo file's bytes, read and checked at start-up, and whether it is PNG or SVG.
    logo: bytes = field(default=b"", repr=False)
    logo_kind: Literal["", "png", "svg"] = ""


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    """Everything the app needs from its environment, validated."""

    environment: Environment
    secret_key: str
    lookup_pepper: bytes
    database_url: str
    instance_path: Path
    redis_url: str | None = None
    session_idle_minutes: int = 30
    # However active, a session ends this many hours after sign-in.
    session_max_hours: int = 12
    # Members' anonymous writes wait in a queue and are committed in shuffled batches,
    # at random intervals of this mean length (see statements/mixing.py). 0 commits
    # them at the end of each request, for tests only: it gives up the mixing.
    mix_interval_seconds: int = 30
    kdf: KdfParams = field(default_factory=KdfParams)
    # Key derivations running at once on this machine (0: one fewer than its cores, so
    # readers keep a core during a storm of sign-ins), how many more may wait in turn, and
    # for how long at most before they are told "busy, try again in a moment".
    kdf_slots: int = 0
    kdf_queue: int = 32
    kdf_wait_seconds: int = 10
    # Request threads of one worker that may wait for a derivation at once: the others
    # stay free for readers (deploy/gunicorn.conf.py runs 4 threads per worker).
    kdf_per_worker: int = 2
    # Where the derivation slots' files live; None: the instance folder. from_env puts them
    # in memory (/dev/shm) when it can: a busy sign-in writes its queue number there, and
    # on disk the files' times would say when (statements/auth/kdf_pool.py).
    kdf_slots_dir: Path | None = None
    # Sign-ins (and everything else that spends a slow key derivation on a secret): per
    # client address, and in total for the deployment. One address may be a workshop's
    # Wi-Fi or a Tor exit, so its budget fits a room of people; the total bounds a
    # guesser spread over many addresses.
    login_rate_limit: str = "30 per minute;300 per hour"
    login_rate_limit_total: str = "300 per minute;3000 per hour"
    # New accounts (joining, with or without an invitation): per address and in total.
    join_rate_limit: str = "5 per minute;20 per hour"
    join_rate_limit_total: str = "60 per minute;600 per hour"
    # Joins through an invitation a coordinator marked for a workshop, per invitation,
    # in place of the per-address budget while the workshop lasts.
    workshop_join_limit: str = "120 per hour"
    leave_quickly_url: str = "https://www.wikipedia.org/"
    proxy_hops: int = 0
    max_request_bytes: int = 2 * 1024 * 1024
    # Names the public log in its checkpoints (C2SP origin): fixed once anything is published.
    log_origin: str = "localhost/statements-log"
    # Host names this site answers to; others get 400. Absolute links in the feed, the
    # API and the PDFs are built from the Host header, so production should list them.
    trusted_hosts: tuple[str, ...] = ()
    # Tests set this to keep one random prefix per test in a shared Redis.
    rate_limit_prefix: str = "statements"
    rate_limit_enabled: bool = True
    # The age public keys ("age1...") backups are encrypted to. Only their private halves,
    # kept away from this server, can read a backup: a seized server cannot.
    backup_public_keys: tuple[str, ...] = ()
    # The bearer token a Prometheus scraper presents at /metrics; None turns metrics off.
    metrics_token: str | None = None
    # Staff digests and notices by email (statements/notifications): where mail is handed
    # over (None: nothing is sent), the sender address, and the key staff addresses are
    # sealed under at rest. The key lives here, never in the database, so sending needs no
    # one's unlocked key; None (outside development) means addresses cannot be kept.
    smtp: SmtpConfig | None = None
    mail_from: str | None = None
    notification_key: str | None = field(default=None, repr=False)
    # The two-person rule for every room (statements/control/): publishing, correcting,
    # retracting, sealing, replacing the signing key and changing a room's moderation
    # mode are proposed by one staff member and carried out when another approves.
    # Rooms may raise it when it is off; nothing lowers it.
    two_person_rule: bool = False
    # A proposal nobody approved within this many hours lapses.
    proposal_hours: int = 72
    # The network's name, printed on the card image shown where a statement is shared
    # (statements/publishing/card.py). Empty: the site's own name, "Joint statements".
    network_name: str = ""
    # The deployment's letterhead; None: no letterhead PDF is offered.
    letterhead: Letterhead | None = None

    @property
    def development(self) -> bool:
        """True when running the local development server."""
        return self.environment == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], instance_path: Path) -> Settings:
        """Read and validate every setting; raise SettingsError naming the first bad one."""
        env = environ.get("APP_ENV", "production").strip()
        if env not in ("development", "production"):
            raise SettingsError("APP_ENV", "must be 'development' or 'production'")
        environment: Environment = "development" if env == "development" else "production"

        secret_key = _secret(environ, "SECRET_KEY", environment, instance_path)
        pepper = _secret(environ, "LOOKUP_PEPPER", environment, instance_path)

        database_url = environ.get("DATABASE_URL", "").strip()
        if not database_url:
            database_url = f"sqlite:///{instance_path / 'statements.sqlite3'}"
        elif not database_url.startswith(("sqlite://", "postgresql")):
            raise SettingsError("DATABASE_URL", "must be a sqlite:// or postgresql:// URL")

        redis_url = environ.get("REDIS_URL", "").strip() or None
        if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss"):
            raise SettingsError("REDIS_URL", "must be a redis:// or rediss:// URL")

        rate = _rate(environ, "LOGIN_RATE_LIMIT", cls.login_rate_limit)

        leave = environ.get("LEAVE_QUICKLY_URL", cls.leave_quickly_url).strip()
        parts = urlsplit(leave)
        if parts.scheme != "https" or not parts.netloc:
            raise SettingsError("LEAVE_QUICKLY_URL", "must be an https:// URL")

        # Lanes stay at one: see crypto.kdf.KdfParams.
        kdf = KdfParams(
            memory_kib=_int(environ, "KDF_MEMORY_KIB", KdfParams.memory_kib, 8, 4 * 1024**2),
            iterations=_int(environ, "KDF_ITERATIONS", KdfParams.iterations, 1, 100),
        )
        if environment == "production":
            if kdf.memory_kib < MIN_PRODUCTION_KDF.memory_kib:
                raise SettingsError(
                    "KDF_MEMORY_KIB", f"must be at least {MIN_PRODUCTION_KDF.memory_kib}"
                )
            if kdf.iterations < MIN_PRODUCTION_KDF.iterations:
                raise SettingsError(
                    "KDF_ITERATIONS", f"must be at least {MIN_PRODUCTION_KDF.iterations}"
                )

        log_origin = environ.get("LOG_ORIGIN", "").strip()
        if not log_origin:
            if environment == "production":
                raise SettingsError(
                    "LOG_ORIGIN", "is required outside development, e.g. statements.example.org/log"
                )
            log_origin = cls.log_origin
        elif not _LOG_ORIGIN.fullmatch(log_origin):
            raise SettingsError(
                "LOG_ORIGIN", "must be a host and path without a scheme, e.g. example.org/log"
            )

        trusted_hosts = tuple(
            host.strip() for host in environ.get("TRUSTED_HOSTS", "").split(",") if host.strip()
        )
        if any(not _HOST.fullmatch(host) for host in trusted_hosts):
            raise SettingsError("TRUSTED_HOSTS", "must be host names separated by commas")

        backup_public_keys = tuple(
            key.strip() for key in environ.get("BACKUP_PUBLIC_KEY", "").split(",") if key.strip()
        )
        if any(not _is_age_recipient(key) for key in backup_public_keys):
            raise SettingsError(
                "BACKUP_PUBLIC_KEY",
                "must be age public keys (age1..., as age-keygen prints), separated by commas",
            )

        metrics_token = environ.get("METRICS_TOKEN", "").strip() or None
        if metrics_token is not None and not _METRICS_TOKEN.fullmatch(metrics_token):
            raise SettingsError(
                "METRICS_TOKEN",
                "must be at least 32 letters, digits, '-' or '_' (python3 -c "
                "'import secrets; print(secrets.token_urlsafe(32))')",
            )

        smtp = None
        smtp_url = environ.get("SMTP_URL", "").strip()
        if smtp_url:
            try:
                smtp = parse_smtp_url(smtp_url, environ.get("SMTP_CA_FILE", "").strip() or None)
            except SmtpUrlError as exc:
                raise SettingsError("SMTP_URL", str(exc)) from None
        mail_from = environ.get("SMTP_FROM", "").strip() or None
        if mail_from is None and smtp is not None:
            mail_from = f"notifications@{log_origin.split('/')[0].split(':')[0]}"
        if mail_from is not None and not _MAIL_FROM.fullmatch(mail_from):
            raise SettingsError("SMTP_FROM", "must be a plain address such as news@example.org")
        notification_key: str | None = None
        if (
            smtp is not None
            or environ.get("NOTIFICATION_KEY", "").strip()
            or environment == ("development")
        ):
            notification_key = _secret(environ, "NOTIFICATION_KEY", environment, instance_path)
        two_person = environ.get("TWO_PERSON_RULE", "off").strip().lower()
        if two_person not in ("on", "off"):
            raise SettingsError("TWO_PERSON_RULE", "must be 'on' or 'off'")

        network_name = " ".join(environ.get("NETWORK_NAME", "").split())
        if len(network_name) > MAX_NETWORK_NAME or any(
            # Control characters, and none unassigned; format characters stay (Persian
            # needs the zero-width non-joiner).
            unicodedata.category(char) in ("Cc", "Cs", "Cn", "Co")
            for char in network_name
        ):
            raise SettingsError(
                "NETWORK_NAME",
                f"must be one line of at most {MAX_NETWORK_NAME} printable characters",
            )

        return cls(
            environment=environment,
            secret_key=secret_key,
            lookup_pepper=pepper.encode(),
            database_url=database_url,
            instance_path=instance_path,
            redis_url=redis_url,
            session_idle_minutes=_int(environ, "SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
            session_max_hours=_int(environ, "SESSION_MAX_HOURS", 12, 1, 7 * 24),
            mix_interval_seconds=_int(environ, "MIX_INTERVAL_SECONDS", 30, 5, 3600),
            kdf=kdf,
            kdf_slots=_int(environ, "KDF_SLOTS", 0, 0, 256),
            kdf_queue=_int(environ, "KDF_QUEUE", 32, 1, 1024),
            kdf_wait_seconds=_int(environ, "KDF_WAIT_SECONDS", 10, 1, 120),
            kdf_per_worker=_int(environ, "KDF_PER_WORKER", 2, 1, 256),
            kdf_slots_dir=_kdf_slots_dir(environ, instance_path),
            login_rate_limit=rate,
            login_rate_limit_total=_rate(
                environ, "LOGIN_RATE_LIMIT_TOTAL", cls.login_rate_limit_total
            ),
            join_rate_limit=_rate(environ, "JOIN_RATE_LIMIT", cls.join_rate_limit),
            join_rate_limit_total=_rate(
                environ, "JOIN_RATE_LIMIT_TOTAL", cls.join_rate_limit_total
            ),
            workshop_join_limit=_rate(environ, "WORKSHOP_JOIN_LIMIT", cls.workshop_join_limit),
            leave_quickly_url=leave,
            proxy_hops=_int(environ, "PROXY_HOPS", 0, 0, 5),
            max_request_bytes=_int(
                environ, "MAX_REQUEST_BYTES", cls.max_request_bytes, 64 * 1024, 64 * 1024**2
            ),
            log_origin=log_origin,
            trusted_hosts=trusted_hosts,
            backup_public_keys=backup_public_keys,
            metrics_token=metrics_token,
            smtp=smtp,
            mail_from=mail_from,
            notification_key=notification_key,
            two_person_rule=two_person == "on",
            proposal_hours=_int(environ, "PROPOSAL_HOURS", cls.proposal_hours, 1, 24 * 30),
            network_name=network_name,
            letterhead=_letterhead(environ),
        )


def _letterhead(environ: Mapping[str, str]) -> Letterhead | None:
    """LETTERHEAD_NAME and its companions; the logo is read and checked here, once."""
    texts = {}
    for name in ("LETTERHEAD_NAME", "LETTERHEAD_CONTACT", "LETTERHEAD_PLACE"):
        value = " ".join(environ.get(name, "").split())
        if len(value) > MAX_LETTERHEAD_CHARS:
            raise SettingsError(name, f"must be at most {MAX_LETTERHEAD_CHARS} characters")
        if any(ord(char) < 32 or 0x7F <= ord(char) < 0xA0 for char in value):
            raise SettingsError(name, "must hold no control characters")
        texts[name] = value
    logo_path = environ.get("LETTERHEAD_LOGO", "").strip()
    if not texts["LETTERHEAD_NAME"]:
        if logo_path or texts["LETTERHEAD_CONTACT"] or texts["LETTERHEAD_PLACE"]:
            raise SettingsError(
                "LETTERHEAD_NAME", "is required with the other LETTERHEAD_ settings"
            )
        return None
    found = Letterhead(
        name=texts["LETTERHEAD_NAME"],
        contact=texts["LETTERHEAD_CONTACT"],
        place=texts["LETTERHEAD_PLACE"],
    )
    if not logo_path:
        return found
    logo, kind = read_logo(Path(logo_path))
    return replace(found, logo=logo, logo_kind=kind)


def read_logo(path: Path) -> tuple[bytes, Literal["png", "svg"]]:
    """The logo file's bytes and kind; SettingsError says what is wrong with it.

    Only what can be checked without the PDF engine (kept out of an idle worker): the file
    is there and readable, not too large, and a PNG of bounded size or an SVG document.
    """
    name = "LETTERHEAD_LOGO"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LOGO_BYTES + 1)
    except FileNotFoundError:
        raise SettingsError(name, f"no such file: {path}") from None
    except IsADirectoryError:
        raise SettingsError(name, f"is a folder, not a file: {path}") from None
    except OSError as exc:
        raise SettingsError(name, f"cannot be read: {path} ({exc.strerror})") from None
    if len(data) > MAX_LOGO_BYTES:
        raise SettingsError(name, f"is larger than {MAX_LOGO_BYTES // 1024} KiB: {path}")
    if data.startswith(_PNG_SIGNATURE):
        # The first chunk of every PNG is IHDR: width and height, 4 bytes each.
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise SettingsError(name, f"is not a whole PNG image: {path}")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if not (0 < width <= MAX_LOGO_PIXELS and 0 < height <= MAX_LOGO_PIXELS):
            raise SettingsError(
                name, f"must be at most {MAX_LOGO_PIXELS} pixels on each side, got {width}x{height}"
            )
        return data, "png"
    if _is_svg(data):
        if _svg_reaches_out(data):
            raise SettingsError(
                name,
                f"must draw itself: an SVG that refers to other images, files or addresses "
                f"(an <image>, a link, url(...) outside it) is refused: {path}",
            )
        return data, "svg"
    raise SettingsError(name, f"must be a PNG or SVG file: {path}")


_SVG_ELSEWHERE = re.compile(r"url\(\s*['\"]?\s*[^#'\"\s)]", re.IGNORECASE)


def _svg_reaches_out(data: bytes) -> bool:
    """True when the SVG would have the PDF engine read something beyond itself.

    fpdf2 follows an <image>'s href to local files and to addresses on the network: a
    logo someone else made could put a file of the server's into every letterhead PDF.
    References inside the document (href="#id", url(#gradient)) are fine.
    """
    from defusedxml import ElementTree  # type: ignore[import-untyped]

    root = ElementTree.fromstring(data)
    for element in root.iter():
        tag = str(element.tag).rsplit("}", 1)[-1]
        if tag in ("image", "script", "foreignObject", "feImage"):
            return True
        for attribute, value in element.attrib.items():
            if attribute.rsplit("}", 1)[-1] == "href" and not value.strip().startswith("#"):
                return True
            if _SVG_ELSEWHERE.search(value):
                return True
        if tag == "style" and _SVG_ELSEWHERE.search(element.text or ""):
            return True
    return False


def _is_svg(data: bytes) -> bool:
    """An XML document whose root is <svg> with a size (the PDF engine needs one)."""
    # The PDF engine recognises an SVG by how it starts; so does this check.
    if not data.lstrip().startswith((b"<?xml ", b"<svg ")):
        return False
    # Only when a logo is configured. (defusedxml ships no type information.)
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return False
    if root.tag not in ("svg", "{http://www.w3.org/2000/svg}svg"):
        return False
    return bool(root.get("viewBox") or (root.get("width") and root.get("height")))


def _is_age_recipient(key: str) -> bool:
    try:
        pyrage.x25519.Recipient.from_str(key)
    except pyrage.RecipientError:
        return False
    return True


def _rate(environ: Mapping[str, str], name: str, default: str) -> str:
    rate = environ.get(name, default).strip()
    try:
        parse_many(rate)
    except ValueError:
        raise SettingsError(name, "must look like '10 per minute;60 per hour'") from None
    return rate


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be between {low} and {high}, got {value}")
    return value


def _secret(
    environ: Mapping[str, str], name: str, environment: Environment, instance_path: Path
) -> str:
    """Read a secret; in development, generate it once and keep it under instance/."""
    value = environ.get(name, "").strip()
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise SettingsError(name, f"must be at least {MIN_SECRET_LENGTH} characters")
        return value
    if environment != "development":
        raise SettingsError(
            name,
            "is required outside development; generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    path = instance_path / name.lower()
    if path.exists():
        stored = path.read_text().strip()
        if len(stored) >= MIN_SECRET_LENGTH:
            return stored
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Created with owner-only permissions: it peppers codename lookups and signs cookies.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


# A folder of our own is made in it, private and checked (kdf_pool.KdfPool).
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108


def _kdf_slots_dir(environ: Mapping[str, str], instance_path: Path) -> Path | None:
    """KDF_SLOTS_DIR if given, else a folder of this instance's own in shared memory (kept
    off the disk), else None (the instance folder)."""
    given = environ.get("KDF_SLOTS_DIR", "").strip()
    if given:
        return Path(given)
    if not (SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK | os.X_OK)):
        return None
    # One folder per instance: its workers share the slots; other instances do not.
    digest = hashlib.sha256(str(instance_path.resolve()).encode()).hexdigest()[:16]
    return SHARED_MEMORY / f"statements-kdf-{os.getuid()}-{digest}"
