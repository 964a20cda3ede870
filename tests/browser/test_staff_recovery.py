"""Staff recovery in a real browser, on a phone with JavaScript off, in English and Farsi.

A coordinator signs in with a recovery code in place of her phone's code. Later she has
lost both: one admin proposes a reset, a second approves it, she sets her account up
again from the new link (and sees new recovery codes), and once a fellow coordinator of
her room signs in, the room is hers to read again. An admin then reads the audit log.
Every page is checked as in test_journey.py: axe-core, size, no foreign request, width.
"""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from statements.models import Account, Role
from statements.staff import recovery
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import Staff, make_room, make_staff

pytestmark = pytest.mark.browser

NEW_PASSPHRASE = "harbour violet tundra ribbon kettle"
MODES = [
    Mode("staff-en", javascript=False, language="en"),
    Mode("staff-fa", javascript=False, language="fa"),
]


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_staff_recovery(mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
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


def seed(live: LiveApp) -> tuple[dict[str, Staff], str, list[str]]:
    """Two admins, two coordinators of one room, and the first coordinator's codes."""
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        people = {
            "first": make_staff(live.app, session, "first-admin", Role.ADMIN),
            "second": make_staff(live.app, session, "second-admin", Role.ADMIN),
            "amina": make_staff(live.app, session, "amina"),
            "bilal": make_staff(live.app, session, "bilal"),
        }
        config = live.app.extensions["auth"]
        clock = live.clock
        account, keys = auth.login_staff(
            session,
            config,
            "amina",
            people["amina"].passphrase,
            people["amina"].code(clock()),
            clock(),
        )
        clock.advance(seconds=30)
        amina = auth.Identity(account, keys, session_id_hash=b"", session_key=b"")
        room_id = make_room(session, amina, title="Right to work")
        drafting.add_coordinator(session, drafting.open_room(session, room_id, amina), "bilal")
        row = session.get(Account, people["amina"].account_id)
        assert row is not None
        codes = recovery.issue_codes(session, config, row)
        session.commit()
    return people, room_id, codes


def sign_in(person: Person, live: LiveApp, staff: Staff, code: str | None = None) -> None:
    """The staff sign-in form, with the app's code unless another code is given."""
    person.open("/staff/login", "staff-sign-in")
    person.choose_language()
    form = person.main('form[method="post"]')
    form.locator('[name="username"]').fill(staff.username)
    form.locator('[name="passphrase"]').fill(staff.passphrase)
    form.locator('[name="code"]').fill(code or pyotp.TOTP(staff.totp_secret).at(live.clock()))
    person.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)
    assert person.page.locator('form[action="/logout"]').count() == 1, "not signed in"


def story(journey: Journey, live: LiveApp) -> None:
    """The steps, as the people would take them."""
    people, room_id, codes = seed(live)

    # Amina's phone is flat: a recovery code stands in for its code.
    amina = journey.person("amina", PHONE, language_by="header")
    sign_in(amina, live, people["amina"], code=codes[0])

    # Later she loses phone and codes. One admin proposes a reset...
    first = journey.person("first-admin", PHONE, language_by="header")
    sign_in(first, live, people["first"])
    first.open("/admin/accounts", "accounts")
    reset = f'form[action="/admin/accounts/{people["amina"].account_id}/reset"]'
    first.follow(first.main(reset).locator('[type="submit"]'), "reset-proposed")
    # ...and a second approves it, and passes the new set-up link on.
    second = journey.person("second-admin", PHONE, language_by="header")
    sign_in(second, live, people["second"])
    second.open("/admin/accounts", "accounts")
    approve = f'form[action="/admin/accounts/{people["amina"].account_id}/reset/approve"]'
    second.follow(second.main(approve).locator('[type="submit"]'), "reset-approved")
    link = second.main('[aria-labelledby="enrolment-heading"] code.secret').inner_text().strip()
    assert "/enrol/" in link, link

    # Amina sets up again, on a new phone (the reset signed her out everywhere).
    amina.open(link, "set-up-page")
    secret = amina.main("code.secret").inner_text().strip()
    form = amina.main('form[method="post"]')
    form.locator('[name="passphrase"]').fill(NEW_PASSPHRASE)
    form.locator('[name="confirm"]').fill(NEW_PASSPHRASE)
    form.locator('[name="code"]').fill(pyotp.TOTP(secret).at(live.clock()))
    amina.follow(form.locator('[type="submit"]'), "set-up-done")
    live.clock.advance(seconds=30)
    assert amina.main("ol.recovery-codes code").count() == recovery.CODE_COUNT
    amina.follow(amina.main('a[href="/rooms"]'), "rooms")
    assert amina.page.locator('form[action="/logout"]').count() == 1, "not signed in"

    # Bilal, who coordinates the room with her, signs in: her keys are restored.
    bilal = journey.person("bilal", PHONE, language_by="header")
    sign_in(bilal, live, people["bilal"])
    amina.open(f"/rooms/{room_id}", "room-regained")
    assert "Right to work" in amina.page.content()

    # The first admin reads what staff did.
    first.open("/admin/audit?action=reset-approved", "audit-log-filtered")
    assert first.main("tbody tr").count() == 1
