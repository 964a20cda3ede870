"""Release on a date in a real browser, on a phone with JavaScript off, in English and Farsi.

Amina signs a statement to be published in two days, on Kabul's clock, and makes a press
link. A journalist reads it through the link, marked embargoed in their language. A
reader finds it nowhere public: not on the site, the API, the feed, the log, nor the
static mirror. Time moves on (the app's clock, no sleeping): the first visit after the
time publishes it, and it is everywhere, with its log entry. Every page is checked as in
test_journey.py: axe-core, size, no foreign request, width.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser

from statements.db import Database
from statements.publishing.export import export_site
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.browser.test_shared_control import sign_in
from tests.support import Staff, endorse, join_room, make_room, make_staff, member_identity
from tests.support import open_signon as freeze

pytestmark = pytest.mark.browser

MODES = [
    Mode("embargo-en", javascript=False, language="en"),
    Mode("embargo-fa", javascript=False, language="fa"),
]
SLUG = "right-to-work"
ZONE = "Asia/Kabul"


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_release_on_a_date(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp, tmp_path: Path
) -> None:
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app, tmp_path)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def seed(live: LiveApp) -> tuple[Staff, str]:
    """A coordinator of a room in sign-on, with one anonymous endorsement."""
    from statements.auth import service as auth

    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        staff = make_staff(live.app, session, "amina")
        config = live.app.extensions["auth"]
        account, keys = auth.login_staff(
            session, config, "amina", staff.passphrase, staff.code(live.clock()), live.clock()
        )
        live.clock.advance(seconds=30)
        amina = auth.Identity(account, keys, session_id_hash=b"", session_key=b"")
        room_id = make_room(session, amina, title="Right to work")
        member = member_identity(live.app, session)
        join_room(session, amina, room_id, member)
        freeze(session, amina, room_id)
        endorse(session, room_id, member, "anonymous")
        session.commit()
    return staff, room_id


def public_surfaces(reader: Person, live: LiveApp, mirror: Path) -> dict[str, bool]:
    """Where the statement shows: its page, the API, the feed, the log, the mirror."""
    request = reader.page.request
    checkpoint = request.get("/log/checkpoint")
    size = int(checkpoint.text().split("\n")[1]) if checkpoint.status == 200 else 0
    # Each entry, and the bundle a log monitor opens a commitment with (404 before).
    entries = [
        request.get(f"/log/entries/{n}").body()
        + (opened.body() if (opened := request.get(f"/log/entries/{n}/bundle.json")).ok else b"")
        for n in range(size)
    ]
    export_site(live.app, mirror, "https://mirror.example")
    return {
        "page": request.get(f"/statements/{SLUG}").status == 200,
        "api": SLUG in request.get("/api/v1/statements").text(),
        "feed": SLUG in request.get("/feed.atom").text(),
        "log": any(SLUG.encode() in entry for entry in entries),
        "mirror": (mirror / "statements" / SLUG / "index.html").exists(),
    }


def story(journey: Journey, live: LiveApp, tmp_path: Path) -> None:
    """The steps, as the people would take them."""
    staff, room_id = seed(live)
    amina = journey.person("amina", PHONE, language_by="header")
    sign_in(amina, live, staff)

    # Two days from now, on Kabul's clock.
    release = (live.clock() + timedelta(days=2)).astimezone(ZoneInfo(ZONE))
    amina.open(f"/rooms/{room_id}/publish", "publish-page")
    form = amina.main(f'form[action="/rooms/{room_id}/publish"]')
    form.locator('[name="slug"]').fill(SLUG)
    form.locator('[name="release_at"]').fill(release.strftime("%Y-%m-%dT%H:%M"))
    form.locator('[name="zone"]').fill(ZONE)
    # A time already gone is refused, with the form kept as typed.
    form.locator('[name="release_at"]').fill(
        (release - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator('input[name="confirm"]').check()
    amina.follow(form.locator('[type="submit"]'), "past-time-refused", status=400)
    assert amina.main("#release_at-error").count() == 1
    form = amina.main(f'form[action="/rooms/{room_id}/publish"]')
    form.locator('[name="release_at"]').fill(release.strftime("%Y-%m-%dT%H:%M"))
    form.locator('input[name="confirm"]').check()
    amina.follow(form.locator('[type="submit"]'), "scheduled")
    assert amina.page.url.endswith(f"/rooms/{room_id}/embargo")
    assert f"({ZONE})" in amina.main(".notice-box").first.inner_text()

    press = amina.main('form[action$="/embargo/press-links"]')
    press.locator('[name="label"]').fill("Wire services")
    amina.follow(press.locator('[type="submit"]'), "press-link-made")
    link = amina.main("#press-link").inner_text()
    found = re.search(r"/press/[A-Za-z0-9_-]+$", link)
    assert found, link

    journalist = journey.person("journalist", PHONE, language_by="header")
    journalist.open(found.group(0), "press-preview")
    banner = journalist.main(".banner.embargoed").inner_text()
    assert f"({ZONE})" in banner
    assert ("Embargoed until" in banner) == (journey.mode.language == "en")
    robots = journalist.page.locator('meta[name="robots"]').get_attribute("content") or ""
    assert "noindex" in robots

    reader = journey.person("reader", PHONE, language_by="header")
    reader.open("/", "index-before")
    assert reader.main(f'a[href="/statements/{SLUG}"]').count() == 0
    assert not any(public_surfaces(reader, live, tmp_path / "mirror-before").values())

    live.clock.advance(days=2, minutes=1)
    # The first visit after the time publishes it: no one has to be signed in.
    # (A new reader: the first one's browser may keep the index for its minute.)
    later = journey.person("later-reader", PHONE, language_by="header")
    later.open("/", "index-after")
    later.follow(later.main(f'a[href="/statements/{SLUG}"]'), "statement-after")
    assert all(public_surfaces(later, live, tmp_path / "mirror-after").values())
    # The press link now leads to the public statement.
    journalist.open(found.group(0), "press-link-after")
    assert journalist.page.url == f"{journey.base_url}/statements/{SLUG}"
