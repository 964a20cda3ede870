"""Draft versions: the sections of each version, coordinators' edits, and the draft limits.

Every version is sealed whole under the room key; a new one is saved only if the draft
is still at the version its editor saw, so no edit overwrites another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statements.drafting.access import PAGE_SIZE, Keyring, RoomAccess
from statements.drafting.errors import (
    InvalidInput,
    MergeNeeded,
    UnknownSection,
    VersionConflict,
    VersionNotFound,
    WrongState,
)
from statements.drafting.log import log_action
from statements.models import DraftVersion, Room, RoomState, random_id
from statements.text.clean import MAX_NOTE, clean_text
from statements.text.markdown import Section, join_sections, sections_from_markdown
from statements.text.merge import Labels, ThreeWay, has_conflict_markers, merge_drafts

# A joint statement is a few thousand words. These leave room for long ones while keeping
# every comparison of two versions, and every page that shows one, cheap (see diff.py).
MAX_DRAFT = 200_000
MAX_SECTION = 20_000


def draft_length(blocks: Sequence[str]) -> int:
    """Characters of a draft as stored: its blocks, one blank line between each two."""
    return sum(len(block) for block in blocks) + 2 * max(len(blocks) - 1, 0)


def check_draft_size(sections: Sequence[Section], field_name: str = "markdown") -> None:
    """InvalidInput unless the draft and each of its sections are within the limits."""
    if any(len(section.markdown) > MAX_SECTION for section in sections):
        raise InvalidInput(field_name, "section_too_long")
    if draft_length([section.markdown for section in sections]) > MAX_DRAFT:
        raise InvalidInput(field_name, "too_long")


@dataclass(frozen=True)
class Version:
    """A decrypted draft version."""

    number: int
    sections: list[Section]
    note: str
    created_on: date

    @property
    def markdown(self) -> str:
        """The whole document."""
        return join_sections(self.sections)

    def section(self, anchor: str) -> Section:
        """One section by anchor."""
        for section in self.sections:
            if section.anchor == anchor:
                return section
        raise UnknownSection


def _version_record(row: DraftVersion) -> str:
    """What a version's ciphertext is bound to: its row and its number in the room."""
    return f"{row.id}:{row.number}"


def add_version(
    db: Session,
    room: Room,
    keyring: Keyring,
    number: int,
    sections: Sequence[Section],
    note: str,
    today: date,
) -> DraftVersion:
    """Add a draft version, encrypted under the room's current key."""
    row = DraftVersion(
        id=random_id(),
        room_id=room.id,
        number=number,
        key_version=room.key_version,
        created_on=today,
    )
    row.content = keyring.seal(
        "version",
        _version_record(row),
        room.key_version,
        {
            "sections": [{"anchor": s.anchor, "markdown": s.markdown} for s in sections],
            "note": note,
        },
    )
    db.add(row)
    return row


def _decode_version(keyring: Keyring, row: DraftVersion) -> Version:
    data = keyring.open("version", _version_record(row), row.key_version, row.content)
    return Version(
        number=row.number,
        sections=[Section(s["anchor"], s["markdown"]) for s in data["sections"]],
        note=str(data["note"]),
        created_on=row.created_on,
    )


def version(db: Session, access: RoomAccess, number: int | None = None) -> Version:
    """One version of the draft (the current one by default)."""
    wanted = access.room.current_version if number is None else number
    # A version never changes once written; the key version and the seal are in the key
    # so that a room re-keyed or sealed in this request is read afresh.
    memo = (wanted, access.room.key_version, bool(access.room.sealed))
    found: Version | None = access.opened.get(memo)
    if found is not None:
        return found
    row = db.scalar(
        select(DraftVersion).where(
            DraftVersion.room_id == access.room.id, DraftVersion.number == wanted
        )
    )
    if row is None:
        raise VersionNotFound
    found = access.opened[memo] = _decode_version(access.keyring, row)
    return found


def versions(db: Session, access: RoomAccess, page: int | None = None) -> list[Version]:
    """Every version, newest first; or one page of them, each decrypted once."""
    query = (
        select(DraftVersion)
        .where(DraftVersion.room_id == access.room.id)
        .order_by(DraftVersion.number.desc())
    )
    if page is not None:
        query = query.limit(PAGE_SIZE).offset(max(page - 1, 0) * PAGE_SIZE)
    return [_decode_version(access.keyring, row) for row in db.scalars(query)]


def commit_version(
    db: Session,
    access: RoomAccess,
    expected: int,
    sections: Sequence[Section],
    note: str,
    today: date,
) -> int:
    """Save a new version if the draft is still at `expected`; else VersionConflict.

    Whatever path a text took here, one still holding conflict markers is refused.
    """
    if any(has_conflict_markers(section.markdown) for section in sections):
        raise InvalidInput("text", "conflict_markers")
    room = access.room
    result = db.execute(
        update(Room)
        .where(Room.id == room.id, Room.current_version == expected)
        .values(current_version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.refresh(room)
        raise VersionConflict(room.current_version)
    room.current_version = expected + 1
    add_version(db, room, access.keyring, expected + 1, sections, note, today)
    db.flush()
    return expected + 1


def edit_draft(
    db: Session,
    access: RoomAccess,
    markdown: str,
    note: str,
    expected: int,
    today: date,
    labels: Labels | None = None,
) -> int:
    """A coordinator's direct edit of the whole draft: a new version with a change note.

    If another coordinator saved a version since this editor started from `expected`, the
    two edits are merged three ways against `expected`: when they changed different
    sections the merge is saved; when they touched the same one, MergeNeeded carries the
    merge (conflicts marked) for the editor to check. Their stale text is never saved
    over the newer version, and text still holding conflict markers is refused.
    """
    access.require_coordinator()
    _writable(access.room)
    text = clean_text(markdown, "markdown", MAX_DRAFT)
    note = clean_text(note, "note", MAX_NOTE)
    if has_conflict_markers(text):
        raise InvalidInput("markdown", "conflict_markers")
    current = version(db, access)
    if expected != current.number:
        text = _merged_draft(db, access, expected, current, text, labels)
    sections = sections_from_markdown(text, current.sections)
    check_draft_size(sections)
    try:
        number = commit_version(db, access, current.number, sections, note, today)
    except VersionConflict:
        # Saved by someone else between reading the draft and saving it: merge again.
        newer = version(db, access)
        text = _merged_draft(db, access, current.number, newer, text, labels)
        sections = sections_from_markdown(text, newer.sections)
        check_draft_size(sections)
        number = commit_version(db, access, newer.number, sections, note, today)
    log_action(db, access, today, "edited", version=number)
    return number


def _merged_draft(
    db: Session,
    access: RoomAccess,
    started_from: int,
    current: Version,
    text: str,
    labels: Labels | None,
) -> str:
    """An editor's text merged with the versions saved since the one they started from."""
    base = ""
    if 0 < started_from < current.number:
        base = version(db, access, started_from).markdown
    merged = merge_drafts(base, current.markdown, text, labels)
    if merged.overlapping:
        raise MergeNeeded(
            ThreeWay(base, current.markdown, text, merged.text, merged.conflicts), current.number
        )
    return merged.text


def _writable(room: Room) -> None:
    if room.state not in (RoomState.DRAFTING, RoomState.CONSOLIDATING):
        raise WrongState(room.state)
