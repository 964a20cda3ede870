"""The moderation log: an encrypted entry for every decision and change coordinators make.

An entry says what was done, never who wrote what was acted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.drafting.access import PAGE_SIZE, RoomAccess
from statements.models import ModerationEntry, random_id


def log_action(db: Session, access: RoomAccess, today: date, action: str, **details: Any) -> None:
    """An encrypted moderation-log entry: what was done, never who wrote what was acted on."""
    entry = ModerationEntry(
        id=random_id(),
        room_id=access.room.id,
        key_version=access.room.key_version,
        created_on=today,
    )
    entry.content = access.keyring.seal(
        "log", entry.id, access.room.key_version, {"action": action, **details}
    )
    db.add(entry)
    db.flush()


@dataclass(frozen=True)
class LogLine:
    """A moderation-log entry as coordinators read it."""

    created_on: date
    action: str
    contribution: str | None
    details: dict[str, Any]


def moderation_log(db: Session, access: RoomAccess, page: int) -> list[LogLine]:
    """The room's moderation log, newest day first."""
    access.require_coordinator()
    rows = db.scalars(
        select(ModerationEntry)
        .where(ModerationEntry.room_id == access.room.id)
        .order_by(ModerationEntry.created_on.desc(), ModerationEntry.id)
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    )
    lines = []
    for row in rows:
        data = access.keyring.open("log", row.id, row.key_version, row.content)
        action = str(data.pop("action"))
        lines.append(LogLine(row.created_on, action, data.pop("contribution", None), data))
    return lines
