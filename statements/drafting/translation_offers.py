"""Translation as a contribution: offering one, accepting it, and the help-translate list.

Any member can offer the words of a section (or the title), a contribution or a reply in
another working language. The offer is a contribution of kind "translation", written
through the anonymous channel like a proposal and moderated like one; its language is
sealed inside its content, never a plain column (a language could single out the only
member who writes it). Which contribution or reply it translates is also a plain column,
`translates` (two anonymous items linked, never an account): an author's withdrawal or
edit, applied by the anonymous writes without any room key, deletes the translations of
the old words with them (statements/writes.py). An accepted translation is shown beside
the original, as a member's, and never replaces the original's words; accepting one of a
section writes that section's text in the language (translations.write_translation),
which makes it current. The row written then names nobody.

The help-translate list is built for people first, and for a machine later: each task
carries the words to translate, their language and the target language, and a
`suggestion` slot. A self-hosted translation engine can fill it (see Suggest and
docs/translation.md) for members to correct; nothing here ever sends text off the server.
Pure: no flask import.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.tags import tags_equal
from statements.drafting.access import CONTRIBUTION_TAG, RoomAccess
from statements.drafting.contributions import (
    MARKUP,
    contribution_record,
    contribution_write,
    pending_count,
    unshown_translations,
    visible_condition,
)
from statements.drafting.discussion import thread
from statements.drafting.errors import (
    ContributionNotFound,
    InvalidInput,
    NotAChange,
    NotPending,
    PendingCapReached,
    ReplyNotFound,
    UnknownSection,
    WrongState,
)
from statements.drafting.moderation import _decide, _moderatable
from statements.drafting.translations import (
    TranslationStatus,
    room_languages,
    section_texts,
    write_translation,
)
from statements.drafting.versions import MAX_SECTION, version
from statements.models import (
    TITLE_ANCHOR,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Reply,
    RoomState,
    random_id,
)
from statements.text.clean import clean_text
from statements.text.merge import has_any_conflict_marker

# A translation is at most as long as a section may be (a contribution's words are less).
MAX_TRANSLATION = MAX_SECTION
# While the text can still change: translating keeps up with consolidation too.
TRANSLATION_STATES = (RoomState.DRAFTING, RoomState.CONSOLIDATING)

# The plug for a self-hosted machine-translation engine: (text, from, into) -> a draft for
# a member to correct, or None. It must run on this server: no text ever leaves it.
Suggest = Callable[[str, str, str], str | None]


class TargetType(enum.StrEnum):
    """What a translation translates."""

    SECTION = "section"
    CONTRIBUTION = "contribution"
    REPLY = "reply"


@dataclass(frozen=True)
class Original:
    """The words a translation is offered for, with what the pages say about them."""

    type: str
    # A section's anchor (or "title"), a contribution's or a reply's id.
    id: str
    language: str
    text: str
    # The section the words belong to, for sections and contributions on a section.
    anchor: str | None
    # A reply's thread.
    contribution_id: str | None = None


def _contribution_data(access: RoomAccess, row: Contribution) -> dict[str, object]:
    return access.keyring.open(
        "contribution", contribution_record(row), row.key_version, row.content
    )


def find_original(db: Session, access: RoomAccess, target_type: str, target_id: str) -> Original:
    """The words of a section, contribution or reply this member may read.

    UnknownSection, ContributionNotFound or ReplyNotFound for anything else: a hidden or
    removed contribution, one this member may not see yet, another translation.
    """
    if not target_id or len(target_id) > 32:
        raise InvalidInput("target", "unknown")
    if target_type == TargetType.SECTION:
        sources = {
            text.anchor: text.source for text in section_texts(db, access, access.room.language)
        }
        if target_id not in sources:
            raise UnknownSection
        anchor = None if target_id == TITLE_ANCHOR else target_id
        return Original(target_type, target_id, access.room.language, sources[target_id], anchor)
    if target_type == TargetType.CONTRIBUTION:
        row = db.scalar(
            select(Contribution).where(
                Contribution.id == target_id,
                Contribution.room_id == access.room.id,
                Contribution.status.not_in([ContributionStatus.HIDDEN]),
                Contribution.kind != ContributionKind.TRANSLATION,
                visible_condition(db, access),
            )
        )
        if row is None:
            raise ContributionNotFound
        data = _contribution_data(access, row)
        if data.get("removed"):
            raise ContributionNotFound
        language = str(data.get("language") or access.room.language)
        return Original(target_type, row.id, language, str(data["text"]), row.anchor)
    if target_type == TargetType.REPLY:
        reply = db.get(Reply, target_id)
        if reply is None or reply.room_id != access.room.id:
            raise ReplyNotFound
        # The thread as this member sees it: a reply they may not read is not found.
        seen = next(
            (
                view
                for view in thread(db, access, reply.contribution_id).replies
                if view.id == reply.id
            ),
            None,
        )
        if seen is None or seen.removed:
            raise ReplyNotFound
        head = db.get(Contribution, reply.contribution_id)
        return Original(
            target_type,
            reply.id,
            seen.language or access.room.language,
            seen.text,
            head.anchor if head is not None else None,
            reply.contribution_id,
        )
    raise InvalidInput("target", "unknown")


def offer_translation(
    db: Session,
    access: RoomAccess,
    target_type: str,
    target_id: str,
    language: str,
    text: str,
    today: date,
) -> Contribution:
    """Offer the words of a section, the title, a contribution or a reply in another
    working language: a contribution of kind translation, through the anonymous channel."""
    if access.room.state not in TRANSLATION_STATES:
        raise WrongState(access.room.state)
    if language not in room_languages(access.room):
        raise InvalidInput("language", "unknown")
    original = find_original(db, access, target_type, target_id)
    if language == original.language:
        raise InvalidInput("language", "same")
    clean = clean_text(text, "text", MAX_TRANSLATION)
    if MARKUP.search(clean):
        raise InvalidInput("text", "markup")
    if has_any_conflict_marker(clean):
        raise InvalidInput("text", "conflict_markers")
    if pending_count(db, access) >= access.room.pending_cap:
        raise PendingCapReached(access.room.pending_cap)
    contribution = Contribution(
        id=random_id(),
        room_id=access.room.id,
        anchor=original.anchor,
        kind=ContributionKind.TRANSLATION,
        key_version=access.room.key_version,
        created_on=today,
        translates=None if original.type == TargetType.SECTION else original.id,
    )
    contribution.author_tag = access.tag(CONTRIBUTION_TAG, contribution.id)
    contribution.content = access.keyring.seal(
        "contribution",
        contribution_record(contribution),
        access.room.key_version,
        {
            "text": clean,
            "language": language,
            # The words translated, as they were: a section's translation is current only
            # while its source is still these words.
            "base": original.text,
            "base_version": access.room.current_version,
            "of": {"type": original.type, "id": original.id, "language": original.language},
        },
    )
    access.anonymous(db).put(contribution_write(contribution))
    return contribution


def accept_translation(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Accept a translation: shown beside its original; a section's becomes its text in
    the language, current while the source is still the words it translated."""
    contribution = _moderatable(db, access, contribution_id)
    if contribution.kind != ContributionKind.TRANSLATION:
        raise NotAChange
    data = _contribution_data(access, contribution)
    if data.get("removed"):
        raise NotPending
    of = data.get("of")
    if not isinstance(of, dict):
        raise NotAChange
    if of.get("type") == TargetType.SECTION:
        anchor = str(of["id"])
        if anchor != TITLE_ANCHOR:
            # A section merged away since cannot take a translation.
            version(db, access).section(anchor)
        write_translation(
            db, access, anchor, str(data["language"]), str(data["text"]), str(data["base"])
        )
    _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)


@dataclass(frozen=True)
class Translated:
    """A member's translation as it is shown beside its original."""

    id: str
    language: str
    text: str
    status: str
    mine: bool


def translations_beside(db: Session, access: RoomAccess) -> dict[str, list[Translated]]:
    """Visible translations by what they translate (a contribution's or reply's id, or a
    section's anchor), accepted and still pending ones (never rejected or hidden)."""
    rows = db.scalars(
        select(Contribution).where(
            Contribution.room_id == access.room.id,
            Contribution.kind == ContributionKind.TRANSLATION,
            Contribution.status.in_([ContributionStatus.PENDING, ContributionStatus.ACCEPTED]),
            visible_condition(db, access),
        )
    )
    opened = {row.id: (row, _contribution_data(access, row)) for row in rows}
    # Words hidden, withdrawn or edited away since do not come back through a translation.
    unshown = unshown_translations(db, access, {i: data for i, (_, data) in opened.items()})
    found: dict[str, list[Translated]] = defaultdict(list)
    for row, data in opened.values():
        of = data.get("of")
        if data.get("removed") or not isinstance(of, dict) or row.id in unshown:
            continue
        found[str(of["id"])].append(
            Translated(
                row.id,
                str(data["language"]),
                str(data["text"]),
                row.status,
                tags_equal(row.author_tag, access.tag(CONTRIBUTION_TAG, row.id)),
            )
        )
    for items in found.values():
        items.sort(
            key=lambda item: (item.status != ContributionStatus.ACCEPTED, item.language, item.id)
        )
    return dict(found)


@dataclass(frozen=True)
class TranslationTask:
    """Something waiting for its words in a language: a section (or the title) missing or
    out of date there, or a contribution nobody has translated into it yet."""

    language: str
    target_type: str
    target_id: str
    anchor: str | None
    source_language: str
    # The words to translate.
    source: str
    status: TranslationStatus
    # An out-of-date section: the source words its translation was made from, and that
    # translation (the diff between the two sources is what needs translating again).
    translated_from: str = ""
    previous: str | None = None
    # A draft from a self-hosted translation engine, for a member to correct.
    suggestion: str | None = None


def help_translate(
    db: Session,
    access: RoomAccess,
    languages: Sequence[str] | None = None,
    suggest: Suggest | None = None,
) -> list[TranslationTask]:
    """What waits for a translation in each of these languages (every room language by
    default): sections and the title first, in draft order, then contributions."""
    wanted = [
        code
        for code in (languages or room_languages(access.room))
        if code in room_languages(access.room)
    ]
    tasks: list[TranslationTask] = []
    current = version(db, access)
    for language in wanted:
        if language == access.room.language:
            continue
        for text in section_texts(db, access, language, current):
            if text.status == TranslationStatus.CURRENT:
                continue
            tasks.append(
                TranslationTask(
                    language=language,
                    target_type=TargetType.SECTION,
                    target_id=text.anchor,
                    anchor=None if text.anchor == TITLE_ANCHOR else text.anchor,
                    source_language=access.room.language,
                    source=text.source,
                    status=text.status,
                    translated_from=text.translated_from,
                    previous=text.translation,
                )
            )
    tasks.extend(_contribution_tasks(db, access, wanted))
    if suggest is not None:
        tasks = [
            replace(task, suggestion=suggest(task.source, task.source_language, task.language))
            for task in tasks
        ]
    return tasks


def _contribution_tasks(
    db: Session, access: RoomAccess, languages: Sequence[str]
) -> list[TranslationTask]:
    """Contributions still open or decided in their favour, in each language they are not
    written in and not yet translated into (an offer waiting for moderation counts)."""
    rows = db.scalars(
        select(Contribution)
        .where(
            Contribution.room_id == access.room.id,
            Contribution.kind != ContributionKind.TRANSLATION,
            Contribution.status.in_(
                [
                    ContributionStatus.PENDING,
                    ContributionStatus.ACCEPTED,
                    ContributionStatus.ADDRESSED,
                ]
            ),
            visible_condition(db, access),
        )
        .order_by(Contribution.id)
    )
    beside = translations_beside(db, access)
    tasks = []
    for row in rows:
        data = _contribution_data(access, row)
        if data.get("removed"):
            continue
        written_in = str(data.get("language") or access.room.language)
        have = {item.language for item in beside.get(row.id, [])}
        for language in languages:
            if language == written_in or language in have:
                continue
            tasks.append(
                TranslationTask(
                    language=language,
                    target_type=TargetType.CONTRIBUTION,
                    target_id=row.id,
                    anchor=row.anchor,
                    source_language=written_in,
                    source=str(data["text"]),
                    status=TranslationStatus.MISSING,
                )
            )
    return tasks


def awaiting_source_translation(db: Session, access: RoomAccess) -> list[TranslationTask]:
    """For the coordinators' moderation: contributions written in another working
    language that nobody has translated into the room's source language yet.

    None in a room that works in one language only, whatever it once worked in: its
    pages treat it as having nothing to translate (no "Help translate", no "written in"),
    and a contribution's language is sealed in its words, so finding any would open every
    contribution of the room on each visit to the queue.
    """
    access.require_coordinator()
    if len(room_languages(access.room)) < 2:
        return []
    return _contribution_tasks(db, access, [access.room.language])
