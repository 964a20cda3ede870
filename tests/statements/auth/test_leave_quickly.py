"""Leave quickly over HTTP; the idle note; no autofill of what signed-in people type."""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import statements
from statements.auth.views import CLEAR_SITE_DATA as SENT_CLEAR_SITE_DATA
from statements.models import LoginSession
from statements.settings import Settings
from tests.support import auth_cookie, login_member, make_member

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
NEUTRAL = "https://weather.example/today"
# Fields where people type; autocomplete="off" keeps their words out of the browser's
# suggestions. A field may instead name its own purpose (current-password, one-time-code).
TYPED_FIELDS = {"StringField", "TextAreaField", "IntegerField", "DateField", "PasswordField"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A neutral page and an idle time of our own, to find them in the answers."""
    return replace(settings, leave_quickly_url=NEUTRAL, session_idle_minutes=17)


def _sessions(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(LoginSession)) or 0


def _signed_in(app: Flask, client: FlaskClient, session: Session) -> str:
    _, codename = make_member(app, session)
    assert login_member(client, codename).status_code == 302
    cookie = auth_cookie(client)
    assert cookie
    assert _sessions(session) == 1
    return cookie


def _cleared(response: TestResponse) -> bool:
    """True when the answer deletes the login cookie."""
    return any(
        c.startswith("auth=;") and "Max-Age=0" in c for c in response.headers.getlist("Set-Cookie")
    )


def test_leave_quickly_ends_the_session_and_clears_the_browser(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    old_cookie = _signed_in(app, client, session)
    response = client.get("/leave", headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert response.headers["Location"] == NEUTRAL
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert response.headers["Cache-Control"] == "no-store"
    assert _cleared(response)
    assert _sessions(session) == 0
    # The old cookie, kept or copied, opens nothing now.
    client.set_cookie("auth", old_cookie)
    answer = client.get("/account")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_leave_quickly_works_from_a_browser_too_old_to_say_who_asked(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    _signed_in(app, client, session)
    response = client.get("/leave")
    assert (response.status_code, response.headers["Location"]) == (303, NEUTRAL)
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert _sessions(session) == 0


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_another_site_cannot_sign_people_out(
    app: Flask, client: FlaskClient, session: Session, site: str
) -> None:
    _signed_in(app, client, session)
    response = client.get("/leave", headers={"Sec-Fetch-Site": site})
    assert (response.status_code, response.headers["Location"]) == (303, NEUTRAL)
    assert "Clear-Site-Data" not in response.headers
    assert not _cleared(response)
    assert _sessions(session) == 1
    assert client.get("/account").status_code == 200


def test_leave_quickly_when_signed_out_or_with_a_broken_cookie(client: FlaskClient) -> None:
    response = client.get("/leave", headers={"Sec-Fetch-Site": "same-origin"})
    assert (response.status_code, response.headers["Location"]) == (303, NEUTRAL)
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    # A cookie that cannot be read is a 400 elsewhere; leaving must still leave.
    client.set_cookie("auth", "not-a-session")
    response = client.get("/leave", headers={"Sec-Fetch-Site": "same-origin"})
    assert (response.status_code, response.headers["Location"]) == (303, NEUTRAL)
    assert response.headers["Clear-Site-Data"] == CLEAR_SITE_DATA
    assert _cleared(response)


def test_every_page_links_leave_quickly_through_the_site(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    for path in ("/", "/statements", "/login"):
        assert 'class="leave" href="/leave"' in client.get(path).get_data(as_text=True), path
    _signed_in(app, client, session)
    for path in ("/rooms", "/account"):
        assert 'class="leave" href="/leave"' in client.get(path).get_data(as_text=True), path


def test_signed_in_pages_say_when_the_session_ends(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    note = "Your session ends after 17 minutes without activity."
    assert note not in client.get("/login").get_data(as_text=True)
    _signed_in(app, client, session)
    for path in ("/rooms", "/account"):
        assert note in client.get(path).get_data(as_text=True), path
    farsi = client.get("/rooms", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert '<html lang="fa"' in farsi
    assert "نشست شما پس از 17 دقیقه بی‌فعالیتی پایان می‌یابد." in farsi


def _forms() -> list[type[FlaskForm]]:
    """Every form class of the app."""
    found: dict[str, type[FlaskForm]] = {}
    for module_info in pkgutil.walk_packages(statements.__path__, "statements."):
        if not module_info.name.endswith("forms"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, FlaskForm) and value is not FlaskForm:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_no_typed_field_offers_the_browsers_memory(app: Flask) -> None:
    forms = _forms()
    assert len(forms) > 10
    checked = 0
    with app.test_request_context("/"):
        for form_class in forms:
            form = form_class(meta={"csrf": False})
            for field in form:
                if field.type not in TYPED_FIELDS:
                    continue
                html = render_template_string(
                    '{% from "_form.html" import field %}{{ field(f) }}', f=field
                )
                value = re.search(r'autocomplete="([^"]*)"', html)
                where = f"{form_class.__qualname__}.{field.name}"
                assert value, f"{where} has no autocomplete"
                assert value.group(1) in {
                    "off",
                    "username",
                    "current-password",
                    "new-password",
                    "one-time-code",
                }, where
                checked += 1
    assert checked > 20


def test_no_template_writes_a_text_field_without_autocomplete() -> None:
    fields = re.compile(r"<(textarea|input)\b[^>]*>", re.IGNORECASE)
    not_typed = re.compile(r'type="(hidden|submit|checkbox|radio|file)"')
    found = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in fields.finditer(path.read_text(encoding="utf-8")):
            if not_typed.search(tag.group(0)):
                continue
            found.append(path.name)
            assert 'autocomplete="off"' in tag.group(0), f"{path.name}: {tag.group(0)}"
    assert found  # the moderation note, written by hand


@pytest.mark.parametrize("language", ["en", "fa", "th", "my", "ms"])
def test_the_safety_page_says_what_leave_quickly_does_and_cannot(
    client: FlaskClient, language: str
) -> None:
    page = client.get("/safety", headers={"Accept-Language": language}).get_data(as_text=True)
    section = page.split('id="leave-quickly"', 1)[1].split("<h2", 1)[0]
    # Three things it does, then what it cannot do, then what to do as well.
    assert section.count("<li>") >= 11
    english = (
        "Your session ends on the server at once.",
        "Your browser is asked to delete everything this site keeps in it",
        "It cannot delete your browsing history.",
        "It cannot delete screenshots",
        "may ignore the request to delete this site's data",
        "someone who watched you",
    )
    for sentence in english:
        assert (sentence in section) == (language == "en"), (language, sentence)
    if language == "en":
        # What the page says it clears is what the response asks the browser to clear.
        assert "its cookies, its storage and the pages it kept in memory" in section
        assert SENT_CLEAR_SITE_DATA == '"cache", "cookies", "storage"'
