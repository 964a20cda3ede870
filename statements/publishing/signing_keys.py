"""The site's signing key: made, shared with staff, unlocked for one request, rotated.

Takes a Session, never commits, never imports flask. The private half exists on the
server only sealed to the coordinators' public keys, so nothing can be signed without a
coordinator's live session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto.bundle import make_key_rotation
from crypto.bundle_format import canonical
from crypto.errors import CryptoError
from crypto.keys import open_sealed, seal_to_public_key
from crypto.signing import SigningKey, generate_signing_key, key_id
from statements.auth.service import Identity
from statements.models import (
    Account,
    Role,
    SigningKeyRecord,
    SigningKeyWrap,
)
from statements.publishing import log, scheduled
from statements.publishing.errors import (
    NoSigningKey,
    NotAllowed,
    SigningKeyNotShared,
)

SIGNING_KEY = "signing-key"


def _staff(account: Account) -> bool:
    return account.role in (Role.COORDINATOR, Role.ADMIN) and not account.disabled


def active_key(db: Session, *, lock: bool = False) -> SigningKeyRecord | None:
    """The key in use now, if one was created."""
    query = select(SigningKeyRecord).where(SigningKeyRecord.valid_until.is_(None))
    if lock:
        # Publishing, rotating and sharing take this lock, so log appends happen in turn.
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.scalar(query)


def lock_log(db: Session) -> SigningKeyRecord | None:
    """The key in use, locked: the log's lock. None only when no key was ever made.

    A rotation that commits while this waits retires the row it waited on; the new key's
    row is then taken, so callers always lock the log before anything else.
    """
    for _ in range(3):
        record = active_key(db, lock=True)
        if record is not None or not db.scalar(select(func.count()).select_from(SigningKeyRecord)):
            return record
    return None


def all_keys(db: Session) -> list[SigningKeyRecord]:
    """Every signing key ever used, oldest first (the one in use last)."""
    in_use_last = SigningKeyRecord.valid_until.is_(None)
    return list(
        db.scalars(
            select(SigningKeyRecord).order_by(
                SigningKeyRecord.valid_from, in_use_last, SigningKeyRecord.key_id
            )
        )
    )


def _grant(db: Session, record: SigningKeyRecord, key: SigningKey) -> int:
    """Seal the key to every enrolled, active coordinator and admin who lacks it."""
    held = set(
        db.scalars(select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id))
    )
    granted = 0
    for account in db.scalars(
        select(Account).where(
            Account.role.in_((Role.COORDINATOR, Role.ADMIN)),
            Account.disabled.is_(False),
            Account.public_key.is_not(None),
        )
    ):
        if account.id in held or account.public_key is None:
            continue
        db.add(
            SigningKeyWrap(
                key_id=record.key_id,
                account_id=account.id,
                sealed_key=seal_to_public_key(
                    account.public_key, key.private_key, purpose=SIGNING_KEY, owner=record.key_id
                ),
            )
        )
        granted += 1
    db.flush()
    return granted


def _unwrap(db: Session, record: SigningKeyRecord, identity: Identity) -> SigningKey:
    wrap = db.get(SigningKeyWrap, (record.key_id, identity.account.id))
    if wrap is None or not _staff(identity.account):
        raise SigningKeyNotShared
    try:
        private_key = open_sealed(
            identity.keys.private_key, wrap.sealed_key, purpose=SIGNING_KEY, owner=record.key_id
        )
    except CryptoError:
        raise SigningKeyNotShared from None
    return SigningKey(private_key=private_key, public_key=record.public_key)


def _new_key(db: Session, origin: str, today: date) -> tuple[SigningKeyRecord, SigningKey]:
    key = generate_signing_key()
    record = SigningKeyRecord(
        key_id=key_id(key.public_key),
        public_key=key.public_key,
        note_key_name=origin,
        valid_from=today,
        valid_until=None,
    )
    db.add(record)
    db.flush()
    return record, key


def unlock_signing_key(
    db: Session, identity: Identity, origin: str, today: date, *, create: bool = False
) -> tuple[SigningKeyRecord, SigningKey]:
    """The signing key, unsealed with this staff member's keys; created first if asked."""
    if not _staff(identity.account):
        raise NotAllowed
    record = active_key(db, lock=True)
    if record is None:
        # Only the very first key is made here. A key that was just retired (a rotation
        # committed while this request waited for the lock) is not replaced by a second
        # one: the caller is told to try again, and then finds the new key.
        if not create or db.scalar(select(func.count()).select_from(SigningKeyRecord)):
            raise NoSigningKey
        record, key = _new_key(db, origin, today)
    else:
        key = _unwrap(db, record, identity)
    _grant(db, record, key)
    return record, key


@dataclass(frozen=True)
class KeyStatus:
    """What a staff member sees of the signing key."""

    active: SigningKeyRecord | None
    held: bool
    waiting: int


def key_status(db: Session, identity: Identity) -> KeyStatus:
    """The key in use, whether this account holds it, and how many staff wait for it."""
    record = active_key(db)
    if record is None:
        return KeyStatus(None, False, 0)
    holders = set(
        db.scalars(select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id))
    )
    staff = set(
        db.scalars(
            select(Account.id).where(
                Account.role.in_((Role.COORDINATOR, Role.ADMIN)),
                Account.disabled.is_(False),
                Account.public_key.is_not(None),
            )
        )
    )
    return KeyStatus(record, identity.account.id in holders, len(staff - holders))


def share_signing_key(db: Session, identity: Identity) -> int:
    """Seal the key to staff who joined since it was made; how many received it."""
    record = active_key(db, lock=True)
    if record is None:
        raise NoSigningKey
    return _grant(db, record, _unwrap(db, record, identity))


def rotate_signing_key(
    db: Session, identity: Identity, today: date, *, approved: bool = False
) -> SigningKeyRecord:
    """Replace the key; the rotation is a log entry signed by the old key and the new.

    An admin replaces it, or, under the two-person rule, the staff member who approves an
    admin's proposal (`approved`).
    """
    if identity.account.role != Role.ADMIN and not approved:
        raise NotAllowed
    old_record, old_key = unlock_signing_key(db, identity, origin="", today=today)
    new_key = generate_signing_key()
    new_record = SigningKeyRecord(
        key_id=key_id(new_key.public_key),
        public_key=new_key.public_key,
        note_key_name=old_record.note_key_name,
        valid_from=today,
        valid_until=None,
    )
    old_record.valid_until = today
    db.flush()
    db.add(new_record)
    db.flush()
    entry = make_key_rotation(old_key, new_key, old_record.note_key_name, today)
    log.append(db, log.KEY_ROTATION, canonical(entry), new_key, new_record.note_key_name)
    # A statement waiting for its release is signed again, to verify under the key valid
    # on its release day.
    scheduled.sign_again(db, new_key, new_record.note_key_name)
    # Staff who held the old key receive the new one; whoever lost access does not.
    db.execute(delete(SigningKeyWrap).where(SigningKeyWrap.key_id == old_record.key_id))
    _grant(db, new_record, new_key)
    return new_record
