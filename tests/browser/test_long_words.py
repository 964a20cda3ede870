"""One unbroken word of 10,000 letters, wherever people type, keeps a 360-px page 360 px wide."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, LiveApp
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    staff_identity,
)

pytestmark = pytest.mark.browser

WORD = "Refugee" * 1430  # 10,010 letters, no break opportunity
# Titles and names are capped (200 letters): as long a word as they may hold.
SHORT_WORD = "Refugee" * 28
DRAFT = f"# {WORD}\n\nThe draft says {WORD} once.\n\n- {WORD}\n"


def _seed(app: Flask) -> tuple[str, str, str]:
    """A published statement and a drafting room, full of the word; a member's codename."""
    from statements.auth import service as auth

    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        coordinator = staff_identity(app, session)
        published = make_room(session, coordinator, title=SHORT_WORD, markdown=DRAFT)
        signer = member_identity(app, session)
        join_room(session, coordinator, published, signer)
        open_signon(session, coordinator, published)
        endorse(session, published, signer, "public", SHORT_WORD, SHORT_WORD[:80])
        slug = publish_room(session, coordinator, published)

        room_id = make_room(session, coordinator, title=SHORT_WORD, markdown=DRAFT)
        account, codename, keys = auth.create_member(session, app.extensions["auth"])
        member = auth.Identity(account, keys, b"", b"")
        join_room(session, coordinator, room_id, member)
        access = drafting.open_room(session, room_id, member)
        anchor = drafting.version(session, access).sections[0].anchor
        drafting.submit_contribution(
            session,
            access,
            "amendment",
            anchor,
            f"Say {WORD[: drafting.MAX_CONTRIBUTION - 20]} instead.",
            app_today(),
        )
        session.commit()
    return slug, room_id, codename


def _width(page: Page, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    assert SHORT_WORD in page.content(), url
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_long_word_wraps_on_a_phone(browser: Browser, live_app: LiveApp) -> None:
    # The journeys' Chromium: one Playwright per test session (a second one in the same
    # process refuses to start inside the first one's event loop).
    slug, room_id, codename = _seed(live_app.app)
    context = browser.new_context(viewport=PHONE, base_url=live_app.base_url)
    try:
        page = context.new_page()
        widths = {
            path: _width(page, path)
            for path in (f"/statements/{slug}", f"/statements/{slug}/v/1", "/")
        }
        page.goto("/login")
        page.fill("[name=codename]", codename)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        for path in (f"/rooms/{room_id}", f"/rooms/{room_id}/contributions", "/rooms"):
            widths[path] = _width(page, path)
    finally:
        context.close()
    too_wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
    assert not too_wide, too_wide
