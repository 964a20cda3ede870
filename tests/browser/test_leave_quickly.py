"""Leave quickly, in the real Chromium with JavaScript off, as a member interrupted would.

The member types into a comment, taps Leave quickly, lands on the neutral page and
presses Back: neither the signed-in page nor the typed words come back, and the session
is gone on the server, so the old cookie opens nothing. In English and in Farsi (right
to left), with every page of the site on the way checked as the journeys check theirs.

Playwright launches Chromium without its back/forward cache; here it is switched back on
(as every phone has it), so that the test shows the site keeps its pages out of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from statements.auth import cookie_name
from statements.db import Database
from statements.models import LoginSession
from statements.settings import Settings
from tests.browser.conftest import _QuietHandler
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, PHONE, Journey, LiveApp, Mode
from tests.support import join_room, make_room, staff_identity

pytestmark = pytest.mark.browser

NEUTRAL_PAGE = b"<!doctype html><title>Weather</title><p>Sunny with light wind.</p>"
TYPED = {
    "en": "My cousin in Kuala Lumpur detention told me",
    "fa": "پسر عمویم در بازداشتگاه کوالالامپور به من گفت",
}


@pytest.fixture(scope="module")
def chromium_with_bfcache(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium with its back/forward cache on, as in everyday use."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        yield browser
    finally:
        browser.close()


def _seed(app: Flask) -> tuple[str, str]:
    """A drafting room with one member; the room's id and the member's codename."""
    from statements.auth import service as auth

    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        coordinator = staff_identity(app, session)
        room_id = make_room(session, coordinator)
        account, codename, keys = auth.create_member(session, app.extensions["auth"])
        join_room(session, coordinator, room_id, auth.Identity(account, keys, b"", b""))
        session.commit()
    return room_id, codename


def _sessions(app: Flask) -> int:
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(LoginSession)) or 0


@pytest.fixture
def neutral_site() -> Iterator[str]:
    """Another site on this machine, standing in for the configured neutral page."""

    def page(_environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [NEUTRAL_PAGE]

    server = make_server("127.0.0.1", 0, page, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="neutral-site", daemon=True)
    thread.start()
    try:
        # "localhost", not the app's 127.0.0.1: another origin, as the real one would be.
        yield f"http://localhost:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_back_after_leave_quickly_shows_nothing_typed_and_no_signed_in_page(
    chromium_with_bfcache: Browser,
    axe_source: str,
    live_app: LiveApp,
    neutral_site: str,
    language: str,
) -> None:
    settings: Settings = live_app.app.extensions["settings"]
    live_app.app.extensions["settings"] = replace(settings, leave_quickly_url=neutral_site)
    room_id, codename = _seed(live_app.app)
    name = cookie_name(settings)
    typed = TYPED[language]
    mode = Mode(f"leave-quickly-{language}", javascript=False, language=language)
    journey = Journey(chromium_with_bfcache, mode, live_app.base_url, axe_source)
    try:
        member = journey.person("member", PHONE, language_by="header")
        context, page = member.context, member.page
        member.open("/login", "sign-in")
        page.fill("[name=codename]", codename)
        member.follow(member.main("form button[type=submit]"), "signed-in")
        contribute = f"/rooms/{room_id}/contribute?kind=comment"
        member.open(contribute, "comment")
        page.fill("textarea[name=text]", typed)
        old_cookie = next(c["value"] for c in context.cookies() if c["name"] == name)
        assert _sessions(live_app.app) == 1
        # Something else this site kept in the browser, for Clear-Site-Data to remove.
        context.add_cookies([{"name": "kept", "value": "1", "url": live_app.base_url}])

        with page.expect_navigation():
            page.locator("header a.leave").click()
        assert page.url == neutral_site
        assert "Sunny" in page.content()
        # The browser kept nothing of the site, and the server kept no session.
        assert context.cookies() == []
        assert _sessions(live_app.app) == 0

        # "commit", not "load": a page restored from the back/forward cache fires no load,
        # and would time out here rather than fail the checks that say what went wrong.
        page.go_back(wait_until="commit")
        assert page.url.split("?")[0] == f"{live_app.base_url}/login", page.url
        expect(page.locator("[name=codename]")).to_be_visible()
        assert typed not in page.content()
        assert page.locator('form[action="/logout"]').count() == 0
        assert page.locator(".session-note").count() == 0
        values = [field.input_value() for field in page.locator("textarea, input").all()]
        assert not any(typed in value for value in values), values
        assert name not in {cookie["name"] for cookie in context.cookies()}
        # The sign-in page Back led to, in the member's language.
        member.arrived("back")
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    # The neutral page is another site by design; nothing else may be.
    findings = [found for found in journey.findings if neutral_site not in found]
    assert not findings, "\n".join(findings)

    with live_app.app.test_client() as client:
        client.set_cookie(name, old_cookie)
        response = client.get(contribute)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
