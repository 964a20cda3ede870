"""The pages that list contributions: a room's, page by page in section order, and a
member's own ("Yours"), each item with its counts and what this member did to it.

What a member has queued shows to them at once (the overlays), to others once its batch
is in; the counts never say who.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crypto.tags import tags_equal
from statements.drafting.access import (
    CONTRIBUTION_TAG,
    FLAG_TAG,
    PAGE_SIZE,
    SUPPORT_TAG,
    RoomAccess,
)
from statements.drafting.contributions import (
    contribution_record,
    flagged_condition,
    from_write,
    own_ids,
    queued_flags,
    queued_supports,
    queued_wording,
    unshown_translations,
    visible_condition,
)
from statements.drafting.versions import Version, version
from statements.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Flag,
    Support,
)


@dataclass(frozen=True)
class ContributionView:
    """A contribution as a page shows it: never who wrote it, nor when beyond the day."""

    id: str
    anchor: str | None
    kind: str
    status: str
    text: str
    created_on: date
    supports: int
    mine: bool
    supported: bool
    reason: str | None = None
    note: str | None = None
    # Its words were destroyed (rejected as unsafe, or hidden): only a placeholder is left.
    removed: bool = False
    released: bool = False
    # This member has asked for a safety review of it.
    flagged: bool = False
    # How many members asked for a safety review: for the coordinators only.
    flags: int = 0
    # A proposed change: the section text it was written against (and that version's
    # number), and the section's text now (None once the section is gone).
    base: str = ""
    base_version: int = 0
    section_now: str | None = None
    # The language it is written in, as its author said (sealed in its content); "" for
    # contributions from before rooms had working languages: the room's language.
    language: str = ""
    # A translation: what it translates ({"type": ..., "id": ...}, see translation_offers).
    translates: dict[str, str] | None = None

    @property
    def is_change(self) -> bool:
        """An amendment or addition whose words can be shown as a change to its section."""
        return (
            self.kind in (ContributionKind.AMENDMENT, ContributionKind.ADDITION)
            and self.anchor is not None
            and bool(self.text)
        )

    def applied_to(self, section: str) -> str:
        """The section as this change would leave it: replaced, or followed by the addition."""
        if self.kind == ContributionKind.ADDITION:
            return f"{section}\n\n{self.text}"
        return self.text

    @property
    def section_changed(self) -> bool:
        """The section is no longer the text this change was written against."""
        return self.section_now is not None and self.section_now != self.base


def _section_order(current: Version) -> Any:
    """An ORDER BY that puts contributions in section order, then by random id."""
    positions = {section.anchor: index for index, section in enumerate(current.sections)}
    if not positions:
        return Contribution.id
    return case(positions, value=Contribution.anchor, else_=len(positions))


def contributions_page(
    db: Session,
    access: RoomAccess,
    page: int,
    *,
    statuses: Sequence[str] | None = None,
    anchor: str | None = None,
    kind: str | None = None,
    flagged_first: bool = False,
) -> tuple[list[ContributionView], int]:
    """A page of contributions in section order, decrypted once each, and the total.

    Members see what visible_condition lets them; the statuses filter serves the
    moderation queue, which puts flagged ones first. The order (flags, section, then
    random id) does not reveal submission.
    """
    current = version(db, access)
    if statuses is None:
        statuses = [s for s in ContributionStatus if s != ContributionStatus.HIDDEN]
    conditions = [
        Contribution.room_id == access.room.id,
        Contribution.status.in_(statuses),
        visible_condition(db, access),
    ]
    if anchor:
        conditions.append(Contribution.anchor == anchor)
    if kind:
        conditions.append(Contribution.kind == kind)
    total = db.scalar(select(func.count()).select_from(Contribution).where(*conditions)) or 0
    order = [case((flagged_condition, 0), else_=1)] if flagged_first else []
    rows = list(
        db.scalars(
            select(Contribution)
            .where(*conditions)
            .order_by(*order, _section_order(current), Contribution.id)
            .limit(PAGE_SIZE)
            .offset(max(page - 1, 0) * PAGE_SIZE)
        )
    )
    return _views(db, access, rows, current), int(total)


def my_contributions(db: Session, access: RoomAccess) -> list[ContributionView]:
    """This member's own contributions with their status and any reason, queued ones
    included: a member sees what they sent at once, others when its batch is in."""
    mine = own_ids(db, access, pending_only=False)
    queued = {
        str(w.row["id"]): from_write(w) for w in queued_wording(access, db) if w.row["id"] in mine
    }
    stored = {
        row.id: row for row in db.scalars(select(Contribution).where(Contribution.id.in_(mine)))
    }
    own = []
    for cid in mine:
        row = stored.get(cid)
        # A queued submission, or a queued edit of one still pending, shows as queued.
        if cid in queued and (row is None or row.status == ContributionStatus.PENDING):
            row = queued[cid]
        if row is not None:
            own.append(row)
    current = version(db, access)
    positions = {s.anchor: i for i, s in enumerate(current.sections)}
    result = _views(db, access, own, current)
    result.sort(key=lambda view: (positions.get(view.anchor or "", -1), view.id))
    return result


def _counts(db: Session, model: type[Support] | type[Flag], ids: list[str]) -> dict[str, int]:
    """How many supports (or flags) each of these contributions has."""
    rows = db.execute(
        select(model.contribution_id, func.count())
        .where(model.contribution_id.in_(ids))
        .group_by(model.contribution_id)
    )
    return {cid: int(n) for cid, n in rows}


def _marked_by_me(
    db: Session, model: type[Support] | type[Flag], ids: list[str], my_tags: list[bytes]
) -> set[str]:
    """Which of these contributions this member supported (or flagged), by their tags."""
    return set(
        db.scalars(
            select(model.contribution_id).where(
                model.contribution_id.in_(ids), model.tag.in_(my_tags)
            )
        )
    )


def _views(
    db: Session, access: RoomAccess, rows: Sequence[Contribution], current: Version
) -> list[ContributionView]:
    """Contributions as pages show them: each decrypted once, supports in two queries,
    each change beside its section as written then and as it is now (no query more)."""
    sections = {section.anchor: section.markdown for section in current.sections}
    ids = [row.id for row in rows]
    counts: dict[str, int] = {}
    supported: set[str] = set()
    flag_counts: dict[str, int] = {}
    flagged: set[str] = set()
    if ids:
        counts = _counts(db, Support, ids)
        supported = _marked_by_me(db, Support, ids, [access.tag(SUPPORT_TAG, c) for c in ids])
        if access.is_coordinator:
            flag_counts = _counts(db, Flag, ids)
        flagged = _marked_by_me(db, Flag, ids, [access.tag(FLAG_TAG, c) for c in ids]) | (
            queued_flags(db, access) & set(ids)
        )
        # This member's own queued +1s show at once, in their count too.
        for cid, wanted in queued_supports(db, access).items():
            if cid in ids and wanted != (cid in supported):
                counts[cid] = counts.get(cid, 0) + (1 if wanted else -1)
                supported.symmetric_difference_update({cid})
    opened = {
        row.id: access.keyring.open(
            "contribution", contribution_record(row), row.key_version, row.content
        )
        for row in rows
    }
    unshown = unshown_translations(
        db,
        access,
        {row.id: opened[row.id] for row in rows if row.kind == ContributionKind.TRANSLATION},
    )
    views = []
    for row in rows:
        record = contribution_record(row)
        data = opened[row.id]
        decision = (
            access.keyring.open("decision", record, row.decision_key_version or 0, row.decision)
            if row.decision
            else {}
        )
        own = tags_equal(row.author_tag, access.tag(CONTRIBUTION_TAG, row.id))
        # A rejection's reason is for its author and the coordinators.
        told = own or access.is_coordinator
        # A translation of words hidden or withdrawn since shows none of them.
        removed = bool(data.get("removed")) or row.id in unshown
        views.append(
            ContributionView(
                id=row.id,
                anchor=row.anchor,
                kind=row.kind,
                status=row.status,
                # Hidden text is for the coordinators' eyes only, the author's included.
                text=""
                if removed
                or (row.status == ContributionStatus.HIDDEN and not access.is_coordinator)
                else str(data["text"]),
                created_on=row.created_on,
                supports=counts.get(row.id, 0),
                mine=own,
                supported=row.id in supported,
                reason=decision.get("reason") if told else None,
                note=decision.get("note") if told else None,
                removed=removed,
                released=bool(row.released),
                flagged=row.id in flagged,
                flags=flag_counts.get(row.id, 0),
                base="" if removed else str(data.get("base", "")),
                base_version=int(data.get("base_version", 0)),
                section_now=sections.get(row.anchor) if row.anchor else None,
                language=str(data.get("language") or access.room.language),
                translates=data.get("of"),
            )
        )
    return views
