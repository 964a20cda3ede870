"""The multilingual room's pages in a real browser, JavaScript off, on a phone, in English
and in Farsi: each one reached by its links and forms, and checked like every page
(axe at zero, size, width, language). The whole story across languages is the journey's;
this run spends its time on the pages this feature adds.

A member reads the draft in Farsi (a section out of date, others missing, the source one
tap away), finds a section in the help-translate list and offers its translation, and
reads a Farsi comment beside its English translation; the coordinator opens a room with
working languages, changes them, and accepts the translation in moderation.
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
from statements.drafting.translation_offers import accept_translation, offer_translation
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import app_today, make_member, make_staff

pytestmark = pytest.mark.browser

MODES = [
    Mode("multilingual-en", javascript=False, language="en"),
    Mode("multilingual-fa", javascript=False, language="fa"),
]
DRAFT = "# Right to work\n\nRefugees are denied work.\n\nWe call for permits.\n"
COMMENT = "نام قانون کار را بیاورید."
COMMENT_IN_ENGLISH = "Name the labour law."
FIRST_SECTION_IN_FARSI = "# حق کار"
SECOND_SECTION_IN_FARSI = "پناهندگان از حق کار محروم هستند."


@dataclass(frozen=True)
class Cast:
    """The room and how each person signs in."""

    room_path: str
    coordinator: tuple[str, str, str]  # username, passphrase, TOTP secret
    member: str  # codename


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_multilingual_pages(
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


def story(journey: Journey, live: LiveApp) -> None:
    """Read in Farsi, help translate, offer; the coordinator's languages and moderation."""
    cast = seed(live)
    member = sign_in_member(journey, cast)
    read_in_farsi(member, cast)
    offer_from_the_list(member, cast)
    read_contributions(member, cast)
    coordinator = sign_in_coordinator(journey, live, cast)
    open_a_multilingual_room(coordinator)
    change_languages(coordinator, cast)
    accept_in_moderation(coordinator, cast)


def seed(live: LiveApp) -> Cast:
    """English source, Farsi and Burmese working languages; a member's Farsi comment with
    an English translation; the first section translated, the second out of date."""
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
                title="Right to work",
                language="en",
                summary="",
                markdown=DRAFT,
                contribution_deadline=today + timedelta(days=14),
                signon_deadline=today + timedelta(days=28),
                moderation="post",
                working_languages=("fa", "my"),
            ),
            today,
        )
        _account, codename = make_member(app, session)
        member_account, member_keys = auth.login_member(session, config, codename)
        member = auth.Identity(member_account, member_keys, b"", b"")
        chief = drafting.open_room(session, room.id, coordinator)
        _invitation, token = drafting.create_invitation(
            session, chief, 1, today + timedelta(days=7), today
        )
        drafting.accept_invitation(session, token, member, today)
        access = drafting.open_room(session, room.id, member)
        sections = drafting.version(session, access).sections
        comment = drafting.submit_contribution(
            session, access, "comment", None, COMMENT, today, language="fa"
        )
        for anchor, words in (
            (sections[0].anchor, FIRST_SECTION_IN_FARSI),
            (sections[1].anchor, SECOND_SECTION_IN_FARSI),
        ):
            offer = offer_translation(session, access, "section", anchor, "fa", words, today)
            accept_translation(session, chief, offer.id, today)
        english = offer_translation(
            session, access, "contribution", comment.id, "en", COMMENT_IN_ENGLISH, today
        )
        accept_translation(session, chief, english.id, today)
        # The second section changes: its Farsi is now out of date.
        current = drafting.version(session, chief)
        drafting.edit_draft(
            session,
            chief,
            current.markdown.replace("denied work.", "denied lawful work."),
            "Lawful",
            current.number,
            today,
        )
        session.commit()
        return Cast(
            f"/rooms/{room.id}", (staff.username, staff.passphrase, staff.totp_secret), codename
        )


def sign_in_member(journey: Journey, cast: Cast) -> Person:
    """The member signs in with their codename, choosing the interface language."""
    member = journey.person("member", PHONE, language_by="menu")
    member.open("/login", "sign-in")
    member.choose_language()
    form = member.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(cast.member)
    member.follow(form.locator('[type="submit"]'), "signed-in")
    return member


def read_in_farsi(member: Person, cast: Cast) -> None:
    """Choose Farsi: sections in Farsi, one out of date, one missing, the source a tap away."""
    member.open(cast.room_path, "room")
    form = member.main("form.reading-language")
    form.locator('select[name="language"]').select_option("fa")
    member.follow(form.locator('[type="submit"]'), "room-in-farsi")
    sections = member.main('ol.sections[lang="fa"][dir="rtl"]')
    assert sections.count() == 1
    assert SECOND_SECTION_IN_FARSI in sections.inner_text()
    assert member.main(".translation-status.out-of-date").count() == 1
    assert member.main(".translation-status.missing").count() == 1
    source = member.main("details.source-text").first
    source.locator("summary").click()
    assert source.locator('.section-text[lang="en"]').is_visible()


def offer_from_the_list(member: Person, cast: Cast) -> None:
    """The help-translate list names the missing section; the member offers its words."""
    member.follow(member.main('a[href$="/help-translate"]').first, "help-translate")
    member.follow(member.main('a[href*="type=section"][href*="language=fa"]').first, "offer")
    form = member.main('form[method="post"]')
    form.locator('[name="text"]').fill("ما خواستار مجوز کار هستیم.")
    member.follow(form.locator('[type="submit"]'), "offered")


def read_contributions(member: Person, cast: Cast) -> None:
    """The Farsi comment reads right to left, its English translation beside it."""
    member.open(f"{cast.room_path}/contributions", "contributions")
    assert member.main('.contribution-text[lang="fa"][dir="rtl"]').count() >= 1
    beside = member.main(".member-translation").filter(has_text=COMMENT_IN_ENGLISH)
    assert beside.locator('[lang="en"][dir="ltr"]').count() == 1
    member.follow(member.main('a[href$="/thread"]').first, "thread")


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


def open_a_multilingual_room(coordinator: Person) -> None:
    """The form that opens a room offers working languages; a wrong choice is explained."""
    coordinator.open("/rooms/new", "new-room")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="title"]').fill("Work permits")
    form.locator('[name="markdown"]').fill(DRAFT)
    today = app_today()
    form.locator('[name="contribution_deadline"]').fill((today + timedelta(days=7)).isoformat())
    form.locator('[name="signon_deadline"]').fill((today + timedelta(days=14)).isoformat())
    # English is the source: choosing it as a working language too is refused, clearly.
    form.locator('[name="working_languages"][value="en"]').check()
    form.locator('[name="working_languages"][value="my"]').check()
    coordinator.follow(form.locator('[type="submit"]'), "new-room-refused", status=400)
    form = coordinator.main('form[method="post"]')
    form.locator('[name="working_languages"][value="en"]').uncheck()
    coordinator.follow(form.locator('[type="submit"]'), "room-opened")


def change_languages(coordinator: Person, cast: Cast) -> None:
    """The languages page shows how far each language is; Pashto is added."""
    coordinator.open(f"{cast.room_path}/languages", "languages")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="language"][value="ps"]').check()
    coordinator.follow(form.locator('[type="submit"]'), "languages-saved")
    assert coordinator.main('th[lang="ps"]').count() == 1


def accept_in_moderation(coordinator: Person, cast: Cast) -> None:
    """The member's offered translation waits in moderation; the coordinator accepts it."""
    coordinator.open(f"{cast.room_path}/moderation", "moderation")
    accept = coordinator.main('button[formaction$="/translation"]').first
    coordinator.follow(accept, "translation-accepted")
    coordinator.open(f"{cast.room_path}/help-translate?language=my", "help-translate-burmese")
