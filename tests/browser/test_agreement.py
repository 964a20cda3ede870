"""Agreement in a real browser, JavaScript off, on a phone, in English and in Farsi.

A member objects to another's proposal with a reason; the counts show on the proposal and
the reason in the coordinator's queue. The coordinator opens a consent check on a section;
three members answer (one objects with a reason); the coordinator closes it and everyone
reads the counts and the reason, never who gave them (fewer answers would be withheld).
Every page is checked as in test_journey.py: axe-core at zero violations, size, no foreign
request, lang and dir. The room and its people are made through the services, to keep the run short.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import app_today, join_room, make_room, make_staff

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Words:
    """What the people type."""

    room_language: str
    draft: str
    proposal: str
    objection: str
    question: str
    answer_reason: str


ENGLISH = Words(
    room_language="en",
    draft="# Right to work\n\nRefugees are denied work.\n\nWe call for work permits.\n",
    proposal="Refugees in the region are denied lawful work.",
    objection="It drops the arrests at workplaces.",
    question="Can we all live with the call for permits?",
    answer_reason="Permits alone do not stop the arrests.",
)
FARSI = Words(
    room_language="fa",
    draft="# حق کار\n\nپناهندگان از حق کار محروم هستند.\n\nخواستار مجوز کار هستیم.\n",
    proposal="پناهندگان در منطقه از کار قانونی محروم هستند.",
    objection="بازداشت در محل کار را حذف می‌کند.",
    question="آیا همه می‌توانیم با درخواست مجوز کار کنار بیاییم؟",
    answer_reason="مجوز به تنهایی بازداشت‌ها را متوقف نمی‌کند.",
)
MODES = [
    Mode("agreement-nojs", javascript=False, language="en"),
    Mode("agreement-fa-nojs", javascript=False, language="fa"),
]


@dataclass(frozen=True)
class Seeded:
    room_id: str
    username: str
    passphrase: str
    totp_secret: str
    codenames: tuple[str, str, str]


def _seed(live: LiveApp, words: Words) -> Seeded:
    """A coordinator, a room, three members, and a proposal by the first on section 2."""
    app = live.app
    database: Database = app.extensions["db"]
    config: auth.AuthConfig = app.extensions["auth"]
    with database.sessionmaker() as session:
        staff = make_staff(app, session, "amina")
        account, keys = auth.login_staff(
            session,
            config,
            staff.username,
            staff.passphrase,
            staff.code(live.clock()),
            live.clock(),
        )
        live.clock.advance(seconds=30)
        coordinator = auth.Identity(account, keys, b"", b"")
        room_id = make_room(session, coordinator, markdown=words.draft, title="Agreement")
        codenames = []
        members = []
        for _ in range(3):
            member_account, codename, member_keys = auth.create_member(session, config)
            member = auth.Identity(member_account, member_keys, b"", b"")
            join_room(session, coordinator, room_id, member)
            codenames.append(codename)
            members.append(member)
        access = drafting.open_room(session, room_id, members[0])
        anchor = drafting.version(session, access).sections[1].anchor
        drafting.submit_contribution(
            session, access, "amendment", anchor, words.proposal, app_today()
        )
        session.commit()
    return Seeded(room_id, staff.username, staff.passphrase, staff.totp_secret, tuple(codenames))  # type: ignore[arg-type]


# Signing in is checked page by page in test_journey.py: here it is only the way in.


def _member(journey: Journey, name: str, codename: str) -> Person:
    person = journey.person(name, PHONE, language_by="header")
    person.page.goto("/login")
    form = person.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(codename)
    with person.page.expect_navigation():
        form.locator('[type="submit"]').click()
    return person


def _coordinator(journey: Journey, live: LiveApp, seeded: Seeded) -> Person:
    import pyotp

    person = journey.person("coordinator", PHONE, language_by="header")
    person.page.goto("/staff/login")
    form = person.main('form[method="post"]')
    form.locator('[name="username"]').fill(seeded.username)
    form.locator('[name="passphrase"]').fill(seeded.passphrase)
    form.locator('[name="code"]').fill(pyotp.TOTP(seeded.totp_secret).at(live.clock()))
    with person.page.expect_navigation():
        form.locator('[type="submit"]').click()
    assert person.page.locator('form[action="/logout"]').count() == 1, "not signed in"
    live.clock.advance(seconds=30)
    return person


def _story(journey: Journey, live: LiveApp, words: Words) -> None:
    seeded = _seed(live, words)
    room = f"/rooms/{seeded.room_id}"
    author = _member(journey, "author", seeded.codenames[0])
    objector = _member(journey, "objector", seeded.codenames[1])
    third = _member(journey, "third", seeded.codenames[2])
    coordinator = _coordinator(journey, live, seeded)

    # The objector objects to the author's proposal, with a reason.
    objector.open(f"{room}/contributions", "contributions")
    objector.follow(objector.main("a.object"), "object-page")
    form = objector.main('form[method="post"]:has([name="reason"])')
    form.locator('[name="reason"]').fill(words.objection)
    objector.follow(form.locator('[type="submit"]'), "objected")
    assert objector.page.url.endswith("/contributions")
    assert "1" in objector.main("span.objections").inner_text()
    assert words.objection in objector.main("p.objected").inner_text()
    # The author sees the count, not the reason (the room does not show reasons).
    # (A page already checked above in another person's browser: only read here.)
    author.page.goto(f"{room}/contributions")
    assert "1" in author.main("span.objections").inner_text()
    assert words.objection not in author.page.locator("#main").inner_text()
    # The coordinator reads the reason in the queue.
    coordinator.open(f"{room}/moderation", "moderation")
    assert "1" in coordinator.main("span.objections").inner_text()
    assert words.objection in coordinator.main("details.objection-reasons").inner_text()

    # A consent check on section 2.
    coordinator.follow(coordinator.page.locator('nav.room-nav a[href$="/agreement"]'), "agreement")
    open_form = coordinator.main('form[action$="/agreement/open"]')
    options = open_form.locator('select[name="section"] option')
    open_form.locator('select[name="section"]').select_option(
        options.nth(2).get_attribute("value") or ""
    )
    open_form.locator('[name="question"]').fill(words.question)
    coordinator.follow(open_form.locator('[type="submit"]'), "check-opened")
    assert words.question in coordinator.main("section.consent-check").inner_text()

    for person, answer, reason in (
        (author, "agree", ""),
        (objector, "object", words.answer_reason),
        (third, "abstain", ""),
    ):
        if person is third:
            person.open(f"{room}/agreement", "agreement")
        else:
            person.follow(person.page.locator('nav.room-nav a[href$="/agreement"]'), "agreement")
        form = person.main("form.answer")
        form.locator(f'input[type="radio"][value="{answer}"]').check()
        if reason:
            form.locator('textarea[name$="reason"]').fill(reason)
        person.follow(form.locator('[type="submit"]'), "answered")
        assert person.main("p.my-answer").count() == 1
        # Nothing of the results while it is open.
        assert person.main("ul.results").count() == 0

    coordinator.page.goto(f"{room}/agreement")
    assert coordinator.main("ul.results").count() == 0
    assert words.answer_reason not in coordinator.page.locator("#main").inner_text()
    coordinator.follow(coordinator.main('form[action$="/close"] [type="submit"]'), "closed")
    for person in (coordinator, author):
        if person is author:
            person.open(f"{room}/agreement", "results")
        results = person.main("ul.results").inner_text()
        assert [int(n) for n in "".join(c if c.isdigit() else " " for c in results).split()] == [
            1,
            1,
            1,
        ]
        assert words.answer_reason in person.main("ul.reasons").inner_text()


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_agreement(mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    words = FARSI if mode.language == "fa" else ENGLISH
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        _story(journey, live_app, words)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )
