"""The two-person rule in a real browser, on a phone with JavaScript off, in English and Farsi.

Amina and Bilal coordinate a room that raised the two-person rule. Amina proposes the
publication: nothing is published. Bilal opens the proposals, reads exactly what will be
signed, and approves it: the statement is published. Every page is checked as in
test_journey.py: axe-core, size, no foreign request, width.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from statements.models import Room
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import Staff, endorse, join_room, make_room, make_staff, member_identity
from tests.support import open_signon as freeze

pytestmark = pytest.mark.browser

MODES = [
    Mode("control-en", javascript=False, language="en"),
    Mode("control-fa", javascript=False, language="fa"),
]


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_two_person_publication(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp
) -> None:
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def seed(live: LiveApp) -> tuple[dict[str, Staff], str]:
    """Two coordinators of a room in sign-on that raised the rule; one anonymous endorsement."""
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        people = {
            "amina": make_staff(live.app, session, "amina"),
            "bilal": make_staff(live.app, session, "bilal"),
        }
        config = live.app.extensions["auth"]
        account, keys = auth.login_staff(
            session,
            config,
            "amina",
            people["amina"].passphrase,
            people["amina"].code(live.clock()),
            live.clock(),
        )
        live.clock.advance(seconds=30)
        amina = auth.Identity(account, keys, session_id_hash=b"", session_key=b"")
        room_id = make_room(session, amina, title="Right to work")
        drafting.add_coordinator(session, drafting.open_room(session, room_id, amina), "bilal")
        member = member_identity(live.app, session)
        join_room(session, amina, room_id, member)
        freeze(session, amina, room_id)
        endorse(session, room_id, member, "anonymous")
        room = session.get(Room, room_id)
        assert room is not None
        room.two_person = True
        session.commit()
    return people, room_id


def sign_in(person: Person, live: LiveApp, staff: Staff) -> None:
    """The staff sign-in form."""
    person.open("/staff/login", "staff-sign-in")
    person.choose_language()
    form = person.main('form[method="post"]')
    form.locator('[name="username"]').fill(staff.username)
    form.locator('[name="passphrase"]').fill(staff.passphrase)
    form.locator('[name="code"]').fill(staff.code(live.clock()))
    person.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)
    assert person.page.locator('form[action="/logout"]').count() == 1, "not signed in"


def story(journey: Journey, live: LiveApp) -> None:
    """The steps, as the people would take them."""
    people, room_id = seed(live)
    amina = journey.person("amina", PHONE, language_by="header")
    sign_in(amina, live, people["amina"])
    amina.open(f"/rooms/{room_id}/publish", "publish-page")
    form = amina.main(f'form[action="/rooms/{room_id}/publish"]')
    form.locator('[name="slug"]').fill("right-to-work")
    form.locator('input[name="confirm"]').check()
    amina.follow(form.locator('[type="submit"]'), "proposed")
    assert "/proposals/" in amina.page.url
    # Her own proposal: she may cancel it, not approve it.
    assert amina.main('form[action$="/approve"]').count() == 0

    bilal = journey.person("bilal", PHONE, language_by="header")
    sign_in(bilal, live, people["bilal"])
    bilal.open("/proposals", "proposals")
    bilal.follow(bilal.main('a[href^="/proposals/"]').first, "proposal")
    assert "Refugees in the region are denied the right to work." in bilal.page.content()
    bilal.follow(bilal.main('form[action$="/approve"] [type="submit"]'), "published")
    assert bilal.page.url == f"{journey.base_url}/statements/right-to-work"
