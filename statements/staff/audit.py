"""The staff audit log: what coordinators and admins did, and on which day.

Append-only (the database refuses UPDATE and DELETE). An entry names the staff account
that acted and what it acted on: a staff account, a room, a statement or a signing key.
Never a member, a contribution, an address or a time of day. Takes a Session, never
commits, never imports flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from statements.models import Account, AuditAction, AuditEntry, random_id

PAGE_SIZE = 50


def record(
    db: Session, actor: Account | None, action: AuditAction, subject: str | None, day: date
) -> None:
    """Append an entry. actor None: the server's command line."""
    if actor is not None and not actor.is_staff:
        # A member's action is never audited: the log would point to them.
        raise ValueError("only staff actions are audited")
    db.add(
        AuditEntry(
            id=random_id(),
            day=day,
            actor=actor.username if actor is not None else None,
            action=action.value,
            subject=subject,
        )
    )
    db.flush()


@dataclass(frozen=True)
class AuditFilter:
    """What an admin asked to see; None means any."""

    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def _filtered(query: Select[Any], wanted: AuditFilter) -> Select[Any]:
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.since:
        query = query.where(AuditEntry.day >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.day <= wanted.until)
    return query


def entries(db: Session, wanted: AuditFilter, page: int) -> tuple[list[AuditEntry], int]:
    """One page of matching entries, newest day first, and how many match in all."""
    total = db.scalar(_filtered(select(func.count()).select_from(AuditEntry), wanted))
    rows: Any = db.scalars(
        _filtered(select(AuditEntry), wanted)
        .order_by(AuditEntry.day.desc(), AuditEntry.id)
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    )
    return list(rows), int(total or 0)


def actors(db: Session) -> list[str]:
    """Every staff username that appears in the log, for the filter."""
    return sorted(
        name
        for name in db.scalars(
            select(AuditEntry.actor).where(AuditEntry.actor.is_not(None)).distinct()
        )
        if name is not None
    )
