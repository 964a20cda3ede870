"""Deadlines: coordinators move them with a reason that the log records and members read.

The dates themselves are stored plain on the room (they were always readable there);
the reason is a coordinator's words, so it is sealed under the room key, in the log and
in the notice the room page shows to every member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from statements.drafting.access import RoomAccess
from statements.drafting.errors import InvalidInput, WrongState
from statements.drafting.log import log_action
from statements.models import RoomState
from statements.text.clean import MAX_NOTE, clean_text

NOTICE = "deadline_notice"


@dataclass(frozen=True)
class DeadlineNotice:
    """The last change of a room's deadlines, as members read it."""

    changed_on: date
    # Each is set only when that deadline moved in the change.
    contribution_deadline: date | None
    signon_deadline: date | None
    reason: str


def change_deadlines(
    db: Session,
    access: RoomAccess,
    contribution_deadline: date,
    signon_deadline: date,
    reason: str,
    today: date,
) -> DeadlineNotice:
    """Move the room's deadlines, saying why; InvalidInput names the field at fault.

    A deadline that moves may not move into the past, and sign-on never closes before
    contributions do. A deadline left as it was may already have passed.
    """
    access.require_coordinator()
    room = access.room
    if room.state == RoomState.PUBLISHED:
        raise WrongState(room.state)
    contributions_move = contribution_deadline != room.contribution_deadline
    signon_moves = signon_deadline != room.signon_deadline
    if contributions_move and contribution_deadline < today:
        raise InvalidInput("contribution_deadline", "past")
    if signon_moves and signon_deadline < today:
        raise InvalidInput("signon_deadline", "past")
    if signon_deadline < contribution_deadline:
        raise InvalidInput("signon_deadline", "before_contribution_deadline")
    if not (contributions_move or signon_moves):
        raise InvalidInput("contribution_deadline", "unchanged")
    reason = clean_text(reason, "reason", MAX_NOTE)
    notice = DeadlineNotice(
        changed_on=today,
        contribution_deadline=contribution_deadline if contributions_move else None,
        signon_deadline=signon_deadline if signon_moves else None,
        reason=reason,
    )
    log_action(
        db,
        access,
        today,
        "deadlines",
        contribution_deadline=_iso(notice.contribution_deadline),
        signon_deadline=_iso(notice.signon_deadline),
        previous_contribution_deadline=room.contribution_deadline.isoformat(),
        previous_signon_deadline=room.signon_deadline.isoformat(),
        note=reason,
    )
    room.contribution_deadline = contribution_deadline
    room.signon_deadline = signon_deadline
    room.deadline_notice = access.keyring.seal(
        NOTICE,
        room.id,
        room.key_version,
        {
            "changed_on": today.isoformat(),
            "contribution_deadline": _iso(notice.contribution_deadline),
            "signon_deadline": _iso(notice.signon_deadline),
            "reason": reason,
        },
    )
    room.deadline_notice_key_version = room.key_version
    db.flush()
    return notice


def deadline_notice(access: RoomAccess) -> DeadlineNotice | None:
    """The last change of the deadlines, for every member; None if they never moved."""
    room = access.room
    if room.deadline_notice is None or room.deadline_notice_key_version is None:
        return None
    try:
        data = access.keyring.open(
            NOTICE, room.id, room.deadline_notice_key_version, room.deadline_notice
        )
    except CryptoError:
        # Sealed under a key this member never held (they joined by an old link): the
        # dates on the page are still right; only the reason is out of reach.
        return None
    return DeadlineNotice(
        changed_on=date.fromisoformat(str(data["changed_on"])),
        contribution_deadline=_date(data.get("contribution_deadline")),
        signon_deadline=_date(data.get("signon_deadline")),
        reason=str(data["reason"]),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None
