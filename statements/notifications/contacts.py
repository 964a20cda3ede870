"""A staff account's email address, choice of news and language, sealed at rest.

The address is sealed (AES-256-GCM) under a key derived from the server's
NOTIFICATION_KEY, bound to the account's id, so a copy of the database alone reads no
address and a row cannot be moved to another account. Takes a Session, never commits,
never imports flask.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from crypto import aead
from crypto.errors import CryptoError
from statements.models import Account, NoticeFrequency, StaffContact

MAX_EMAIL = 254
# A plain address: no display name, no comments, no spaces; one "@", a dotted domain.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class InvalidEmail(ValueError):
    """The address typed is not a plain email address."""


class InvalidChoice(ValueError):
    """A frequency or language outside the choices offered."""


class NotConfigured(Exception):
    """The server has no notification key: addresses cannot be kept."""


class NotStaff(Exception):
    """Only coordinators and admins may give an address."""


@dataclass(frozen=True)
class NotificationKeys:
    """Keys derived from NOTIFICATION_KEY: one seals addresses, one hashes sent events."""

    seal: bytes
    events: bytes

    @classmethod
    def derive(cls, secret: str) -> NotificationKeys:
        """Separate keys for separate uses, from the one setting."""

        def key(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
                secret.encode()
            )

        return cls(
            seal=key(b"statements/notifications/seal/v1"),
            events=key(b"statements/notifications/events/v1"),
        )

    def event_hash(self, account_id: str, *parts: str) -> str:
        """The keyed hash a sent event is recorded under."""
        return hmac.new(
            self.events, aead.encode_fields(account_id, *parts), hashlib.sha256
        ).hexdigest()

    def seal_for(self, account_id: str, purpose: str, data: object) -> bytes:
        """Seal a JSON value to one account's row."""
        return aead.encrypt(
            self.seal, json.dumps(data).encode(), aead.encode_fields(purpose, account_id)
        )

    def open_for(self, account_id: str, purpose: str, blob: bytes) -> object:
        """Open what seal_for sealed; CryptoError if it was not sealed for this row."""
        return json.loads(aead.decrypt(self.seal, blob, aead.encode_fields(purpose, account_id)))


@dataclass(frozen=True)
class ContactView:
    """What the staff page shows of an account's choice."""

    email: str
    frequency: str
    language: str


def clean_email(raw: str) -> str:
    """A trimmed plain address, or InvalidEmail."""
    email = raw.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise InvalidEmail
    if ".." in email or email.split("@")[1].startswith("-"):
        raise InvalidEmail
    return email


def contact_of(db: Session, keys: NotificationKeys | None, account: Account) -> ContactView | None:
    """This account's address and choice, or None when none is kept (or none readable)."""
    row = db.get(StaffContact, account.id)
    if row is None or keys is None:
        return None
    try:
        email = keys.open_for(account.id, "email", row.email)
    except CryptoError:
        # The notification key was replaced: the address must be given again.
        return None
    return ContactView(email=str(email), frequency=row.frequency, language=row.language)


def save_contact(
    db: Session,
    keys: NotificationKeys | None,
    account: Account,
    email: str,
    frequency: str,
    language: str,
    languages: frozenset[str],
) -> ContactView | None:
    """Keep (or, with an empty address, forget) a staff account's address and choice."""
    if not account.is_staff:
        raise NotStaff
    if keys is None:
        raise NotConfigured
    if frequency not in {f.value for f in NoticeFrequency} or language not in languages:
        raise InvalidChoice
    row = db.get(StaffContact, account.id)
    if not email.strip():
        if row is not None:
            db.delete(row)
            db.flush()
        return None
    clean = clean_email(email)
    sealed = keys.seal_for(account.id, "email", clean)
    if row is None:
        row = StaffContact(account_id=account.id, email=sealed, frequency=frequency)
        db.add(row)
    row.email = sealed
    row.frequency = frequency
    row.language = language
    # A new choice starts afresh: the next notice reports what waits now.
    row.marks = None
    db.flush()
    return ContactView(email=clean, frequency=frequency, language=language)
