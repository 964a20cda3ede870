"""What a member typed: warned about before posting, and kept when their session ends."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.auth import codename as codenames
from statements.auth.service import Identity
from statements.models import Contribution
from tests.conftest import Clock
from tests.support import csrf_token, join_room, login_member, make_member

# Quotes, markup and a Farsi line: the carried text must come back exactly as typed.
TYPED = 'My cousin said "the <b>guards</b> & dogs" came.\nپسر عمویم گفت که آنها آمدند.'


@dataclass
class Member:
    """A signed-in member of a room, and what they need to sign in again."""

    client: FlaskClient
    codename: str
    room_id: str


@pytest.fixture
def member_client(app: Flask, session: Session, coordinator: Identity, room_id: str) -> Member:
    account, codename = make_member(app, session)
    from statements.auth.service import login_member as unlock

    _account, keys = unlock(session, app.extensions["auth"], codename)
    join_room(session, coordinator, room_id, Identity(account, keys, b"", b""))
    session.commit()
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    return Member(client, codename, room_id)


def _inputs(page: str, form_action: str | None = None) -> dict[str, str]:
    """The named inputs of the page's form (the one posting to form_action, if given)."""
    forms = re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.DOTALL)
    for attributes, body in forms:
        if form_action is not None and f'action="{form_action}"' not in attributes:
            continue
        fields = {}
        for tag in re.findall(r"<input\b[^>]*>", body):
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name:
                raw = value.group(1) if value else ""
                fields[html.unescape(name.group(1))] = html.unescape(raw)
        return fields
    raise AssertionError(f"no form posting to {form_action}")


def _textarea(page: str) -> str:
    found = re.search(r"<textarea[^>]*>\r?\n?(.*?)</textarea>", page, re.DOTALL)
    assert found, "no textarea"
    return html.unescape(found.group(1))


def _preview(member: Member, text: str) -> TestResponse:
    path = f"/rooms/{member.room_id}/contribute"
    return member.client.post(
        path,
        data={
            "csrf_token": csrf_token(member.client, path),
            "kind": "comment",
            "text": text,
            "preview": "1",
        },
    )


def test_the_preview_warns_about_identifying_details_without_blocking(
    session: Session, member_client: Member
) -> None:
    response = _preview(member_client, "Call +60 12-345 6789, they took him on 12 March.")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "this text may identify someone" in page
    assert "a phone number" in page
    assert "the date of a particular day" in page
    assert "an email address" not in page
    # The member can still submit: the form and its text are there, nothing was saved.
    assert 'name="submit"' in page
    assert "12-345 6789" in _textarea(page)
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0

    quiet = _preview(member_client, "Refugees must have the right to work.")
    assert "may identify someone" not in quiet.get_data(as_text=True)


def test_the_preview_warning_speaks_the_members_language(member_client: Member) -> None:
    member_client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fa"
    page = _preview(member_client, "شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است").get_data(as_text=True)
    assert 'lang="fa"' in page
    assert "this text may identify someone" not in page
    assert "این متن ممکن است کسی را شناسایی کند" in page
    assert "یک شماره تلفن" in page


def _expire(app: Flask, clock: Clock) -> None:
    clock.advance(minutes=app.extensions["settings"].session_idle_minutes + 1)


def test_text_typed_when_the_session_ended_comes_back_after_signing_in(
    app: Flask, session: Session, clock: Clock, member_client: Member
) -> None:
    client, room_id = member_client.client, member_client.room_id
    path = f"/rooms/{room_id}/contribute"
    token = csrf_token(client, path)
    _expire(app, clock)
    ended = client.post(
        path, data={"csrf_token": token, "kind": "comment", "text": TYPED, "submit": "1"}
    )
    # The sign-in form, here and now: a redirect would drop the body.
    assert ended.status_code == 401
    assert "Location" not in ended.headers
    page = ended.get_data(as_text=True)
    assert "Your session ended" in page
    carried = _inputs(page, "/login")
    assert carried["carry-path"] == path
    assert carried["carry-text"] == TYPED
    assert carried["carry-kind"] == "comment"
    # The codename field (a text area, so a word to correct can be seen) is in that form.
    assert re.search(r'<textarea[^>]*name="codename"', page)
    # The text is in the page, never in an address and never on the server.
    assert not re.search(r'(?:action|href)="[^"]*\?[^"]*"', page.split("<main", 1)[1])
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0

    # A wrong codename (seven real words, nobody's) keeps it too.
    wrong = client.post("/login", data={**carried, "codename": codenames.generate()})
    assert wrong.status_code == 401
    assert _inputs(wrong.get_data(as_text=True), "/login")["carry-text"] == TYPED

    signed_in = client.post("/login", data={**carried, "codename": member_client.codename})
    assert signed_in.status_code == 200
    assert "Location" not in signed_in.headers
    onward = _inputs(signed_in.get_data(as_text=True), path)
    assert onward["text"] == TYPED
    assert onward["restore"] == "1"
    assert "codename" not in onward
    # The new session's token, not the stale one of the form they first sent. A token is
    # payload.timestamp.signature: the payload names the session's secret; the rest
    # changes with the second it was made in.
    assert _payload(onward["csrf_token"]) != _payload(token)

    restored = client.post(path, data=onward)
    assert restored.status_code == 200
    form_page = restored.get_data(as_text=True)
    assert _textarea(form_page) == TYPED
    # Back and filled in, not sent: the member checks it and submits it themselves.
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form_page)
    assert fresh
    assert _payload(fresh.group(1)) == _payload(onward["csrf_token"])
    sent = client.post(
        path, data={"csrf_token": fresh.group(1), "kind": "comment", "text": _textarea(form_page)}
    )
    assert sent.status_code == 302
    assert session.scalar(select(func.count()).select_from(Contribution)) == 1


def _payload(csrf_token: str) -> str:
    return csrf_token.split(".", 1)[0]


def test_an_edit_typed_when_the_session_ended_comes_back_after_signing_in(
    app: Flask, session: Session, clock: Clock, member_client: Member
) -> None:
    client, room_id = member_client.client, member_client.room_id
    contribute = f"/rooms/{room_id}/contribute"
    client.post(
        contribute,
        data={
            "csrf_token": csrf_token(client, contribute),
            "kind": "comment",
            "text": "First wording",
            "submit": "1",
        },
    )
    contribution_id = session.scalar(select(Contribution.id))
    path = f"/rooms/{room_id}/contributions/{contribution_id}/edit"
    token = csrf_token(client, path)
    _expire(app, clock)
    ended = client.post(path, data={"csrf_token": token, "text": TYPED})
    assert ended.status_code == 401
    carried = _inputs(ended.get_data(as_text=True), "/login")
    assert carried["carry-text"] == TYPED
    signed_in = client.post("/login", data={**carried, "codename": member_client.codename})
    onward = _inputs(signed_in.get_data(as_text=True), path)
    restored = client.post(path, data=onward)
    assert restored.status_code == 200
    assert _textarea(restored.get_data(as_text=True)) == TYPED
    # Not saved until they press Save themselves.
    assert "First wording" in client.get(f"/rooms/{room_id}/mine").get_data(as_text=True)


def test_a_carried_form_goes_only_to_a_view_that_carries_it(
    app: Flask, clock: Clock, member_client: Member
) -> None:
    client = member_client.client
    path = f"/rooms/{member_client.room_id}/contribute"
    token = csrf_token(client, path)
    _expire(app, clock)
    carried = _inputs(
        client.post(path, data={"csrf_token": token, "text": TYPED}).get_data(as_text=True),
        "/login",
    )
    for elsewhere in ("https://evil.example/steal", "//evil.example/x", "/logout", "/rooms"):
        client.delete_cookie("auth")
        signed_in = client.post(
            "/login",
            data={
                **carried,
                "csrf_token": csrf_token(client, "/login"),
                "carry-path": elsewhere,
                "codename": member_client.codename,
            },
        )
        # An ordinary sign-in: nothing is posted onward, the text goes nowhere.
        assert signed_in.status_code == 302
        assert TYPED not in html.unescape(signed_in.get_data(as_text=True))


def _stale_token(member: Member, path: str) -> str:
    """The token of a form whose seed the browser then lost (restarted, or signed in
    elsewhere): the CSRF check, which runs before the session is looked at, fails."""
    token = csrf_token(member.client, path)
    member.client.delete_cookie("csrf")
    return token


def _post_stale(member: Member, path: str, token: str, **headers: str) -> TestResponse:
    """Send a comment with a stale CSRF token."""
    return member.client.post(
        path,
        data={"csrf_token": token, "kind": "comment", "text": TYPED, "submit": "1"},
        headers=headers,
    )


def test_text_typed_when_the_session_and_its_form_token_ended_comes_back(
    app: Flask, session: Session, clock: Clock, member_client: Member
) -> None:
    client, room_id = member_client.client, member_client.room_id
    path = f"/rooms/{room_id}/contribute"
    token = _stale_token(member_client, path)
    _expire(app, clock)
    ended = _post_stale(member_client, path, token, **{"Sec-Fetch-Site": "same-origin"})
    assert ended.status_code == 401
    page = ended.get_data(as_text=True)
    assert "This form has expired" not in page
    assert "Your session ended" in page
    carried = _inputs(page, "/login")
    assert carried["carry-path"] == path
    assert carried["carry-text"] == TYPED
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0
    # The ended session's cookie is dropped, as when only the session ended.
    assert any(header.startswith("auth=;") for header in ended.headers.getlist("Set-Cookie")), (
        ended.headers
    )

    # The sign-in form on that page carries a token that works: sign in, get the form back.
    signed_in = client.post("/login", data={**carried, "codename": member_client.codename})
    assert signed_in.status_code == 200
    onward = _inputs(signed_in.get_data(as_text=True), path)
    assert onward["text"] == TYPED
    restored = client.post(path, data=onward)
    assert restored.status_code == 200
    assert _textarea(restored.get_data(as_text=True)) == TYPED
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_a_form_sent_with_no_session_at_all_and_a_stale_token_is_carried(
    member_client: Member,
) -> None:
    # A restarted browser: both cookies are gone, the page it restored is not.
    path = f"/rooms/{member_client.room_id}/contribute"
    token = _stale_token(member_client, path)
    member_client.client.delete_cookie("auth")
    answer = _post_stale(member_client, path, token)
    assert answer.status_code == 401
    page = answer.get_data(as_text=True)
    assert "Please sign in to see that page." in page
    assert _inputs(page, "/login")["carry-text"] == TYPED


def test_a_stale_token_from_another_site_or_with_a_live_session_carries_nothing(
    app: Flask, clock: Clock, member_client: Member
) -> None:
    path = f"/rooms/{member_client.room_id}/contribute"
    token = _stale_token(member_client, path)
    # Signed in still: the token alone is stale, and the form is only refused.
    live = _post_stale(member_client, path, token)
    assert live.status_code == 400
    assert "This form has expired" in live.get_data(as_text=True)
    assert "guards" not in live.get_data(as_text=True)
    # Another site posting this site's form gets no page filled with its words.
    _expire(app, clock)
    foreign = _post_stale(member_client, path, token, **{"Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == 400
    page = foreign.get_data(as_text=True)
    assert "This form has expired" in page
    assert "guards" not in page
    assert "carry-" not in page
