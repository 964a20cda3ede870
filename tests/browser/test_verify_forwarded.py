"""Checking a forwarded copy on /verify in a real browser: JavaScript off, on a phone, in
English and in Farsi, every page checked like all others (axe at zero, size, language).

A reader pastes the text of an older version and is told which one it is and that a
newer one exists; then uploads the statement's PDF, as the site serves it, and is told it
is the latest version; then pastes a paragraph someone altered and is shown the closest
version with the words that differ.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from crypto.plaintext import markdown_text
from statements.db import Database
from statements.publishing import service
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person, seed_coordinator
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
)

pytestmark = pytest.mark.browser

MODES = [
    Mode("verify-forwarded-en", javascript=False, language="en"),
    Mode("verify-forwarded-fa", javascript=False, language="fa"),
]
FIRST = """\
# Refugees must be allowed to work

We, the undersigned organisations, call on the government to let refugees work legally.

Without work permits, families fall into debt and children leave school to earn money.
"""
SECOND = FIRST + "\nEmployers who hire refugees should never be fined for doing so.\n"
ALTERED = "Without work permits, families fall into debt and children leave school to beg."


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_verify_a_forwarded_copy(
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


def story(journey: Journey, live: LiveApp, tmp_path: Path) -> None:
    """Paste an old version, upload the latest's PDF, paste an altered paragraph."""
    seed(live)
    reader = journey.person("reader", PHONE, language_by="header")
    reader.open("/verify", "verify")

    check(reader, "paste-old", text=markdown_text(FIRST))
    verdict = reader.main(".verdict")
    assert verdict.locator('a[href="/statements/right-to-work/v/1"]').count() == 1
    # Not the latest: the latest is linked.
    assert verdict.locator('a[href="/statements/right-to-work/v/2"]').count() == 1

    pdf = tmp_path / "right-to-work-v2.pdf"
    pdf.write_bytes(live.app.test_client().get("/statements/right-to-work/v/2/statement.pdf").data)
    check(reader, "upload-pdf", upload=pdf)
    verdict = reader.main(".verdict.valid")
    assert verdict.locator('a[href="/statements/right-to-work/v/2"]').count() == 1
    assert verdict.locator("q.forwarded").count() == 2  # the words around it, to read

    check(reader, "paste-altered", text=ALTERED)
    verdict = reader.main(".verdict.invalid")
    # Both versions hold the paragraph it alters: the newest is the one compared.
    assert verdict.locator('a[href="/statements/right-to-work/v/2"]').count() == 1
    assert reader.main(".diff del").count() >= 1
    assert reader.main(".diff ins").count() >= 1


def check(reader: Person, step: str, *, text: str = "", upload: Path | None = None) -> None:
    """Fill the forwarded-copy form and send it."""
    form = reader.main('form:has([name="statement_text"])')
    form.locator('[name="statement_text"]').fill(text)
    if upload is not None:
        form.locator('[name="statement_file"]').set_input_files(str(upload))
    reader.follow(form.locator('[type="submit"]'), step)


def seed(live: LiveApp) -> None:
    """One statement in two versions, the second a paragraph longer."""
    staff = seed_coordinator(live)
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        coordinator = staff.identity(session)
        room_id = make_room(session, coordinator, markdown=FIRST)
        member = member_identity(live.app, session)
        join_room(session, coordinator, room_id, member)
        open_signon(session, coordinator, room_id)
        endorse(session, room_id, member, "public", "Refugee Rights Network", "Thailand")
        publish_room(session, coordinator, room_id, "right-to-work")
        service.correct(
            session,
            coordinator,
            "right-to-work",
            app_today(),
            title="Refugees must be allowed to work",
            body=SECOND,
            signatories="Refugee Rights Network | Thailand",
            reason="A paragraph was added.",
        )
        session.commit()
