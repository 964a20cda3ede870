"""Resetting a staff account that lost both its passphrase or phone and its recovery
codes, and giving it back its rooms.

One admin proposes, a second approves (or, where there is a single admin, the server's
command line does it). A reset throws the account's keys away: nothing it could read is
readable with what it had, and its wrapped room keys and signing key are deleted. It
gets a new enrolment link, and with it new keys. Its rooms keep working meanwhile; the
next time another coordinator of each room signs in, the room's keys are sealed to the
new public key (restore_access), and the signing key too, if that person holds it.
Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session, aliased

from statements.auth import service

# The keyring of one room as one member holds it: what open_room reads too.
from statements.drafting.access import _keyring, grant_keys
from statements.models import (
    Account,
    AuditAction,
    RecoveryCode,
    Role,
    Room,
    RoomKey,
    RoomMember,
    RoomRole,
    SigningKeyWrap,
    StaffReset,
)
from statements.publishing.errors import NoSigningKey, SigningKeyNotShared
from statements.publishing.signing_keys import key_status, share_signing_key
from statements.staff import audit
from statements.staff.errors import NotAdmin, ResetNotAllowed, ResetNotProposed, SameAdmin


def _require_admin(account: Account) -> None:
    if account.role != Role.ADMIN or account.disabled or not account.enrolled:
        raise NotAdmin


def _target(db: Session, account_id: str) -> Account:
    account = db.get(Account, account_id) if account_id and len(account_id) <= 32 else None
    if account is None or not account.is_staff:
        raise ResetNotAllowed
    return account


@dataclass(frozen=True)
class PendingReset:
    """A reset waiting for a second admin."""

    account: Account
    proposed_by: str
    proposed_on: date


def pending_resets(db: Session) -> list[PendingReset]:
    """Resets waiting for approval, by username."""
    proposer = aliased(Account)
    rows = db.execute(
        select(Account, proposer.username, StaffReset.proposed_on)
        .join(StaffReset, StaffReset.account_id == Account.id)
        .join(proposer, proposer.id == StaffReset.proposed_by)
        .order_by(Account.username)
    ).all()
    return [PendingReset(account, str(by), on) for account, by, on in rows]


def propose_reset(db: Session, admin: Account, account_id: str, today: date) -> Account:
    """An admin asks for a staff account to be reset; a second admin must approve."""
    _require_admin(admin)
    account = _target(db, account_id)
    if account.id == admin.id:
        raise ResetNotAllowed
    if db.get(StaffReset, account.id) is None:
        db.add(StaffReset(account_id=account.id, proposed_by=admin.id, proposed_on=today))
        audit.record(db, admin, AuditAction.RESET_PROPOSED, account.username, today)
    db.flush()
    return account


def approve_reset(
    db: Session, admin: Account, account_id: str, now: datetime
) -> tuple[Account, str]:
    """A second admin approves: the account is reset; returns it and its enrolment token."""
    _require_admin(admin)
    account = _target(db, account_id)
    proposal = db.get(StaffReset, account.id)
    if proposal is None:
        raise ResetNotProposed
    if proposal.proposed_by == admin.id:
        raise SameAdmin
    if account.id == admin.id:
        raise ResetNotAllowed
    db.delete(proposal)
    token = _reset(db, account, now)
    audit.record(db, admin, AuditAction.RESET_APPROVED, account.username, now.date())
    return account, token


def withdraw_reset(db: Session, admin: Account, account_id: str) -> None:
    """Withdraw a proposed reset (either admin may)."""
    _require_admin(admin)
    proposal = db.get(StaffReset, account_id) if account_id and len(account_id) <= 32 else None
    if proposal is None:
        raise ResetNotProposed
    db.delete(proposal)
    db.flush()


def reset_on_server(db: Session, typed_username: str, now: datetime) -> tuple[Account, str]:
    """The server's command line resets a staff account on its own (a single admin)."""
    username = service.normalize_username(typed_username)
    account = db.scalar(select(Account).where(Account.username == username))
    if account is None or not account.is_staff:
        raise ResetNotAllowed
    proposal = db.get(StaffReset, account.id)
    if proposal is not None:
        db.delete(proposal)
    token = _reset(db, account, now)
    audit.record(db, None, AuditAction.RESET_ON_SERVER, account.username, now.date())
    return account, token


def _reset(db: Session, account: Account, now: datetime) -> str:
    """Throw the account's keys away and give it a new enrolment token."""
    service.end_all_sessions(db, account)
    for table in (RoomKey, SigningKeyWrap, RecoveryCode):
        db.execute(delete(table).where(table.account_id == account.id))
    account.kdf_salt = None
    account.kdf_params = None
    account.public_key = None
    account.wrapped_private_key = None
    account.wrapped_author_secret = None
    account.wrapped_totp = None
    token = secrets.token_urlsafe(32)
    account.enrolment_token_hash = hashlib.sha256(token.encode()).digest()
    account.enrolment_expires_at = now + timedelta(days=service.ENROLMENT_DAYS)
    db.flush()
    return token


def restore_access(db: Session, identity: service.Identity, today: date) -> int:
    """Seal this coordinator's room keys to fellow coordinators who lost theirs (a reset).

    Run at sign-in. Returns how many accounts got a room back. The signing key, if this
    person holds it, goes to staff who lack it as well.
    """
    restored = 0
    if not identity.account.is_staff:
        return restored
    mine = aliased(RoomMember)
    theirs = aliased(RoomMember)
    missing = db.execute(
        select(Room.id, Account)
        .join(mine, and_(mine.room_id == Room.id, mine.account_id == identity.account.id))
        .join(theirs, theirs.room_id == Room.id)
        .join(Account, Account.id == theirs.account_id)
        .outerjoin(
            RoomKey,
            and_(
                RoomKey.room_id == Room.id,
                RoomKey.account_id == Account.id,
                RoomKey.key_version == Room.key_version,
            ),
        )
        .where(
            mine.role == RoomRole.COORDINATOR,
            theirs.role == RoomRole.COORDINATOR,
            Account.id != identity.account.id,
            Account.public_key.is_not(None),
            Account.disabled.is_(False),
            Room.sealed.is_(False),
            RoomKey.account_id.is_(None),
        )
    ).all()
    for room_id, account in missing:
        keyring = _keyring(db, room_id, identity)
        if not keyring.keys:
            continue
        grant_keys(db, room_id, keyring, account)
        audit.record(db, identity.account, AuditAction.ROOM_KEYS_RESTORED, account.username, today)
        restored += 1
    shared = 0
    status = key_status(db, identity)
    # Looked at first, so that an ordinary sign-in does not take the signing key's lock.
    if status.held and status.waiting:
        try:
            shared = share_signing_key(db, identity)
        except (NoSigningKey, SigningKeyNotShared):
            shared = 0
    if shared:
        audit.record(db, identity.account, AuditAction.SIGNING_KEY_SHARED, None, today)
    db.flush()
    return restored
