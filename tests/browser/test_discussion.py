"""Discussion in a real browser, JavaScript off, on a phone, in English and in Farsi.

A member replies to a proposal; a coordinator answers that reply (shown as the
secretariat's), asks the proposal's anonymous author a private question and marks the
thread resolved with a summary; the author finds the question at their next visit and
answers; the other member sees the resolution but never the question. The room, the
people and the proposal are set up through the services, so that the run spends its
time on the pages this feature adds. Every page is checked as in test_journey.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import app_today, make_member, make_staff

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Words:
    """What the people type."""

    language: str
    title: str
    draft: str
    proposal: str
    reply: str
    secretariat: str
    question: str
    answer: str
    summary: str


ENGLISH = Words(
    language="en",
    title="Right to work",
    draft="# Right to work\n\nRefugees are denied work.\n\nWe call for permits.\n",
    proposal="Refugees in the region are denied lawful work.",
    reply="Should we name the region?",
    secretariat="Yes: the next version names it.",
    question="Which region did you mean?",
    answer="The border provinces.",
    summary="The region is named in section 2.",
)
FARSI = Words(
    language="fa",
    title="حق کار",
    draft="# حق کار\n\nپناهندگان از حق کار محروم هستند.\n\nخواستار مجوز کار هستیم.\n",
    proposal="پناهندگان در منطقه از کار قانونی محروم هستند.",
    reply="آیا نام منطقه را بیاوریم؟",
    secretariat="بله: نسخه بعدی نام آن را می‌آورد.",
    question="منظورتان کدام منطقه است؟",
    answer="استان‌های مرزی.",
    summary="نام منطقه در بند ۲ آمده است.",
)
MODES = [
    Mode("discussion-en", javascript=False, language="en"),
    Mode("discussion-fa", javascript=False, language="fa"),
]


@dataclass(frozen=True)
class Cast:
    """The room and how each person signs in."""

    room_path: str
    coordinator: tuple[str, str, str]  # username, passphrase, TOTP secret
    author: str  # codename
    other: str  # codename


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_discussion(mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    words = FARSI if mode.language == "fa" else ENGLISH
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app, words)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def story(journey: Journey, live: LiveApp, words: Words) -> None:
    """Reply, the secretariat's reply, ask the author, resolve, the author answers."""
    cast = seed(live, words)
    coordinator = sign_in_coordinator(journey, live, cast)
    author = sign_in_member(journey, "author", cast.author, language_by="menu")
    other = sign_in_member(journey, "member", cast.other, language_by="header")
    thread = reply(other, cast, words)
    answer_as_secretariat(coordinator, thread, words)
    ask_and_resolve(coordinator, words)
    answer_the_question(author, cast, words)
    late_reader_sees_why(other, thread, words)
    coordinator_reads_the_answer(coordinator, cast, words)


def seed(live: LiveApp, words: Words) -> Cast:
    """A coordinator's room with two members, one of whom has proposed a change."""
    app = live.app
    database: Database = app.extensions["db"]
    today = app_today()
    with database.sessionmaker() as session:
        staff = make_staff(app, session, "amina")
        config: auth.AuthConfig = app.extensions["auth"]
        clock = live.clock
        account, keys = auth.login_staff(
            session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
        )
        clock.advance(seconds=30)
        coordinator = auth.Identity(account, keys, b"", b"")
        room = drafting.create_room(
            session,
            coordinator,
            drafting.RoomInput(
                title=words.title,
                language=words.language,
                summary="",
                markdown=words.draft,
                contribution_deadline=today + timedelta(days=14),
                signon_deadline=today + timedelta(days=28),
                moderation="post",
            ),
            today,
        )
        codenames = []
        identities = []
        for _ in range(2):
            _account, codename = make_member(app, session)
            member_account, member_keys = auth.login_member(session, config, codename)
            identity = auth.Identity(member_account, member_keys, b"", b"")
            access = drafting.open_room(session, room.id, coordinator)
            _invitation, token = drafting.create_invitation(
                session, access, 1, today + timedelta(days=7), today
            )
            drafting.accept_invitation(session, token, identity, today)
            codenames.append(codename)
            identities.append(identity)
        access = drafting.open_room(session, room.id, identities[0])
        anchor = drafting.version(session, access).sections[1].anchor
        drafting.submit_contribution(session, access, "amendment", anchor, words.proposal, today)
        session.commit()
        return Cast(
            f"/rooms/{room.id}",
            (staff.username, staff.passphrase, staff.totp_secret),
            codenames[0],
            codenames[1],
        )


def sign_in_coordinator(journey: Journey, live: LiveApp, cast: Cast) -> Person:
    """The coordinator signs in on their phone, their browser asking for the language."""
    coordinator = journey.person("coordinator", PHONE, language_by="header")
    coordinator.open("/staff/login", "sign-in")
    username, passphrase, secret = cast.coordinator
    form = coordinator.main('form[method="post"]')
    form.locator('[name="username"]').fill(username)
    form.locator('[name="passphrase"]').fill(passphrase)
    form.locator('[name="code"]').fill(pyotp.TOTP(secret).at(live.clock()))
    coordinator.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)
    return coordinator


def sign_in_member(journey: Journey, name: str, codename: str, *, language_by: str) -> Person:
    """A member signs in with their codename."""
    member = journey.person(name, PHONE, language_by="menu" if language_by == "menu" else "header")
    member.open("/login", "sign-in")
    member.choose_language()
    form = member.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(codename)
    member.follow(form.locator('[type="submit"]'), "signed-in")
    return member


def reply(member: Person, cast: Cast, words: Words) -> str:
    """The other member finds the proposal's thread and replies; only they see "yours"."""
    member.open(f"{cast.room_path}/contributions", "contributions")
    member.follow(member.main('a[href$="/thread"]').first, "thread")
    thread = member.page.url.removeprefix(member.journey.base_url)
    form = member.main('form[action$="/replies"]:not(:has([name="parent"]))')
    form.locator('[name="text"]').fill(words.reply)
    member.follow(form.locator('[type="submit"]'), "replied")
    mine = member.main("li.reply").filter(has_text=words.reply)
    assert mine.count() == 1
    assert mine.locator(".yours").count() == 1
    return thread


def answer_as_secretariat(coordinator: Person, thread: str, words: Words) -> None:
    """The coordinator answers the member's reply; it shows as the secretariat's, nested."""
    coordinator.open(thread, "thread")
    theirs = coordinator.main("li.reply").filter(has_text=words.reply)
    assert theirs.locator(".yours").count() == 0, "nobody else is told whose reply it is"
    theirs.locator("details > summary").click()
    form = theirs.locator('form:has([name="parent"])')
    form.locator('[name="text"]').fill(words.secretariat)
    coordinator.follow(form.locator('[type="submit"]'), "secretariat-replied")
    ours = coordinator.main("li.reply.secretariat.depth-1")
    assert ours.count() == 1
    assert words.secretariat in ours.inner_text()


def ask_and_resolve(coordinator: Person, words: Words) -> None:
    """Ask the proposal's author privately, then mark the thread resolved."""
    form = coordinator.main('form[action$="/ask"]')
    form.locator('[name="question"]').fill(words.question)
    coordinator.follow(form.locator('[type="submit"]'), "asked")
    assert words.question in coordinator.page.locator("#main").inner_text()
    form = coordinator.main('form[action$="/resolve"]')
    form.locator('[name="summary"]').fill(words.summary)
    coordinator.follow(form.locator('button:not([name="action"])'), "resolved")
    assert words.summary in coordinator.main(".resolution").inner_text()


def answer_the_question(author: Person, cast: Cast, words: Words) -> None:
    """At their next visit the author is told of the question, reads it and answers."""
    author.open(cast.room_path, "room")
    notice = author.main(".questions-notice")
    assert notice.count() == 1
    author.follow(notice.locator("a"), "questions")
    assert words.question in author.main("article").inner_text()
    form = author.main('form[action$="/answer"]')
    form.locator('[name="answer"]').fill(words.answer)
    author.follow(form.locator('[type="submit"]'), "answered")
    assert words.answer in author.main("article").inner_text()
    author.open(f"{cast.room_path}/mine", "yours")
    assert author.main(".questions-notice").count() == 0


def late_reader_sees_why(member: Person, thread: str, words: Words) -> None:
    """The other member sees the replies and the resolution, never the private question."""
    member.open(thread, "thread-resolved")
    text = member.main(".resolution").inner_text()
    assert words.summary in text
    page = member.page.locator("#main").inner_text()
    assert words.secretariat in page
    assert words.question not in page
    assert words.answer not in page


def coordinator_reads_the_answer(coordinator: Person, cast: Cast, words: Words) -> None:
    """The coordinators read the author's answer, never learning who the author is."""
    coordinator.open(f"{cast.room_path}/questions", "questions")
    assert words.answer in coordinator.main("article").inner_text()
