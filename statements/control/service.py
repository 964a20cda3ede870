"""Proposals under the two-person rule: propose, read, approve, cancel.

Takes a Session, never commits, never imports flask. A proposal's content (what would be
signed or destroyed) is canonical JSON under a random key of its own, sealed to each
staff member who may approve it; its SHA-256 digest is shown with it, and approval
carries out only the content whose digest the approver's form sends back. Carrying the
action out is statements/control/actions.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import aead
from crypto.bundle_format import canonical
from crypto.errors import CryptoError
from crypto.keys import new_key, open_sealed, seal_to_public_key
from statements.auth.service import Identity
from statements.control.errors import (
    AlreadyProposed,
    NotApprover,
    OwnProposal,
    ProposalChanged,
    ProposalClosed,
    ProposalNotFound,
)
from statements.control.pending import waiting
from statements.drafting.access import RoomAccess, lock_room
from statements.drafting.log import log_action
from statements.models import (
    Account,
    ControlAction,
    ControlProposal,
    ControlProposalKey,
    ProposalStatus,
    Role,
    RoomMember,
    RoomRole,
    random_id,
)

_PURPOSE = "control-proposal"
_LABEL = "statements/control-proposal/v1"


@dataclass(frozen=True)
class Proposal:
    """A proposal as a staff member who may read it sees it."""

    row: ControlProposal
    content: dict[str, Any]
    proposer: str
    decider: str | None
    status: str

    @property
    def pending(self) -> bool:
        """Still waiting for a decision."""
        return self.status == ProposalStatus.PENDING


def _staff(account: Account) -> bool:
    return (
        account.role in (Role.COORDINATOR, Role.ADMIN)
        and not account.disabled
        and account.public_key is not None
    )


def _room_coordinators(db: Session, room_id: str) -> set[str]:
    return set(
        db.scalars(
            select(RoomMember.account_id).where(
                RoomMember.room_id == room_id, RoomMember.role == RoomRole.COORDINATOR
            )
        )
    )


def _readers(db: Session, room_id: str | None) -> list[Account]:
    """Who may read a proposal: the room's coordinators and every admin (all staff for
    the signing key, which belongs to no room)."""
    accounts = db.scalars(select(Account).where(Account.role.in_((Role.COORDINATOR, Role.ADMIN))))
    coordinators = _room_coordinators(db, room_id) if room_id is not None else set()
    return [
        account
        for account in accounts
        if _staff(account)
        and (room_id is None or account.role == Role.ADMIN or account.id in coordinators)
    ]


def may_decide(db: Session, identity: Identity, row: ControlProposal) -> bool:
    """This account may approve or cancel the proposal now."""
    account = identity.account
    if not _staff(account):
        return False
    if row.room_id is None or account.role == Role.ADMIN:
        return True
    return account.id in _room_coordinators(db, row.room_id)


def _aad(row: ControlProposal) -> bytes:
    return aead.encode_fields(_LABEL, row.id, row.action, row.room_id or "")


def digest_of(content: dict[str, Any]) -> str:
    """The SHA-256 of a proposal's canonical content, as the approver's form carries it."""
    return hashlib.sha256(canonical(content)).hexdigest()


def propose(
    db: Session,
    identity: Identity,
    action: ControlAction,
    room_id: str | None,
    content: dict[str, Any],
    now: datetime,
    hours: int,
) -> ControlProposal:
    """Record a proposal, its content sealed to each staff member who may read it."""
    if not _staff(identity.account):
        raise NotApprover
    if room_id is not None and waiting(db, room_id, action, now) is not None:
        raise AlreadyProposed
    if room_id is None and _waiting_key_replacement(db, now):
        raise AlreadyProposed
    key = new_key()
    row = ControlProposal(
        id=random_id(),
        room_id=room_id,
        action=action,
        status=ProposalStatus.PENDING,
        proposed_by=identity.account.id,
        created_on=now.date(),
        expires_at=now + timedelta(hours=hours),
        digest=digest_of(content),
    )
    row.content = aead.encrypt(key, canonical(content), _aad(row))
    db.add(row)
    db.flush()
    for account in _readers(db, room_id):
        if account.public_key is None:
            continue
        db.add(
            ControlProposalKey(
                proposal_id=row.id,
                account_id=account.id,
                sealed_key=seal_to_public_key(
                    account.public_key, key, purpose=_PURPOSE, owner=row.id
                ),
            )
        )
    db.flush()
    return row


def _waiting_key_replacement(db: Session, now: datetime) -> bool:
    return (
        db.scalar(
            select(ControlProposal.id).where(
                ControlProposal.room_id.is_(None),
                ControlProposal.action == ControlAction.REPLACE_KEY,
                ControlProposal.status == ProposalStatus.PENDING,
                ControlProposal.expires_at > now,
            )
        )
        is not None
    )


def _status(row: ControlProposal, now: datetime) -> str:
    if row.status == ProposalStatus.PENDING and row.expires_at <= now:
        return ProposalStatus.EXPIRED
    return row.status


def _usernames(db: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {value for value in ids if value}
    if not wanted:
        return {}
    return {
        account.id: account.username or ""
        for account in db.scalars(select(Account).where(Account.id.in_(wanted)))
    }


def _open(db: Session, identity: Identity, row: ControlProposal, now: datetime) -> Proposal:
    wrap = db.get(ControlProposalKey, (row.id, identity.account.id))
    if wrap is None or not _staff(identity.account):
        raise ProposalNotFound
    try:
        key = open_sealed(
            identity.keys.private_key, wrap.sealed_key, purpose=_PURPOSE, owner=row.id
        )
        content = json.loads(aead.decrypt(key, row.content, _aad(row)))
    except CryptoError:
        raise ProposalNotFound from None
    names = _usernames(db, (row.proposed_by, row.decided_by))
    return Proposal(
        row=row,
        content=content,
        proposer=names.get(row.proposed_by or "", ""),
        decider=names.get(row.decided_by or "") if row.decided_by else None,
        status=_status(row, now),
    )


def proposal(db: Session, identity: Identity, proposal_id: str, now: datetime) -> Proposal:
    """One proposal this staff member may read, its content opened."""
    row = db.get(ControlProposal, proposal_id) if 0 < len(proposal_id) <= 32 else None
    if row is None:
        raise ProposalNotFound
    return _open(db, identity, row, now)


def readable(
    db: Session, identity: Identity, now: datetime, *, room_id: str | None = None
) -> list[Proposal]:
    """The proposals this staff member may read (of one room if given), pending first."""
    query = select(ControlProposal).join(
        ControlProposalKey,
        (ControlProposalKey.proposal_id == ControlProposal.id)
        & (ControlProposalKey.account_id == identity.account.id),
    )
    if room_id is not None:
        query = query.where(ControlProposal.room_id == room_id)
    found = [_open(db, identity, row, now) for row in db.scalars(query)]
    return sorted(
        found,
        key=lambda p: (not p.pending, -p.row.created_on.toordinal(), p.row.action, p.row.id),
    )


def _decidable(
    db: Session, identity: Identity, proposal_id: str, now: datetime, *, lock: bool
) -> Proposal:
    query = select(ControlProposal).where(ControlProposal.id == proposal_id)
    if lock:
        # Two approvers at once: the second waits, then finds it decided.
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.scalar(query) if 0 < len(proposal_id) <= 32 else None
    if row is None:
        raise ProposalNotFound
    found = _open(db, identity, row, now)
    if not found.pending:
        raise ProposalClosed
    if not may_decide(db, identity, row):
        raise NotApprover
    return found


def begin_approval(
    db: Session, identity: Identity, proposal_id: str, digest: str, now: datetime
) -> Proposal:
    """Check that this account may approve now, and that it saw what would be done."""
    found = _decidable(db, identity, proposal_id, now, lock=True)
    if found.row.proposed_by == identity.account.id:
        raise OwnProposal
    if digest != found.row.digest or digest_of(found.content) != found.row.digest:
        raise ProposalChanged
    return found


def finish(db: Session, identity: Identity, found: Proposal, today: date) -> None:
    """Mark an approved proposal done, by this account, once its action is carried out."""
    found.row.status = ProposalStatus.APPROVED
    found.row.decided_by = identity.account.id
    found.row.decided_on = today
    db.flush()


def cancel(db: Session, identity: Identity, proposal_id: str, now: datetime) -> Proposal:
    """The proposer, or anyone who could approve it, withdraws a pending proposal."""
    found = _decidable(db, identity, proposal_id, now, lock=True)
    found.row.status = ProposalStatus.CANCELLED
    found.row.decided_by = identity.account.id
    found.row.decided_on = now.date()
    db.flush()
    return found


def raise_rule(db: Session, access: RoomAccess, today: date) -> None:
    """Turn the two-person rule on for a room, logged; it is never turned off again."""
    access.require_coordinator()
    room = lock_room(db, access.room.id)
    if room.two_person:
        return
    room.two_person = True
    log_action(db, access, today, "two_person")
