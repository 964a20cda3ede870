"""Proposals as changes, in a real browser with JavaScript off, on a phone, in English and
in Farsi: a member reads a proposal as a diff of its section; the coordinator accepts one
change with edits, resolves the conflict a second change to the same section meets in a
three-way merge, and marks a comment as addressed, which its author then sees.

The room, its people and their contributions are made through the service (the other
journeys walk through making them); every page on the way is checked as in test_journey:
axe at zero violations, within a phone's width, in the person's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import DRAFT, app_today, make_staff

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Words:
    """The draft and what is proposed on its second section."""

    language: str
    draft: str
    first: str  # a change to section 2, accepted with edits
    edited: str  # the coordinator's edit of it
    second: str  # written against the same text: conflicts with the first, adds a word
    added: str  # the second change's word that merges without a conflict
    comment: str
    note: str


ENGLISH = Words(
    language="en",
    draft=DRAFT,
    first="Refugees across the region are denied the right to work.",
    edited="Refugees across the whole region are denied the right to work.",
    second="Refugees throughout the region are denied the right to lawful work.",
    added="lawful",
    comment="Could we cite the 2023 labour survey?",
    note="Cited in the second paragraph.",
)
FARSI = Words(
    language="fa",
    draft="""# بیانیه مشترک درباره حق کار

پناهندگان در منطقه از حق کار محروم هستند.

از دولت‌ها می‌خواهیم بی‌درنگ مجوز کار صادر کنند.
""",
    first="پناهندگان در سراسر منطقه از حق کار محروم هستند.",
    edited="پناهندگان در سراسر این منطقه از حق کار محروم هستند.",
    second="پناهندگان در همه جای منطقه از حق قانونی کار محروم هستند.",
    added="قانونی",
    comment="آیا می‌توانیم به پیمایش کار ۲۰۲۳ استناد کنیم؟",
    note="در بند دوم آمده است.",
)
MODES = [
    Mode("changes-en", javascript=False, language="en"),
    Mode("changes-fa", javascript=False, language="fa"),
]


@dataclass(frozen=True)
class Seeded:
    room_path: str
    codenames: tuple[str, str]
    username: str
    passphrase: str
    totp_secret: str


def _seed(live: LiveApp, words: Words) -> Seeded:
    """A post-moderated room; two members; two changes to section 2 and one comment."""
    app = live.app
    database: Database = app.extensions["db"]
    config: auth.AuthConfig = app.extensions["auth"]
    today = app_today()
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
        room = drafting.create_room(
            session,
            coordinator,
            drafting.RoomInput(
                title="Right to work",
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
        members = []
        for _ in range(2):
            member_account, codename, member_keys = auth.create_member(session, config)
            member = auth.Identity(member_account, member_keys, b"", b"")
            access = drafting.open_room(session, room.id, coordinator)
            _invitation, token = drafting.create_invitation(
                session, access, 1, today + timedelta(days=7), today
            )
            drafting.accept_invitation(session, token, member, today)
            codenames.append(codename)
            members.append(drafting.open_room(session, room.id, member))
        anchor = drafting.version(session, members[0]).sections[1].anchor
        drafting.submit_contribution(session, members[0], "amendment", anchor, words.first, today)
        drafting.submit_contribution(session, members[1], "amendment", anchor, words.second, today)
        drafting.submit_contribution(session, members[0], "comment", None, words.comment, today)
        session.commit()
    return Seeded(
        f"/rooms/{room.id}",
        (codenames[0], codenames[1]),
        staff.username,
        staff.passphrase,
        staff.totp_secret,
    )


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_proposals_as_changes(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp
) -> None:
    words = FARSI if mode.language == "fa" else ENGLISH
    seeded = _seed(live_app, words)
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app, seeded, words)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def story(journey: Journey, live: LiveApp, seeded: Seeded, words: Words) -> None:
    """A member reads the changes; the coordinator accepts, merges and addresses."""
    member = sign_in_member(journey, seeded.codenames[0], "member1")
    read_changes_as_diffs(member, seeded.room_path)
    coordinator = sign_in_coordinator(journey, live, seeded)
    accept_with_edits(coordinator, seeded.room_path, words)
    merge_the_second_change(coordinator, seeded.room_path, words)
    address_the_comment(coordinator, seeded.room_path, words)
    see_the_comment_addressed(member, seeded.room_path, words)


def sign_in_member(journey: Journey, codename: str, name: str) -> Person:
    """A member signs in with their codename; their browser asks for the run's language."""
    member = journey.person(name, PHONE, language_by="header")
    member.open("/login", "sign-in")
    form = member.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(codename)
    member.follow(form.locator('button[type="submit"]'), "signed-in")
    return member


def sign_in_coordinator(journey: Journey, live: LiveApp, seeded: Seeded) -> Person:
    """The coordinator signs in with a passphrase and a code, on a phone too."""
    coordinator = journey.person("coordinator", PHONE, language_by="header")
    coordinator.open("/staff/login", "staff-sign-in")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="username"]').fill(seeded.username)
    form.locator('[name="passphrase"]').fill(seeded.passphrase)
    form.locator('[name="code"]').fill(pyotp.TOTP(seeded.totp_secret).at(live.clock()))
    coordinator.follow(form.locator('[type="submit"]'), "staff-signed-in")
    live.clock.advance(seconds=30)
    return coordinator


def _diff_is_announced(person: Person, scope: str) -> None:
    diff = person.main(f"{scope} .rendered-diff")
    assert diff.count() >= 1, "a change is shown as a diff"
    assert diff.first.locator("ins").count() >= 1
    # Each change is announced in words to screen readers, not by colour alone.
    assert diff.first.locator("ins .visually-hidden").count() >= 1
    # Formatted, not Markdown: no "#", "**" or "- " shown.
    assert "**" not in diff.first.inner_text()


def read_changes_as_diffs(member: Person, room_path: str) -> None:
    """The contributions page shows each change as a diff of the section."""
    member.open(f"{room_path}/contributions", "contributions")
    assert member.main("article.contribution").count() == 3
    _diff_is_announced(member, "article.contribution")


def accept_with_edits(coordinator: Person, room_path: str, words: Words) -> None:
    """In moderation, each change is a diff; the first is accepted with the coordinator's edit."""
    coordinator.open(f"{room_path}/moderation", "moderation")
    _diff_is_announced(coordinator, "article.contribution")
    first = coordinator.main("article.contribution").filter(
        has=coordinator.page.locator(".contribution-text", has_text=words.first)
    )
    assert first.count() == 1
    coordinator.follow(first.locator('a[href$="/accept"]'), "accept-with-edits")
    # Cancel and Reject instead are on the page.
    assert coordinator.main('a[href$="/moderation"]').count() >= 1
    assert coordinator.main('form:has(input[name="action"][value="reject"])').count() == 1
    box = coordinator.main('textarea[name="merged_text"]')
    assert box.input_value().strip() == words.first
    box.fill(words.edited)
    coordinator.follow(
        coordinator.main('form:has([name="merged_text"]) button[type="submit"]'),
        "accepted-with-edits",
    )


def merge_the_second_change(coordinator: Person, room_path: str, words: Words) -> None:
    """The second change meets the first: the box holds the three-way merge, its conflict
    marked and the accepted edit kept; the coordinator resolves it and accepts."""
    second = coordinator.main("article.contribution").filter(
        has=coordinator.page.locator(".contribution-text", has_text=words.second)
    )
    # The section changed since it was written: a second diff, against today's text.
    assert second.locator(".rendered-diff").count() == 2
    coordinator.follow(second.locator('a[href$="/accept"]'), "merge")
    box = coordinator.main('textarea[name="merged_text"]')
    offered = box.input_value()
    assert "<<<<<<<" in offered, offered
    assert ">>>>>>>" in offered, offered
    assert words.added in offered
    assert coordinator.main('[role="alert"]').count() >= 1
    # Resolved as a person would: keep the text now at the conflict, delete the markers.
    resolved = re.sub(
        r"<<<<<<< [^\n]*\n(.*?)\n=======\n.*?\n>>>>>>> [^\n]*\n?", r"\1 ", offered, flags=re.S
    )
    resolved = " ".join(resolved.split())
    box.fill(resolved)
    coordinator.follow(
        coordinator.main('form:has([name="merged_text"]) button[type="submit"]'), "merged"
    )
    coordinator.open(room_path, "draft")
    section = coordinator.main("ol.sections > li.section").nth(1).inner_text()
    assert words.edited.split()[2] in section
    assert words.added in section


def address_the_comment(coordinator: Person, room_path: str, words: Words) -> None:
    """A comment is not accepted: it is marked as addressed, with a note."""
    coordinator.open(f"{room_path}/moderation", "moderation-comment")
    comment = coordinator.main("article.contribution")
    assert comment.count() == 1
    assert comment.locator('button[value="accept"]').count() == 0
    form = comment.locator('form:has(input[name="action"][value="address"])')
    form.locator('textarea[name="note"]').fill(words.note)
    coordinator.follow(form.locator('button[type="submit"]'), "addressed")
    assert coordinator.main("article.contribution").count() == 0
    assert coordinator.main("ul.log li").count() >= 3


def see_the_comment_addressed(member: Person, room_path: str, words: Words) -> None:
    """Its author sees it addressed, with the note."""
    member.open(f"{room_path}/mine", "mine")
    assert words.note in member.main("article.contribution .decision").inner_text()
