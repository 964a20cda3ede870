"""Attacks on the multilingual room: words a coordinator hid, or an author withdrew, must
not come back through a translation of them, on any page or at rest."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.contributions import contribution_record, contribution_write
from statements.drafting.discussion import (
    flag_reply,
    hide_reply,
    release_reply,
    submit_reply,
    thread,
)
from statements.drafting.moderation import release
from statements.drafting.room_languages import choose_language, reading_language
from statements.drafting.translation_offers import (
    accept_translation,
    help_translate,
    offer_translation,
    translations_beside,
)
from statements.models import Contribution, ContributionStatus, LanguageChoice, ModerationMode
from statements.write_apply import apply_write
from tests.support import app_today, join_room, make_room, member_identity

SECRET = "The camp guard at gate four beat us"
SECRET_FA = "نگهبان دروازه چهار ما را زد"


@pytest.fixture
def room(session: Session, coordinator: Identity) -> str:
    return make_room(session, coordinator, working_languages=("fa",))


def _member(app: Flask, session: Session, coordinator: Identity, room: str) -> Identity:
    identity = member_identity(app, session)
    join_room(session, coordinator, room, identity)
    return identity


def _every_word_in_the_room(session: Session, coordinator: Identity, room: str) -> str:
    """Every contribution's sealed content in the room, opened with the room key."""
    access = drafting.open_room(session, room, coordinator)
    opened = []
    for row in session.scalars(select(Contribution).where(Contribution.room_id == room)):
        opened.append(
            repr(
                access.keyring.open(
                    "contribution", contribution_record(row), row.key_version, row.content
                )
            )
        )
    return "\n".join(opened)


def _everything_shown(session: Session, identity: Identity, room: str) -> str:
    access = drafting.open_room(session, room, identity)
    views, _ = drafting.contributions_page(session, access, 1)
    shown = [view.text for view in views] + [view.base for view in views]
    for items in translations_beside(session, access).values():
        shown += [item.text for item in items]
    return "\n".join(shown)


@pytest.mark.parametrize(
    ("accepted", "how"), [(False, "hide"), (True, "hide"), (False, "unsafe"), (True, "unsafe")]
)
def test_hiding_a_contribution_hides_its_translations(
    app: Flask, session: Session, coordinator: Identity, room: str, accepted: bool, how: str
) -> None:
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    reader = _member(app, session, coordinator, room)
    target = drafting.submit_contribution(
        session, drafting.open_room(session, room, author), "comment", None, SECRET, app_today()
    )
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    chief = drafting.open_room(session, room, coordinator)
    if accepted:
        accept_translation(session, chief, offer.id, app_today())
    if how == "hide":
        drafting.hide(session, chief, target.id, app_today())
    else:
        drafting.reject(session, chief, target.id, "unsafe", "", app_today())
    for who in (reader, translator, author):
        shown = _everything_shown(session, who, room)
        assert SECRET_FA not in shown
        assert SECRET not in shown
    # Destroyed at rest too, as the hidden original's words are: neither the translation
    # nor the original words it carries are left under the room key.
    at_rest = _every_word_in_the_room(session, coordinator, room)
    assert SECRET not in at_rest
    assert SECRET_FA not in at_rest
    stored = session.get(Contribution, offer.id)
    assert stored is not None
    assert stored.status == ContributionStatus.HIDDEN


def test_hiding_a_reply_hides_its_translations(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    reader = _member(app, session, coordinator, room)
    head = drafting.submit_contribution(
        session,
        drafting.open_room(session, room, reader),
        "comment",
        None,
        "Which gate?",
        app_today(),
    )
    reply = submit_reply(session, drafting.open_room(session, room, author), head.id, None, SECRET)
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "reply",
        reply.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    chief = drafting.open_room(session, room, coordinator)
    accept_translation(session, chief, offer.id, app_today())
    hide_reply(session, chief, reply.id, app_today())
    for who in (reader, translator, author):
        shown = _everything_shown(session, who, room)
        assert SECRET_FA not in shown
        assert SECRET not in shown
        replies = thread(session, drafting.open_room(session, room, who), head.id).replies
        assert all(SECRET not in view.text for view in replies)
    at_rest = _every_word_in_the_room(session, coordinator, room)
    assert SECRET not in at_rest
    assert SECRET_FA not in at_rest


def test_a_withdrawn_contributions_translations_are_not_shown(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    target = drafting.submit_contribution(session, mine, "comment", None, SECRET, app_today())
    offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.withdraw_contribution(session, mine, target.id)
    for who in (translator, author, coordinator):
        shown = _everything_shown(session, who, room)
        assert SECRET not in shown
        assert SECRET_FA not in shown


def test_withdrawing_a_contribution_takes_its_translations_words_with_it(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    target = drafting.submit_contribution(session, mine, "comment", None, SECRET, app_today())
    offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.withdraw_contribution(session, mine, target.id)
    shown = _everything_shown(session, translator, room)
    assert SECRET not in shown
    assert SECRET not in _every_word_in_the_room(session, coordinator, room)


def test_editing_a_contribution_takes_its_translations_of_the_old_words_with_it(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    target = drafting.submit_contribution(session, mine, "comment", None, SECRET, app_today())
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.edit_contribution(
        session, mine, target.id, "Something happened at a gate", app_today()
    )
    assert SECRET not in _everything_shown(session, translator, room)
    at_rest = _every_word_in_the_room(session, coordinator, room)
    assert SECRET not in at_rest
    assert SECRET_FA not in at_rest
    assert session.get(Contribution, offer.id) is None


def test_withdrawing_a_contribution_takes_the_translations_of_its_replies_with_it(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    # Replies cannot be withdrawn or edited, but they go with their thread's contribution.
    author = _member(app, session, coordinator, room)
    replier = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    head = drafting.submit_contribution(session, mine, "comment", None, "Which gate?", app_today())
    reply = submit_reply(session, drafting.open_room(session, room, replier), head.id, None, SECRET)
    offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "reply",
        reply.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.withdraw_contribution(session, mine, head.id)
    at_rest = _every_word_in_the_room(session, coordinator, room)
    assert SECRET not in at_rest
    assert SECRET_FA not in at_rest


def test_a_translation_landing_after_its_original_was_withdrawn_is_not_stored(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    # The two writes share a batch, applied in random order: the translation comes second.
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    target = drafting.submit_contribution(session, mine, "comment", None, SECRET, app_today())
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    assert offer.translates == target.id
    write = contribution_write(offer)
    drafting.withdraw_contribution(session, mine, target.id)
    apply_write(session, write)
    assert session.get(Contribution, offer.id) is None
    assert SECRET not in _every_word_in_the_room(session, coordinator, room)


def test_a_reading_language_is_not_told_by_its_length(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    # Dari is the only three-letter code: a ciphertext one byte longer would name it.
    room = make_room(session, coordinator, working_languages=("fa", "prs"))
    chosen = {}
    for language in ("en", "fa", "prs"):
        member = _member(app, session, coordinator, room)
        access = drafting.open_room(session, room, member)
        choose_language(session, access, language)
        assert reading_language(session, access) == language
        chosen[language] = member
    lengths = {len(row.content) for row in session.scalars(select(LanguageChoice))}
    assert len(lengths) == 1


def test_a_translation_landing_after_its_original_was_destroyed_shows_nothing(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    # A translation still in the anonymous queue when the coordinator rejected its original
    # as unsafe lands later, untouched: the pages still show none of its words.
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    target = drafting.submit_contribution(
        session, drafting.open_room(session, room, author), "comment", None, SECRET, app_today()
    )
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    landed = session.get(Contribution, offer.id)
    assert landed is not None
    session.expunge(landed)
    chief = drafting.open_room(session, room, coordinator)
    drafting.reject(session, chief, target.id, "unsafe", "", app_today())
    # As if it had been queued: the row as it was offered, back after the decision.
    session.execute(
        Contribution.__table__.update()
        .where(Contribution.id == offer.id)
        .values(status=ContributionStatus.PENDING, content=landed.content)
    )
    for who in (translator, author, coordinator):
        shown = _everything_shown(session, who, room)
        assert SECRET_FA not in shown
        assert SECRET not in shown


def test_hiding_a_contribution_hides_translations_of_the_replies_under_it(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    # Members no longer see the others' replies under a hidden contribution (they may
    # quote it): nor do they see those replies' translations, in any list.
    asker = _member(app, session, coordinator, room)
    quoter = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    head = drafting.submit_contribution(
        session, drafting.open_room(session, room, asker), "comment", None, "Abuse", app_today()
    )
    reply = submit_reply(session, drafting.open_room(session, room, quoter), head.id, None, SECRET)
    offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "reply",
        reply.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.hide(session, drafting.open_room(session, room, coordinator), head.id, app_today())
    for who in (asker, translator):
        assert SECRET_FA not in _everything_shown(session, who, room)


def test_words_an_author_edited_away_do_not_stay_in_a_translation(
    app: Flask, session: Session, coordinator: Identity, room: str
) -> None:
    # An author takes an identifying detail out of their proposal: a translation made of
    # the old words must not keep showing it beside the new ones.
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    reader = _member(app, session, coordinator, room)
    mine = drafting.open_room(session, room, author)
    target = drafting.submit_contribution(session, mine, "comment", None, SECRET, app_today())
    offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "contribution",
        target.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    drafting.edit_contribution(session, mine, target.id, "A guard beat us", app_today())
    for who in (reader, translator, author, coordinator):
        shown = _everything_shown(session, who, room)
        assert SECRET_FA not in shown
        assert SECRET not in shown
    # The contribution waits for a translation of its new words again.
    tasks = help_translate(session, drafting.open_room(session, room, reader), ["fa"])
    assert [task.source for task in tasks if task.target_id == target.id] == ["A guard beat us"]


def test_a_flagged_reply_in_a_pre_moderated_room_takes_its_translation_along(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    # Pre-moderation: a reply waiting for a safety review is out of the thread for members;
    # its translation must not show its words meanwhile.
    room = make_room(session, coordinator, working_languages=("fa",), moderation=ModerationMode.PRE)
    author = _member(app, session, coordinator, room)
    translator = _member(app, session, coordinator, room)
    reader = _member(app, session, coordinator, room)
    chief = drafting.open_room(session, room, coordinator)
    head = drafting.submit_contribution(session, chief, "comment", None, "Which gate?", app_today())
    release(session, chief, head.id, app_today())
    reply = submit_reply(session, drafting.open_room(session, room, author), head.id, None, SECRET)
    release_reply(session, chief, reply.id, app_today())
    offer = offer_translation(
        session,
        drafting.open_room(session, room, translator),
        "reply",
        reply.id,
        "fa",
        SECRET_FA,
        app_today(),
    )
    accept_translation(session, chief, offer.id, app_today())
    assert SECRET_FA in _everything_shown(session, reader, room)
    flag_reply(session, drafting.open_room(session, room, reader), reply.id)
    other = _member(app, session, coordinator, room)
    assert SECRET_FA not in _everything_shown(session, other, room)
