"""Whether an action waits for a second person: read by the services it holds still.

Kept apart from statements/control/service.py so publishing and drafting can ask without
importing what carries proposals out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.models import ControlProposal, Embargo, ProposalStatus, Room


def rule_applies(deployment_rule: bool, room: Room | None) -> bool:
    """The two-person rule holds for the deployment, or this room raised it."""
    return deployment_rule or (room is not None and room.two_person)


def waiting(db: Session, room_id: str, action: str, now: datetime) -> ControlProposal | None:
    """The room's pending, unexpired proposal of this action, if any."""
    return db.scalar(
        select(ControlProposal).where(
            ControlProposal.room_id == room_id,
            ControlProposal.action == action,
            ControlProposal.status == ProposalStatus.PENDING,
            ControlProposal.expires_at > now,
        )
    )


def publication_held(db: Session, room_id: str, now: datetime) -> bool:
    """A publication of the room waits for approval, or for its release date: its sign-on
    must not move meanwhile, so what the approver is shown (or what was signed) is what
    is published."""
    if db.scalar(select(Embargo.id).where(Embargo.room_id == room_id)) is not None:
        return True
    return waiting(db, room_id, "publish", now) is not None


def rule_for_room(db: Session, deployment_rule: bool, room_id: str | None) -> bool:
    """The rule for an action on a room known by id (a statement's room may be gone)."""
    return rule_applies(deployment_rule, db.get(Room, room_id) if room_id else None)
