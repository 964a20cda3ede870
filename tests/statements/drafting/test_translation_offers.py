"""Translation as a contribution: offering, moderating and accepting translations of
sections, contributions and replies, the help-translate list, and bad offers refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.access import Keyring
from statements.drafting.contributions import contribution_record
from statements.drafting.discussion import submit_reply
from statements.drafting.errors import (
    ContributionNotFound,
    InvalidInput,
    NotAChange,
    NotCoordinator,
    ReplyNotFound,
    UnknownSection,
)
from statements.drafting.room_languages import set_working_languages
from statements.drafting.translation_offers import (
    MAX_TRANSLATION,
    accept_translation,
    awaiting_source_translation,
    find_original,
    help_translate,
    offer_translation,
    translations_beside,
)
from statements.drafting.translations import TranslationStatus, language_texts, section_texts
from statements.models import (
    TITLE_ANCHOR,
    Contribution,
    ContributionKind,
    ContributionStatus,
    ModerationMode,
)
from tests.support import app_today, join_room, make_room, member_identity


@pytest.fixture
def room(session: Session, coordinator: Identity) -> str:
    return make_room(session, coordinator, working_languages=("fa", "my"))


@pytest.fixture
def writer(app: Flask, session: Session, coordinator: Identity, room: str) -> Identity:
    identity = member_identity(app, session)
    join_room(session, coordinator, room, identity)
    return identity


def _first_anchor(session: Session, identity: Identity, room: str) -> str:
    access = drafting.open_room(session, room, identity)
    return drafting.version(session, access).sections[0].anchor


def test_a_contribution_records_its_language_sealed(
    session: Session, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    drafting.submit_contribution(
        session, access, "comment", None, "نظر من", app_today(), language="fa"
    )
    [view] = drafting.my_contributions(session, access)
    assert view.language == "fa"
    row = session.scalar(select(Contribution))
    assert row is not None
    # Not a column: only inside the sealed content, which the room key opens.
    assert not [column for column in Contribution.__table__.columns if "lang" in column.name]
    access_data = access.keyring.open(
        "contribution", contribution_record(row), row.key_version, row.content
    )
    assert access_data["language"] == "fa"
    with pytest.raises(InvalidInput):
        drafting.submit_contribution(
            session, access, "comment", None, "x", app_today(), language="ps"
        )
    with pytest.raises(InvalidInput):
        drafting.submit_contribution(
            session, access, ContributionKind.TRANSLATION, None, "x", app_today()
        )


def test_a_section_translation_accepted_makes_the_section_current(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    anchor = _first_anchor(session, writer, room)
    access = drafting.open_room(session, room, writer)
    offer = offer_translation(session, access, "section", anchor, "fa", "متن فارسی", app_today())
    assert offer.kind == ContributionKind.TRANSLATION
    tasks = help_translate(session, access, ["fa"])
    # Offered but not accepted: the section is still missing in Farsi.
    assert any(task.target_id == anchor for task in tasks)
    chief = drafting.open_room(session, room, coordinator)
    with pytest.raises(NotAChange):
        drafting.accept(session, chief, offer.id, chief.room.current_version, app_today())
    with pytest.raises(NotCoordinator):
        accept_translation(session, access, offer.id, app_today())
    accept_translation(session, chief, offer.id, app_today())
    [texts] = [text for text in section_texts(session, chief, "fa") if text.anchor == anchor]
    assert texts.status == TranslationStatus.CURRENT
    assert texts.translation == "متن فارسی"
    assert all(task.target_id != anchor for task in help_translate(session, access, ["fa"]))
    # The original's words stay; the translation shows beside it as accepted.
    [beside] = translations_beside(session, access)[anchor]
    assert (beside.language, beside.status, beside.mine) == ("fa", "accepted", True)
    # An accepted change to the source section makes the Farsi out of date again.
    change = drafting.submit_contribution(
        session, access, "amendment", anchor, "New words.", app_today()
    )
    drafting.accept(session, chief, change.id, chief.room.current_version, app_today())
    [stale] = [task for task in help_translate(session, access, ["fa"]) if task.target_id == anchor]
    assert stale.status == TranslationStatus.OUT_OF_DATE
    assert stale.previous == "متن فارسی"
    assert stale.source == "New words."
    assert language_texts(session, chief)[1].status == TranslationStatus.OUT_OF_DATE


def test_the_title_can_be_translated(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    offer = offer_translation(
        session, access, "section", TITLE_ANCHOR, "my", "အလုပ်လုပ်ခွင့်", app_today()
    )
    accept_translation(
        session, drafting.open_room(session, room, coordinator), offer.id, app_today()
    )
    burmese = language_texts(session, drafting.open_room(session, room, coordinator))[2]
    assert burmese.title == "အလုပ်လုပ်ခွင့်"


def test_translating_a_contribution_and_what_awaits_the_source_language(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    farsi = drafting.submit_contribution(
        session, access, "comment", None, "این قانون را نام ببرید", app_today(), language="fa"
    )
    chief = drafting.open_room(session, room, coordinator)
    [waiting] = awaiting_source_translation(session, chief)
    assert (waiting.target_id, waiting.source_language, waiting.language) == (farsi.id, "fa", "en")
    with pytest.raises(NotCoordinator):
        awaiting_source_translation(session, access)
    # Into its own language: refused.
    with pytest.raises(InvalidInput) as same:
        offer_translation(session, access, "contribution", farsi.id, "fa", "x", app_today())
    assert same.value.reason == "same"
    english = offer_translation(
        session, access, "contribution", farsi.id, "en", "Name the law", app_today()
    )
    # Offered: no longer waiting (a coordinator decides on the offer instead).
    assert awaiting_source_translation(session, chief) == []
    accept_translation(session, chief, english.id, app_today())
    [beside] = translations_beside(session, chief)[farsi.id]
    assert (beside.language, beside.text, beside.mine) == ("en", "Name the law", False)
    # The original keeps its own words and language.
    original = find_original(session, chief, "contribution", farsi.id)
    assert (original.language, original.text) == ("fa", "این قانون را نام ببرید")
    # A translation is not itself translated.
    with pytest.raises(ContributionNotFound):
        offer_translation(session, access, "contribution", english.id, "my", "x", app_today())


def test_a_room_working_in_one_language_awaits_no_translation(
    session: Session,
    coordinator: Identity,
    writer: Identity,
    room: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its pages treat it as having nothing to translate, whatever it once worked in: the
    queue opens no contribution to look for one (a language is sealed in the words)."""
    access = drafting.open_room(session, room, writer)
    drafting.submit_contribution(
        session, access, "comment", None, "این قانون را نام ببرید", app_today(), language="fa"
    )
    chief = drafting.open_room(session, room, coordinator)
    assert len(awaiting_source_translation(session, chief)) == 1
    set_working_languages(session, chief, [], app_today())
    kinds: list[str] = []
    real = Keyring.open

    def counting_open(self: Keyring, kind: str, *args: Any, **kwargs: Any) -> Any:
        kinds.append(kind)
        return real(self, kind, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Keyring, "open", counting_open)
        assert awaiting_source_translation(session, chief) == []
    assert "contribution" not in kinds
    # Working in Farsi again, the room sees it waiting again: nothing was lost.
    set_working_languages(session, chief, ["fa"], app_today())
    assert len(awaiting_source_translation(session, chief)) == 1
    with pytest.raises(NotCoordinator):
        awaiting_source_translation(session, access)


def test_a_rejected_translation_is_not_shown(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    anchor = _first_anchor(session, writer, room)
    access = drafting.open_room(session, room, writer)
    offer = offer_translation(session, access, "section", anchor, "fa", "غلط", app_today())
    chief = drafting.open_room(session, room, coordinator)
    drafting.reject(session, chief, offer.id, "other", "Not this section", app_today())
    assert translations_beside(session, access) == {}
    [text] = [t for t in section_texts(session, chief, "fa") if t.anchor == anchor]
    assert text.status == TranslationStatus.MISSING


def test_bad_offers_are_refused(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    anchor = _first_anchor(session, writer, room)
    access = drafting.open_room(session, room, writer)
    with pytest.raises(InvalidInput) as unknown:
        offer_translation(session, access, "section", anchor, "ps", "x", app_today())
    assert unknown.value.reason == "unknown"
    with pytest.raises(InvalidInput) as same:
        offer_translation(session, access, "section", anchor, "en", "x", app_today())
    assert same.value.reason == "same"
    with pytest.raises(InvalidInput) as huge:
        offer_translation(
            session, access, "section", anchor, "fa", "x" * (MAX_TRANSLATION + 1), app_today()
        )
    assert huge.value.reason == "too_long"
    with pytest.raises(InvalidInput):
        offer_translation(
            session, access, "section", anchor, "fa", "<script>x</script>", app_today()
        )
    with pytest.raises(UnknownSection):
        offer_translation(session, access, "section", "s-00000000", "fa", "x", app_today())
    with pytest.raises(InvalidInput):
        offer_translation(session, access, "poem", anchor, "fa", "x", app_today())
    with pytest.raises(ContributionNotFound):
        offer_translation(session, access, "contribution", "nope", "fa", "x", app_today())
    with pytest.raises(ReplyNotFound):
        offer_translation(session, access, "reply", "nope", "fa", "x", app_today())
    assert session.scalar(select(Contribution)) is None


def test_a_hidden_contribution_cannot_be_translated(
    app: Flask, session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    target = drafting.submit_contribution(session, access, "comment", None, "Abuse", app_today())
    chief = drafting.open_room(session, room, coordinator)
    drafting.hide(session, chief, target.id, app_today())
    other = member_identity(app, session)
    join_room(session, coordinator, room, other)
    for who in (writer, other, coordinator):
        with pytest.raises(ContributionNotFound):
            offer_translation(
                session,
                drafting.open_room(session, room, who),
                "contribution",
                target.id,
                "fa",
                "x",
                app_today(),
            )


def test_pre_moderation_hides_what_members_may_not_see_yet(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room = make_room(session, coordinator, working_languages=("fa",), moderation=ModerationMode.PRE)
    author, other = member_identity(app, session), member_identity(app, session)
    join_room(session, coordinator, room, author)
    join_room(session, coordinator, room, other)
    target = drafting.submit_contribution(
        session,
        drafting.open_room(session, room, author),
        "comment",
        None,
        "Pending words",
        app_today(),
    )
    other_access = drafting.open_room(session, room, other)
    with pytest.raises(ContributionNotFound):
        offer_translation(session, other_access, "contribution", target.id, "fa", "x", app_today())
    assert all(task.target_id != target.id for task in help_translate(session, other_access))


def test_a_reply_can_be_translated(
    session: Session, coordinator: Identity, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    head = drafting.submit_contribution(session, access, "comment", None, "Which law?", app_today())
    chief = drafting.open_room(session, room, coordinator)
    reply = submit_reply(session, chief, head.id, None, "قانون کار", language="fa")
    original = find_original(session, access, "reply", reply.id)
    assert (original.language, original.text) == ("fa", "قانون کار")
    offer = offer_translation(
        session, access, "reply", reply.id, "en", "The labour law", app_today()
    )
    accept_translation(session, chief, offer.id, app_today())
    assert translations_beside(session, access)[reply.id][0].text == "The labour law"
    status = session.get(Contribution, offer.id)
    assert status is not None
    assert status.status == ContributionStatus.ACCEPTED


def test_a_suggestion_engine_plugs_into_the_list(
    session: Session, writer: Identity, room: str
) -> None:
    access = drafting.open_room(session, room, writer)
    seen: list[tuple[str, str]] = []

    def engine(text: str, source: str, target: str) -> str:
        seen.append((source, target))
        return f"<{target}> {text}"

    tasks = help_translate(session, access, ["my"], suggest=engine)
    assert tasks
    assert all(task.suggestion == f"<my> {task.source}" for task in tasks)
    assert set(seen) == {("en", "my")}
