"""An anonymous endorser checks that they are counted, on a phone with JavaScript off, in
English and Farsi.

Hana signs on anonymously: the sign-on page shows her commitment and that it is counted.
The statement is published; from its page she checks again, against the signed bundle,
and downloads her proof, which the offline verifier accepts. The coordinator then
removes her commitment with a reason; her check now says she is not counted. Every page
is checked as in test_journey.py: axe-core, size, no foreign request, width.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from crypto.verify_cli import main
from statements.db import Database
from tests.browser.harness import (
    PHONE,
    Journey,
    LiveApp,
    Mode,
    Person,
    SeededStaff,
    seed_coordinator,
    seed_members,
    sign_in_member,
    sign_in_staff,
)
from tests.support import make_room, open_signon, publish_room

pytestmark = pytest.mark.browser

MODES = [
    Mode("anonymous-check-en", javascript=False, language="en"),
    Mode("anonymous-check-fa", javascript=False, language="fa"),
]
SLUG = "right-to-work"


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_an_anonymous_endorser_checks_they_are_counted(
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


def seed(live: LiveApp) -> tuple[SeededStaff, str, list[str]]:
    """A room in sign-on, its coordinator and two members."""
    coordinator = seed_coordinator(live)
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        room_id = make_room(session, coordinator.identity(session), title="Right to work")
        session.commit()
    codenames = seed_members(live, coordinator, room_id, 2)
    with database.sessionmaker() as session:
        open_signon(session, coordinator.identity(session), room_id)
        session.commit()
    return coordinator, room_id, codenames


def endorse_anonymously(person: Person, room_id: str) -> str:
    """Sign on anonymously; the sign-on page shows the commitment, counted."""
    person.open(f"/rooms/{room_id}/sign-on", "sign-on")
    form = person.main(f'form[action="/rooms/{room_id}/sign-on"]')
    form.locator('input[name="kind"][value="anonymous"]').check()
    person.follow(form.locator('[type="submit"]'), "endorsed")
    check = person.main("#my-commitment")
    assert check.count() == 1, "the sign-on page shows the member's check"
    assert check.locator(".warning").count() == 0, "the endorsement is counted"
    return check.locator("code").inner_text().strip()


def story(journey: Journey, live: LiveApp, tmp_path: Path) -> None:
    """The steps, as the people would take them."""
    coordinator, room_id, codenames = seed(live)
    hana = sign_in_member(journey, "hana", codenames[0], PHONE)
    commitment = endorse_anonymously(hana, room_id)
    assert len(commitment) == 64
    other = sign_in_member(journey, "omar", codenames[1], PHONE)
    assert endorse_anonymously(other, room_id) != commitment

    # The queued endorsements are in; the coordinators publish.
    live.app.extensions["mixer"].flush()
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        publish_room(session, coordinator.identity(session), room_id, SLUG)
        session.commit()

    hana.open(f"/statements/{SLUG}", "statement")
    hana.follow(hana.main(f'a[href="/statements/{SLUG}/my-endorsement"]'), "my-endorsement")
    counted = hana.main(".commitment")
    assert commitment in counted.inner_text()
    assert counted.locator(".warning").count() == 0, "counted in the signed bundle"
    proof = hana.download(hana.main('a[href$="/my-endorsement/proof.json"]'), tmp_path)
    reader = live.app.test_client()
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(reader.get(f"/statements/{SLUG}/v/1/bundle.json").data)
    keys = tmp_path / "statement-keys.json"
    keys.write_bytes(reader.get("/.well-known/statement-keys.json").data)
    assert main([str(bundle), "--keys", str(keys), "--commitment-proof", str(proof)]) == 0

    # The coordinator removes her commitment, with a reason, in a correction.
    staff = sign_in_staff(journey, live, coordinator, PHONE)
    staff.open(f"/published/{SLUG}/correct", "correct")
    form = staff.main(f'form[action="/published/{SLUG}/correct"], form:has([name="removals"])')
    form.locator('[name="removals"]').fill(f"{commitment} | The organisation asked to leave.")
    form.locator('[name="reason"]').fill("An organisation withdrew.")
    staff.follow(form.locator('[type="submit"]').first, "corrected")
    assert staff.page.url == f"{journey.base_url}/statements/{SLUG}"

    hana.open(f"/statements/{SLUG}/my-endorsement", "not-counted")
    assert hana.main(".commitment .warning").count() == 1, "no longer counted"
    assert hana.main('a[href$="/my-endorsement/proof.json"]').count() == 0
