"""The draft in every working language: status derived from the source, the language
texts publication takes, working languages and each member's reading language."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.errors import InvalidInput, NotCoordinator
from statements.drafting.room_languages import (
    LANGUAGE_TAG,
    choose_language,
    reading_language,
    set_working_languages,
)
from statements.drafting.translations import (
    LanguageText,
    TranslationStatus,
    language_texts,
    room_languages,
    section_texts,
    write_translation,
)
from statements.models import TITLE_ANCHOR, LanguageChoice, Room, SectionTranslation
from tests.support import app_today, make_room


@pytest.fixture
def multilingual(session: Session, coordinator: Identity) -> str:
    return make_room(session, coordinator, working_languages=("fa", "my"))


def test_room_languages_put_the_source_first(session: Session, multilingual: str) -> None:
    room = session.get(Room, multilingual)
    assert room is not None
    assert room_languages(room) == ["en", "fa", "my"]


def test_opening_refuses_unknown_or_source_working_languages(
    session: Session, coordinator: Identity
) -> None:
    with pytest.raises(InvalidInput) as unknown:
        make_room(session, coordinator, working_languages=("xx",))
    assert unknown.value.reason == "unknown"
    with pytest.raises(InvalidInput) as source:
        make_room(session, coordinator, working_languages=("en",))
    assert source.value.reason == "source"


def test_a_new_language_is_missing_and_the_source_current(
    session: Session, coordinator: Identity, multilingual: str
) -> None:
    access = drafting.open_room(session, multilingual, coordinator)
    texts = language_texts(session, access)
    assert [text.language for text in texts] == ["en", "fa", "my"]
    source, farsi, _burmese = texts
    current = drafting.version(session, access)
    assert source == LanguageText(
        "en", "Right to work", current.markdown, TranslationStatus.CURRENT, 0
    )
    assert farsi.status == TranslationStatus.MISSING
    assert farsi.stale_sections == len(current.sections)
    # Untranslated, the reader gets the source's words.
    assert farsi.title == "Right to work"
    assert farsi.markdown == current.markdown


def _translate_all(session: Session, coordinator: Identity, room_id: str, language: str) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    for text in section_texts(session, access, language):
        write_translation(
            session, access, text.anchor, language, f"[{language}] {text.source}", text.source
        )


def test_translated_sections_are_current_until_the_source_changes(
    session: Session, coordinator: Identity, multilingual: str
) -> None:
    _translate_all(session, coordinator, multilingual, "fa")
    access = drafting.open_room(session, multilingual, coordinator)
    farsi = language_texts(session, access)[1]
    assert farsi.status == TranslationStatus.CURRENT
    assert farsi.stale_sections == 0
    assert farsi.title == "[fa] Right to work"
    assert "[fa] " in farsi.markdown
    current = drafting.version(session, access)
    first = current.sections[0]
    edited = current.markdown.replace(first.markdown, first.markdown + " Now.", 1)
    drafting.edit_draft(session, access, edited, "A change", current.number, app_today())
    farsi = language_texts(session, access)[1]
    assert farsi.status == TranslationStatus.OUT_OF_DATE
    assert farsi.stale_sections == 1
    [stale] = [
        text
        for text in section_texts(session, access, "fa")
        if text.status == TranslationStatus.OUT_OF_DATE
    ]
    assert stale.anchor == first.anchor
    assert stale.translated_from == first.markdown
    assert stale.source == first.markdown + " Now."
    # The source stays current, whatever the translations say.
    assert language_texts(session, access)[0].status == TranslationStatus.CURRENT


def test_only_coordinators_write_translations(
    session: Session, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(NotCoordinator):
        write_translation(session, access, TITLE_ANCHOR, "fa", "x", "Right to work")
    assert session.scalar(select(SectionTranslation)) is None


def test_working_languages_change_and_are_logged(
    session: Session, coordinator: Identity, multilingual: str
) -> None:
    access = drafting.open_room(session, multilingual, coordinator)
    set_working_languages(session, access, ["ps", "fa"], app_today())
    assert room_languages(access.room) == ["en", "ps", "fa"]
    [line, *_rest] = drafting.moderation_log(session, access, 1)
    assert line.action == "languages"
    with pytest.raises(InvalidInput):
        set_working_languages(session, access, ["zz"], app_today())
    with pytest.raises(InvalidInput):
        set_working_languages(session, access, ["en"], app_today())


def test_members_cannot_change_working_languages(
    session: Session, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(NotCoordinator):
        set_working_languages(session, access, ["fa"], app_today())


def test_reading_language_is_remembered_per_member(
    session: Session, coordinator: Identity, member: Identity, multilingual: str
) -> None:
    from tests.support import join_room

    join_room(session, coordinator, multilingual, member)
    access = drafting.open_room(session, multilingual, member)
    assert reading_language(session, access) == "en"
    choose_language(session, access, "my")
    assert reading_language(session, access) == "my"
    # Someone else's choice is theirs: the coordinator still reads the source.
    assert reading_language(session, drafting.open_room(session, multilingual, coordinator)) == "en"
    with pytest.raises(InvalidInput):
        choose_language(session, access, "ps")
    # A language the room no longer works in falls back to the source.
    set_working_languages(
        session, drafting.open_room(session, multilingual, coordinator), ["fa"], app_today()
    )
    assert reading_language(session, drafting.open_room(session, multilingual, member)) == "en"
    # One row, keyed by the member's tag, holding a ciphertext and nothing else.
    [choice] = session.scalars(select(LanguageChoice))
    assert choice.tag == access.tag(LANGUAGE_TAG, multilingual)
    assert len(choice.content) > len("my")
