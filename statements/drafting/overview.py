"""The coordinators' overview: every room they coordinate, what stage it is at, and
what waits for them there, in a fixed number of SQL statements however many rooms.

Each count is one grouped statement over all the coordinator's rooms at once; a new
count (say, unanswered messages to authors) is one more function in OVERVIEW_COUNTS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from crypto.keys import open_sealed
from statements.auth.service import Identity
from statements.drafting.access import ROOM_KEY, Keyring, key_owner
from statements.drafting.author_messages import unanswered_author_messages
from statements.drafting.errors import NotEligible
from statements.models import (
    Contribution,
    ContributionStatus,
    Flag,
    Role,
    Room,
    RoomKey,
    RoomMember,
    RoomRole,
    RoomState,
)

# The rooms an account coordinates, as a subquery every count filters on.
CoordinatedRooms = Select[str]
# One count per room, as one statement: (room id, count) rows for the rooms given.
OverviewCount = Callable[[Session, CoordinatedRooms], dict[str, int]]


def _pending(db: Session, rooms: CoordinatedRooms) -> dict[str, int]:
    rows = db.execute(
        select(Contribution.room_id, func.count())
        .where(
            Contribution.room_id.in_(rooms),
            Contribution.status == ContributionStatus.PENDING,
        )
        .group_by(Contribution.room_id)
    )
    return {room_id: int(count) for room_id, count in rows}


def _open_flags(db: Session, rooms: CoordinatedRooms) -> dict[str, int]:
    """Pending contributions a member asked a coordinator to review for safety."""
    rows = db.execute(
        select(Contribution.room_id, func.count(distinct(Contribution.id)))
        .join(Flag, Flag.contribution_id == Contribution.id)
        .where(
            Contribution.room_id.in_(rooms),
            Contribution.status == ContributionStatus.PENDING,
        )
        .group_by(Contribution.room_id)
    )
    return {room_id: int(count) for room_id, count in rows}


# The overview's counts, in the order of its columns.
OVERVIEW_COUNTS: dict[str, OverviewCount] = {
    "pending": _pending,
    "flags": _open_flags,
    "questions": unanswered_author_messages,
}


@dataclass(frozen=True)
class OverviewLine:
    """One room of the overview."""

    room: Room
    title: str
    # The deadline the room works towards now: contributions while drafting, sign-on
    # while consolidating and in sign-on; None once published.
    next_deadline: date | None
    days_left: int | None
    counts: dict[str, int] = field(default_factory=dict)


def next_deadline(room: Room) -> date | None:
    """The deadline a room's current stage works towards."""
    if room.state == RoomState.DRAFTING:
        return room.contribution_deadline
    if room.state in (RoomState.CONSOLIDATING, RoomState.SIGN_ON):
        return room.signon_deadline
    return None


def overview(db: Session, identity: Identity, today: date) -> list[OverviewLine]:
    """The rooms this account coordinates (sealed ones left out), soonest deadline first."""
    if identity.account.role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotEligible
    coordinated: CoordinatedRooms = select(RoomMember.room_id).where(
        RoomMember.account_id == identity.account.id,
        RoomMember.role == RoomRole.COORDINATOR,
    )
    # The title is sealed under key version 1, which every coordinator holds.
    rows = db.execute(
        select(Room, RoomKey.sealed_key)
        .join(
            RoomKey,
            (RoomKey.room_id == Room.id)
            & (RoomKey.account_id == identity.account.id)
            & (RoomKey.key_version == 1),
        )
        .where(Room.id.in_(coordinated), Room.sealed.is_(False))
    ).all()
    counts = {name: count(db, coordinated) for name, count in OVERVIEW_COUNTS.items()}
    lines = []
    for room, sealed_key in rows:
        keyring = Keyring(
            room.id,
            {
                1: open_sealed(
                    identity.keys.private_key,
                    sealed_key,
                    purpose=ROOM_KEY,
                    owner=key_owner(room.id, 1),
                )
            },
        )
        deadline = next_deadline(room)
        lines.append(
            OverviewLine(
                room=room,
                title=str(keyring.open("room", room.id, 1, room.details)["title"]),
                next_deadline=deadline,
                days_left=(deadline - today).days if deadline is not None else None,
                counts={name: by_room.get(room.id, 0) for name, by_room in counts.items()},
            )
        )
    lines.sort(
        key=lambda line: (
            line.next_deadline is None,
            line.next_deadline or today,
            line.title.casefold(),
        )
    )
    return lines
