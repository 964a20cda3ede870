"""Publishing a multilingual room over HTTP: the sign-on page, the confirmation, bad input.

A room with English source and Farsi and Burmese working languages, its sections
translated through the drafting room's own service, endorsed over HTTP by its members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from crypto.bundle_checks import verify_bundle
from crypto.bundle_reading import parse_keys
from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.drafting.translations import section_texts, write_translation
from statements.models import LogEntry, PublishedStatement
from statements.publishing import service as publishing
from statements.publishing import signing_keys
from statements.publishing.public import key_records
from tests.conftest import Clock
from tests.support import (
    Staff,
    csrf_token,
    join_room,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
    open_signon,
)

FARSI_WORDS = "ما خواستار حق کار هستیم"
BURMESE_WORDS = "အလုပ်လုပ်ခွင့်"
WORDS = {"fa": FARSI_WORDS, "my": BURMESE_WORDS}


@dataclass
class Room:
    """A multilingual room in sign-on: its coordinator and two members, signed in."""

    room_id: str
    staff: Staff
    coordinator: FlaskClient
    members: list[FlaskClient]

    @property
    def publish(self) -> str:
        return f"/rooms/{self.room_id}/publish-languages"


def _post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def _translate(session: Session, coordinator: auth.Identity, room_id: str, language: str) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    for text in section_texts(session, access, language):
        write_translation(
            session,
            access,
            text.anchor,
            language,
            f"{WORDS[language]} {text.anchor}",
            text.source,
        )


def _room(app: Flask, session: Session, clock: Clock, translated: tuple[str, ...]) -> Room:
    config: auth.AuthConfig = app.extensions["auth"]
    staff = make_staff(app, session)
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    room_id = make_room(session, coordinator, working_languages=("fa", "my"))
    for language in translated:
        _translate(session, coordinator, room_id, language)
    clients = []
    for _ in range(2):
        _account, codename = make_member(app, session)
        member_account, member_keys = auth.login_member(session, config, codename)
        join_room(
            session, coordinator, room_id, auth.Identity(member_account, member_keys, b"", b"")
        )
        session.commit()
        client = app.test_client()
        assert login_member(client, codename).status_code == 302
        clients.append(client)
    open_signon(session, coordinator, room_id)
    session.commit()
    staff_client = app.test_client()
    assert login_staff(staff_client, app, staff).status_code == 302
    room = Room(room_id, staff, staff_client, clients)
    signon = f"/rooms/{room_id}/sign-on"
    assert (
        _post(clients[0], signon, {"kind": "public", "name": "Refugee Rights Network"}).status_code
        == 302
    )
    assert _post(clients[1], signon, {"kind": "anonymous"}).status_code == 302
    # The name the member typed is self-declared: the coordinator confirms it.
    page = staff_client.get(signon).get_data(as_text=True)
    for endorsement_id in re.findall(rf"{signon}/([0-9a-f]{{32}})/confirm", page):
        assert _post(staff_client, f"{signon}/{endorsement_id}/confirm").status_code == 302
    return room


@pytest.fixture
def translated(app: Flask, session: Session, clock: Clock) -> Room:
    return _room(app, session, clock, ("fa", "my"))


@pytest.fixture
def farsi_only(app: Flask, session: Session, clock: Clock) -> Room:
    return _room(app, session, clock, ("fa",))


SLUGS = {"slug-en": "right-to-work", "slug-fa": "right-to-work-fa", "slug-my": "right-to-work-my"}


def _nothing_published(session: Session) -> None:
    session.expire_all()
    assert session.scalars(select(PublishedStatement)).all() == []
    assert session.scalars(select(LogEntry)).all() == []


def test_the_sign_on_page_shows_every_language_s_text(translated: Room) -> None:
    page = translated.members[0].get(f"/rooms/{translated.room_id}/sign-on").get_data(as_text=True)
    assert "One endorsement covers the statement in all these languages." in page
    assert re.search(r'<div class="frozen" lang="fa" dir="rtl">.*' + FARSI_WORDS, page)
    assert re.search(r'<div class="frozen" lang="my" dir="ltr">.*' + BURMESE_WORDS, page)


def test_a_language_not_current_is_not_shown_as_its_text_at_sign_on(farsi_only: Room) -> None:
    page = farsi_only.members[0].get(f"/rooms/{farsi_only.room_id}/sign-on").get_data(as_text=True)
    assert '<div class="frozen" lang="my"' not in page
    assert "not current yet" in page


def test_the_one_language_publish_page_sends_to_the_languages_page(translated: Room) -> None:
    response = translated.coordinator.get(f"/rooms/{translated.room_id}/publish")
    assert response.status_code == 302
    assert response.headers["Location"] == translated.publish


def test_every_current_language_is_published_as_one_family(
    session: Session, translated: Room
) -> None:
    page = translated.coordinator.get(translated.publish).get_data(as_text=True)
    for name in SLUGS:
        assert f'name="{name}"' in page
    response = _post(translated.coordinator, translated.publish, {**SLUGS, "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/statements/right-to-work"
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    for slug in SLUGS.values():
        view = publishing.latest(session, slug)
        assert verify_bundle(view.bundle, keys).valid
        assert view.statement["authoritative_language"] == "en"
        assert [m["slug"] for m in view.statement["family"]] == list(SLUGS.values())
    assert FARSI_WORDS in publishing.latest(session, "right-to-work-fa").statement["body_markdown"]
    # The room's page leads to the authoritative text.
    room_page = translated.coordinator.get(f"/rooms/{translated.room_id}/published")
    assert room_page.headers["Location"] == "/statements/right-to-work"


def test_a_language_not_current_asks_for_confirmation_then_is_left_out(
    session: Session, farsi_only: Room
) -> None:
    data = {"slug-en": "right-to-work", "slug-fa": "right-to-work-fa", "confirm": "y"}
    first = _post(farsi_only.coordinator, farsi_only.publish, data)
    assert first.status_code == 409
    page = first.get_data(as_text=True)
    assert "Nothing was published yet" in page
    assert re.search(r"<li>Burmese: Missing", page)
    assert 'name="leave_out" value="my"' in page
    _nothing_published(session)

    # A confirmation naming other languages than those left out asks again.
    wrong = _post(farsi_only.coordinator, farsi_only.publish, {**data, "leave_out": "fa"})
    assert wrong.status_code == 409
    _nothing_published(session)

    confirmed = _post(farsi_only.coordinator, farsi_only.publish, {**data, "leave_out": "my"})
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    session.expire_all()
    published = {row.language: row.slug for row in session.scalars(select(PublishedStatement))}
    assert published == {"en": "right-to-work", "fa": "right-to-work-fa"}
    family = publishing.latest(session, "right-to-work").statement["family"]
    assert [member["language"] for member in family] == ["en", "fa"]


def test_publishing_without_the_ready_box_publishes_nothing(
    session: Session, translated: Room
) -> None:
    response = _post(translated.coordinator, translated.publish, SLUGS)
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.get_data(as_text=True)
    _nothing_published(session)


def test_an_unknown_language_publishes_nothing(session: Session, translated: Room) -> None:
    response = _post(
        translated.coordinator, translated.publish, {**SLUGS, "slug-th": "thai", "confirm": "y"}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "That language is not one of this room" in body, body[body.find("<h1>") :][:2500]
    _nothing_published(session)


@pytest.mark.parametrize(
    ("slugs", "message"),
    [
        ({**SLUGS, "slug-fa": "Not A Slug"}, "Use 3 to 80 lower-case letters"),
        ({**SLUGS, "slug-fa": "x" * 5000}, "Use 3 to 80 lower-case letters"),
        ({**SLUGS, "slug-fa": SLUGS["slug-en"]}, "Give each language its own web address."),
        ({"slug-en": "right-to-work", "slug-fa": "right-to-work-fa"}, "Use 3 to 80"),
    ],
)
def test_a_bad_address_is_named_on_its_language(
    session: Session, translated: Room, slugs: dict[str, str], message: str
) -> None:
    response = _post(translated.coordinator, translated.publish, {**slugs, "confirm": "y"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    _nothing_published(session)


def test_members_cannot_publish(session: Session, translated: Room) -> None:
    response = _post(translated.members[0], translated.publish, {**SLUGS, "confirm": "y"})
    assert response.status_code == 403
    _nothing_published(session)


def test_retracting_one_language_retracts_the_family(session: Session, translated: Room) -> None:
    assert (
        _post(translated.coordinator, translated.publish, {**SLUGS, "confirm": "y"}).status_code
        == 302
    )
    response = _post(
        translated.coordinator,
        "/published/right-to-work-my/retract",
        {
            "slug": "right-to-work-my",
            "notice": "Withdrawn at the signatories' request.",
            "reason": "The signatories asked.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    for slug in SLUGS.values():
        assert publishing.statement(session, slug).status == "retracted"


def test_the_two_person_rule_holds_for_a_family(
    app: Flask, session: Session, clock: Clock, translated: Room
) -> None:
    """Raised for the room, publishing every language is proposed; a second person (here an
    admin) approves exactly those texts, and only then is each signed and logged."""
    from statements.models import ControlProposal, Role
    from statements.models import Room as RoomRow

    room_row = session.get(RoomRow, translated.room_id)
    assert room_row is not None
    room_row.two_person = True
    admin = make_staff(app, session, "second-person", Role.ADMIN)
    session.commit()
    response = _post(translated.coordinator, translated.publish, {**SLUGS, "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/proposals/" in response.headers["Location"]
    _nothing_published(session)
    # The sign-on is held while the proposal waits.
    signon = f"/rooms/{translated.room_id}/sign-on"
    assert _post(translated.members[1], signon, {"kind": "anonymous"}).status_code == 409
    # The proposer cannot approve their own proposal.
    proposal = response.headers["Location"]
    digest = session.scalars(select(ControlProposal)).one().digest
    own = _post(translated.coordinator, f"{proposal}/approve", {"digest": digest})
    assert own.status_code == 403
    _nothing_published(session)

    approver = app.test_client()
    assert login_staff(approver, app, admin).status_code == 302
    shown = approver.get(proposal).get_data(as_text=True)
    assert FARSI_WORDS in shown
    assert BURMESE_WORDS in shown
    assert "right-to-work-my" in shown
    approved = _post(approver, f"{proposal}/approve", {"digest": digest})
    assert approved.status_code == 302, approved.get_data(as_text=True)
    assert approved.headers["Location"] == "/statements/right-to-work"
    session.expire_all()
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    for slug in SLUGS.values():
        view = publishing.latest(session, slug)
        assert verify_bundle(view.bundle, keys).valid
        assert [m["slug"] for m in view.statement["family"]] == list(SLUGS.values())
    row = session.scalars(select(ControlProposal)).one()
    assert row.status == "approved"
