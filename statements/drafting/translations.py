"""The draft in every working language: section translations and their status.

A room has a source language (Room.language) and working languages
(Room.working_languages). Each section of the source draft, and the room's title, has
a text in each working language, stored as a SectionTranslation row keyed by room,
anchor and language, sealed under the room key together with the source text it was
made from. Its status is derived, never stored: current while the source section is
still that text, out of date once the source changed (the word diff since is shown),
missing when there is no translation. So accepting a change to a source section makes
every other language's translation of it out of date with no write at all.

A translation row is written only when a coordinator accepts a member's translation
(translation_offers.py): it names nobody and is written in the coordinator's request.
Pure: no flask import.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.drafting.access import RoomAccess
from statements.drafting.versions import Version, version
from statements.models import TITLE_ANCHOR, Room, SectionTranslation, random_id
from statements.text.markdown import Section, join_sections

# What a translation's ciphertext is bound to (with its row id, room and key version).
TRANSLATION_RECORD = "section-translation"


class TranslationStatus(enum.StrEnum):
    """Where a text in a working language stands against the source."""

    CURRENT = "current"
    OUT_OF_DATE = "out-of-date"
    MISSING = "missing"


@dataclass(frozen=True)
class LanguageText:
    """The whole draft in one language, as publication and the pages take it."""

    language: str
    # The title in this language (the source title where untranslated).
    title: str
    # The whole draft in this language (the source section's text where untranslated).
    markdown: str
    # CURRENT only if the title and every section are current; MISSING while no part of
    # it is translated; OUT_OF_DATE otherwise (some part missing or out of date).
    status: TranslationStatus
    # How many sections are out of date or missing (the title not counted).
    stale_sections: int


@dataclass(frozen=True)
class SectionText:
    """One section (or the title) in one language, beside its source."""

    anchor: str
    language: str
    # The source text now.
    source: str
    # The translation, None when missing.
    translation: str | None
    # The source text the translation was made from ("" when missing).
    translated_from: str
    status: TranslationStatus

    @property
    def text(self) -> str:
        """What a reader of this language reads: the translation, or else the source."""
        return self.translation if self.translation is not None else self.source


def parse_languages(value: str) -> list[str]:
    """A room's working languages as stored: space-separated codes."""
    return [code for code in value.split() if code]


def room_languages(room: Room) -> list[str]:
    """Every language the room's draft is kept in: the source first, then working languages."""
    working = [code for code in parse_languages(room.working_languages) if code != room.language]
    return [room.language, *dict.fromkeys(working)]


def _record(row: SectionTranslation) -> str:
    return f"{row.id}:{row.anchor}:{row.language}"


@dataclass(frozen=True)
class StoredTranslation:
    """A translation as stored: its words and the source text they translate."""

    markdown: str
    source: str
    source_version: int


def stored_translations(
    db: Session, access: RoomAccess, language: str | None = None
) -> dict[tuple[str, str], StoredTranslation]:
    """The room's translations by (anchor, language), each decrypted once."""
    query = select(SectionTranslation).where(SectionTranslation.room_id == access.room.id)
    if language is not None:
        query = query.where(SectionTranslation.language == language)
    found = {}
    for row in db.scalars(query):
        data = access.keyring.open(TRANSLATION_RECORD, _record(row), row.key_version, row.content)
        found[(row.anchor, row.language)] = StoredTranslation(
            str(data["markdown"]), str(data["source"]), int(data.get("source_version", 0))
        )
    return found


def _status(stored: StoredTranslation | None, source: str) -> TranslationStatus:
    if stored is None:
        return TranslationStatus.MISSING
    if stored.source == source:
        return TranslationStatus.CURRENT
    return TranslationStatus.OUT_OF_DATE


def section_texts(
    db: Session,
    access: RoomAccess,
    language: str,
    current: Version | None = None,
    stored: dict[tuple[str, str], StoredTranslation] | None = None,
) -> list[SectionText]:
    """The title, then every section, in one language beside the source, with status."""
    current = current if current is not None else version(db, access)
    if stored is None:
        stored = stored_translations(db, access, language)
    sources = [(TITLE_ANCHOR, access.details()["title"])]
    sources += [(section.anchor, section.markdown) for section in current.sections]
    texts = []
    for anchor, source in sources:
        if language == access.room.language:
            texts.append(
                SectionText(anchor, language, source, source, source, TranslationStatus.CURRENT)
            )
            continue
        found = stored.get((anchor, language))
        texts.append(
            SectionText(
                anchor=anchor,
                language=language,
                source=source,
                translation=found.markdown if found else None,
                translated_from=found.source if found else "",
                status=_status(found, source),
            )
        )
    return texts


def language_texts(db: Session, access: RoomAccess) -> list[LanguageText]:
    """The draft in each of the room's languages, the source first (always CURRENT)."""
    current = version(db, access)
    stored = stored_translations(db, access)
    result = []
    for language in room_languages(access.room):
        texts = section_texts(db, access, language, current, stored)
        title, sections = texts[0], texts[1:]
        stale = sum(1 for text in sections if text.status != TranslationStatus.CURRENT)
        if all(text.status == TranslationStatus.CURRENT for text in texts):
            status = TranslationStatus.CURRENT
        elif all(text.status == TranslationStatus.MISSING for text in texts):
            status = TranslationStatus.MISSING
        else:
            status = TranslationStatus.OUT_OF_DATE
        result.append(
            LanguageText(
                language=language,
                title=title.text,
                markdown=join_sections([Section(text.anchor, text.text) for text in sections]),
                status=status,
                stale_sections=stale,
            )
        )
    return result


def write_translation(
    db: Session, access: RoomAccess, anchor: str, language: str, markdown: str, source: str
) -> None:
    """Store (or replace) a section's or the title's text in a working language.

    Called by a coordinator's decision only: the row says nothing of who translated.
    """
    access.require_coordinator()
    row = db.scalar(
        select(SectionTranslation).where(
            SectionTranslation.room_id == access.room.id,
            SectionTranslation.anchor == anchor,
            SectionTranslation.language == language,
        )
    )
    if row is None:
        row = SectionTranslation(
            id=random_id(), room_id=access.room.id, anchor=anchor, language=language
        )
        db.add(row)
    row.key_version = access.room.key_version
    row.content = access.keyring.seal(
        TRANSLATION_RECORD,
        _record(row),
        access.room.key_version,
        {"markdown": markdown, "source": source, "source_version": access.room.current_version},
    )
    db.flush()
