"""One rule for every title: room creation, publication and correction, before signing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.drafting.errors import InvalidInput
from statements.models import PublishedStatement, PublishedVersion, Room
from statements.publishing import service as publishing
from tests.support import (
    app_today,
    csrf_token,
    endorse,
    join_room,
    login_staff,
    make_room,
    make_staff,
    member_identity,
    open_signon,
    published_statement,
    staff_identity,
)

# (title, the reason it is refused)
REFUSED = [
    pytest.param("Right to\nwork", "one_line", id="line-break"),
    pytest.param("Right to\u2028work", "one_line", id="line-separator"),
    pytest.param("Right to\x1bwork", "one_line", id="escape"),
    pytest.param("Right to \u202ekrow", "invisible", id="right-to-left-override"),
    pytest.param("Right to \u2066work\u2069", "invisible", id="isolate"),
    pytest.param("Right to\u200bwork", "invisible", id="zero-width-space"),
    pytest.param("Right to\ufeffwork", "invisible", id="byte-order-mark"),
]
# Joiners and direction marks are part of how Farsi (and other scripts) are written.
ACCEPTED = ["حق کار برای پناه‌جویان", "Right to work \u200f(2025)", "  Right to work  "]


@pytest.mark.parametrize(("title", "reason"), REFUSED)
def test_the_rule(title: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        drafting.clean_line(title, "title", drafting.MAX_TITLE)
    assert (refused.value.field, refused.value.reason) == ("title", reason)


@pytest.mark.parametrize("title", ACCEPTED)
def test_titles_in_any_script_pass(title: str) -> None:
    assert drafting.clean_line(title, "title", drafting.MAX_TITLE) == title.strip()


@pytest.mark.parametrize(("title", "reason"), REFUSED)
def test_a_room_is_not_opened_with_such_a_title(
    app: Flask, session: Session, title: str, reason: str
) -> None:
    coordinator = staff_identity(app, session)
    with pytest.raises(InvalidInput) as refused:
        make_room(session, coordinator, title=title)
    assert refused.value.reason == reason


def _signon_room(app: Flask, session: Session) -> tuple[auth.Identity, str]:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "anonymous")
    return coordinator, room_id


def _published_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PublishedVersion)) or 0


@pytest.mark.parametrize(("title", "reason"), REFUSED)
def test_publication_checks_the_title_it_signs(
    app: Flask, session: Session, title: str, reason: str
) -> None:
    coordinator, room_id = _signon_room(app, session)
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput) as refused:
        publishing.publish(
            session, access, "right-to-work", "test.example/log", app_today(), title=title
        )
    assert (refused.value.field, refused.value.reason) == ("title", reason)
    assert _published_count(session) == 0


def test_a_working_title_from_before_the_rule_is_not_signed(app: Flask, session: Session) -> None:
    coordinator, room_id = _signon_room(app, session)
    access = drafting.open_room(session, room_id, coordinator)
    # A room opened before the rule: its sealed title holds an override.
    access.room.details = access.keyring.seal(
        "room", room_id, 1, {"title": "Right to \u202ekrow", "summary": ""}
    )
    session.flush()
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput):
        publishing.publish(session, access, "right-to-work", "test.example/log", app_today())
    assert _published_count(session) == 0
    # The coordinator gives the title at publication instead.
    published = publishing.publish(
        session, access, "right-to-work", "test.example/log", app_today(), title="Right to work"
    )
    assert publishing.latest(session, published.slug).statement["title"] == "Right to work"


@pytest.mark.parametrize(("title", "reason"), REFUSED)
def test_a_correction_checks_its_title(
    app: Flask, session: Session, title: str, reason: str
) -> None:
    coordinator, slug = published_statement(app, session)
    before = _published_count(session)
    with pytest.raises(InvalidInput) as refused:
        publishing.correct(
            session,
            coordinator,
            slug,
            app_today(),
            title=title,
            body="Text.",
            signatories="",
            reason="A correction.",
        )
    assert (refused.value.field, refused.value.reason) == ("title", reason)
    assert _published_count(session) == before


def test_a_farsi_title_can_be_corrected(app: Flask, session: Session) -> None:
    coordinator, slug = published_statement(app, session)
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title=ACCEPTED[0],
        body="متن.",
        signatories="",
        reason="A correction.",
    )
    assert publishing.latest(session, slug).statement["title"] == ACCEPTED[0]


# --- through the pages ----------------------------------------------------------------


def _staff_client(app: Flask, session: Session) -> FlaskClient:
    client = app.test_client()
    staff = make_staff(app, session, "page-coordinator")
    assert login_staff(client, app, staff).status_code == 302
    return client


def test_the_pages_say_what_is_wrong_and_keep_what_was_typed(app: Flask, session: Session) -> None:
    client = _staff_client(app, session)
    typed = "Right to \u202ekrow"
    opened = client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": typed,
            "language": "en",
            "summary": "",
            "markdown": "The draft.",
            "contribution_deadline": app_today().isoformat(),
            "signon_deadline": app_today().isoformat(),
        },
    )
    assert opened.status_code == 400
    page = opened.get_data(as_text=True)
    assert "Remove the invisible formatting characters" in page
    assert "The draft." in page  # nothing typed is lost
    assert session.scalar(select(func.count()).select_from(Room)) == 0

    two_lines = client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": "Right to\r\nwork",
            "language": "en",
            "markdown": "The draft.",
            "contribution_deadline": app_today().isoformat(),
            "signon_deadline": app_today().isoformat(),
        },
    )
    assert two_lines.status_code == 400
    assert "Write this on one line." in two_lines.get_data(as_text=True)


def _coordinator(app: Flask, session: Session, username: str) -> tuple[FlaskClient, auth.Identity]:
    """A coordinator signed in on a client, and the same account unlocked for the services."""
    staff = make_staff(app, session, username)
    clock = app.extensions["clock"]
    config: auth.AuthConfig = app.extensions["auth"]
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    session.commit()
    client = app.test_client()
    assert login_staff(client, app, staff).status_code == 302
    return client, auth.Identity(account, keys, b"", b"")


def test_the_publish_page_refuses_such_a_title(app: Flask, session: Session) -> None:
    client, coordinator = _coordinator(app, session, "publisher")
    room_id = make_room(session, coordinator)
    open_signon(session, coordinator, room_id)
    session.commit()
    form = client.get(f"/rooms/{room_id}/publish").get_data(as_text=True)
    assert 'value="Right to work"' in form
    refused = client.post(
        f"/rooms/{room_id}/publish",
        data={
            "csrf_token": csrf_token(client, f"/rooms/{room_id}/publish"),
            "title": "Right to \u202ekrow",
            "slug": "right-to-work",
            "confirm": "y",
        },
    )
    assert refused.status_code == 400
    assert "Remove the invisible formatting characters" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(PublishedStatement)) == 0


def test_the_correction_page_refuses_such_a_title(app: Flask, session: Session) -> None:
    client, coordinator = _coordinator(app, session, "corrector")
    _same, slug = published_statement(app, session, coordinator=coordinator)
    session.commit()
    before = _published_count(session)
    for title, message in [
        ("Right to \u202ekrow", "Remove the invisible formatting characters"),
        ("Right to\r\nwork", "Write this on one line."),
    ]:
        refused = client.post(
            f"/published/{slug}/correct",
            data={
                "csrf_token": csrf_token(client, f"/published/{slug}/correct"),
                "title": title,
                "body": "A corrected text.",
                "signatories": "",
                "reason": "A clearer title.",
            },
        )
        assert refused.status_code == 400
        page = refused.get_data(as_text=True)
        assert message in page
        assert "A corrected text." in page
    assert _published_count(session) == before
