"""Members' news in the real Chromium, JavaScript off, on a 360-pixel phone, in English and
in Farsi (right to left): a member looks at their room, a coordinator rejects their
comment with a reason and saves a new version, and the member's room list and room then
say so "since your last visit", once. The member then makes a private feed address. Every
page on the way passes axe with no violation, like every journey's."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode
from tests.support import app_today, join_room, make_room, staff_identity

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"news": "Since your last visit", "rejected": "rejected", "feed": "Your private feed"},
    "fa": {"news": "از آخرین بازدید شما", "rejected": "ردشده", "feed": "فید خصوصی شما"},
}


def _seed(app: Flask) -> tuple[str, str, auth.Identity, str]:
    """A room, a member of it with a comment waiting; the room, the codename, the
    coordinator and the comment's id."""
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        coordinator = staff_identity(app, session)
        room_id = make_room(session, coordinator)
        account, codename, keys = auth.create_member(session, app.extensions["auth"])
        member = auth.Identity(account, keys, b"", b"")
        join_room(session, coordinator, room_id, member)
        comment = drafting.submit_contribution(
            session,
            drafting.open_room(session, room_id, member),
            "comment",
            None,
            "Say which ministry.",
            app_today(),
        )
        session.commit()
        return room_id, codename, coordinator, comment.id


def _coordinator_acts(app: Flask, coordinator: auth.Identity, room_id: str, comment: str) -> None:
    """Reject the member's comment with a reason, and save a new version of the draft."""
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        access = drafting.open_room(session, room_id, coordinator)
        drafting.reject(session, access, comment, "out_of_scope", "", app_today())
        current = drafting.version(session, access)
        drafting.edit_draft(
            session,
            access,
            current.markdown + "\n\nA paragraph the coordinators added.\n",
            "Added a paragraph.",
            current.number,
            app_today(),
        )
        session.commit()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_since_your_last_visit_after_a_coordinator_acts(
    browser: Browser, axe_source: str, live_app: LiveApp, language: str
) -> None:
    room_id, codename, coordinator, comment = _seed(live_app.app)
    words = WORDS[language]
    mode = Mode(f"member-news-{language}", javascript=False, language=language)
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        member = journey.person("member", PHONE, language_by="header")
        page = member.page
        member.open("/login", "sign-in")
        page.fill("[name=codename]", codename)
        member.follow(member.main("form button[type=submit]"), "signed-in")
        member.open(f"/rooms/{room_id}", "room-first-look")
        assert words["news"] not in page.content()

        _coordinator_acts(live_app.app, coordinator, room_id, comment)

        member.open("/rooms", "rooms-with-news")
        news = member.main("section.news")
        assert news.count() == 1
        assert words["rejected"] in news.inner_text()
        member.follow(member.main(f'a[href="/rooms/{room_id}"]').first, "room-with-news")
        box = member.main("section.news")
        assert words["news"] in box.inner_text()
        assert words["rejected"] in box.inner_text()
        assert box.locator("li").count() == 2  # the decision and the new version
        # Seen now: looking again shows nothing new.
        member.open(f"/rooms/{room_id}", "room-seen")
        assert member.main("section.news").count() == 0

        member.open("/rooms", "rooms-seen")
        member.follow(member.main('a[href="/account/feed"]'), "feed-page")
        assert words["feed"] in page.content()
        member.follow(member.main('button[value="create"]'), "feed-created")
        address = member.main("#feed-address").input_value()
        assert "/feeds/" in address
        with live_app.app.test_client() as reader:
            response = reader.get("/feeds/" + address.rsplit("/feeds/", 1)[1])
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "no-store"
        member.follow(member.main('button[value="revoke"]'), "feed-stopped")
        assert member.main("#feed-address").count() == 0
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, journey.report()
