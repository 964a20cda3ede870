"""Running the room, in a real browser with JavaScript off, on a phone, in English and Farsi.

A coordinator moves a deadline with a reason and a member reads it; the coordinator looks
over their rooms; creates a labelled invitation and reloads the page that shows it (no
second link); removes a member, and the invitation made before still lets a newcomer in.
Every page is checked as in the main journey: status, language and direction, size, and
axe-core with zero violations.
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
from tests.support import STRONG_PASSPHRASE, join_room, make_room, make_staff

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Words:
    """What the people in this story read and type."""

    title: str
    other_title: str
    reason: str
    label: str


ENGLISH = Words(
    title="Right to work",
    other_title="Detention of children",
    reason="Two member groups asked for another week.",
    label="for the Chin women's group",
)
FARSI = Words(
    title="حق کار",
    other_title="بازداشت کودکان",
    reason="دو گروه عضو یک هفته بیشتر خواستند.",
    label="برای گروه زنان چین",
)
MODES = [
    Mode("running-en", javascript=False, language="en"),
    Mode("running-fa", javascript=False, language="fa"),
]


@dataclass(frozen=True)
class Seeded:
    """The room and people the story starts with."""

    room_id: str
    totp_secret: str
    staying: str  # a member's codename
    leaving_number: str  # the member number of the one removed


def _seed(live: LiveApp, words: Words) -> Seeded:
    """A coordinator with two rooms; two members in the first, one waiting proposal."""
    app = live.app
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        staff = make_staff(app, session, "amina")
        config: auth.AuthConfig = app.extensions["auth"]
        account, keys = auth.login_staff(
            session, config, "amina", STRONG_PASSPHRASE, staff.code(live.clock()), live.clock()
        )
        live.clock.advance(seconds=30)
        coordinator = auth.Identity(account, keys, b"", b"")
        today = live.clock().date()
        room_id = make_room(session, coordinator, title=words.title, today=today)
        make_room(session, coordinator, title=words.other_title, today=today)
        codenames = []
        members = []
        for _ in range(2):
            member_account, codename, member_keys = auth.create_member(session, config)
            member = auth.Identity(member_account, member_keys, b"", b"")
            join_room(session, coordinator, room_id, member)
            codenames.append(codename)
            members.append(member)
        access = drafting.open_room(session, room_id, members[0])
        drafting.submit_contribution(session, access, "comment", None, words.reason, today)
        session.commit()
        leaving = drafting.member_number(room_id, members[1].account.id)
    return Seeded(room_id, staff.totp_secret, codenames[0], leaving)


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_running_the_room(mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    words = FARSI if mode.language == "fa" else ENGLISH
    seeded = _seed(live_app, words)
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app, words, seeded)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def story(journey: Journey, live: LiveApp, words: Words, seeded: Seeded) -> None:
    """Every step, through the pages."""
    room_path = f"/rooms/{seeded.room_id}"
    coordinator = sign_in_coordinator(journey, live, seeded)
    new_date = move_deadline(coordinator, live, room_path, words)
    member_reads_the_reason(journey, seeded, room_path, words, new_date)
    look_over_the_rooms(coordinator, words)
    link = invite_with_a_label(coordinator, room_path, words)
    remove_a_member(coordinator, room_path, seeded)
    newcomer_joins(journey, link, words)


def sign_in_coordinator(journey: Journey, live: LiveApp, seeded: Seeded) -> Person:
    """The coordinator signs in on their phone."""
    coordinator = journey.person("coordinator", PHONE, language_by="header")
    coordinator.open("/staff/login", "sign-in")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="username"]').fill("amina")
    form.locator('[name="passphrase"]').fill(STRONG_PASSPHRASE)
    form.locator('[name="code"]').fill(pyotp.TOTP(seeded.totp_secret).at(live.clock()))
    coordinator.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)
    return coordinator


def move_deadline(coordinator: Person, live: LiveApp, room_path: str, words: Words) -> str:
    """Move the contribution deadline a week later, saying why."""
    coordinator.open(room_path, "room")
    coordinator.follow(coordinator.main(f'a[href="{room_path}/deadlines"]'), "deadlines")
    new_date = (live.clock().date() + timedelta(days=21)).isoformat()
    form = coordinator.main('form[method="post"]')
    form.locator('[name="contribution_deadline"]').fill(new_date)
    form.locator('[name="reason"]').fill(words.reason)
    coordinator.follow(form.locator('[type="submit"]'), "deadline-moved")
    assert coordinator.page.url.endswith(room_path)
    notice = coordinator.main(".deadline-notice").inner_text()
    assert words.reason in notice
    assert new_date in notice
    return new_date


def member_reads_the_reason(
    journey: Journey, seeded: Seeded, room_path: str, words: Words, new_date: str
) -> None:
    """A member signs in by codename and reads the new date and why on the draft page."""
    member = journey.person("member", PHONE, language_by="header")
    member.open("/login", "sign-in")
    form = member.main('form[method="post"]')
    form.locator('[name="codename"]').fill(seeded.staying)
    member.follow(form.locator('[type="submit"]'), "signed-in")
    member.open(room_path, "room")
    notice = member.main(".deadline-notice").inner_text()
    assert words.reason in notice
    assert new_date in notice
    # Members have no way to move deadlines, nor to the coordinators' pages.
    assert member.main(f'a[href="{room_path}/deadlines"]').count() == 0


def look_over_the_rooms(coordinator: Person, words: Words) -> None:
    """The overview lists both rooms, the proposal waiting in the first."""
    coordinator.open("/rooms", "rooms")
    coordinator.follow(coordinator.main('a[href="/rooms/overview"]'), "overview")
    rows = coordinator.main("table.overview tbody tr")
    assert rows.count() == 2
    first = rows.filter(has_text=words.title)
    assert first.locator("td.count").first.inner_text().strip() in ("1", "۱")
    assert rows.filter(has_text=words.other_title).count() == 1


def invite_with_a_label(coordinator: Person, room_path: str, words: Words) -> str:
    """Create a labelled invitation; reloading the page shows no link and makes none."""
    coordinator.open(f"{room_path}/invitations", "invitations")
    before = coordinator.main("table tbody tr").count()
    form = coordinator.main('form[method="post"]:has([name="uses"])')
    form.locator('[name="uses"]').fill("2")
    form.locator('[name="label"]').fill(words.label)
    coordinator.follow(form.locator('[type="submit"]'), "invitation-created")
    assert coordinator.last is not None
    assert coordinator.last.method == "GET"
    link = coordinator.main('[aria-labelledby="new-invitation"] code.secret').inner_text().strip()
    assert "/invitation/" in link, link
    secret = link.rsplit(".", 1)[1]
    assert secret not in coordinator.page.url
    rows = coordinator.main("table tbody tr")
    assert rows.count() == before + 1
    assert rows.filter(has_text=words.label).count() == 1

    coordinator.page.reload()
    coordinator.arrived("invitation-reloaded")
    assert coordinator.main('[aria-labelledby="new-invitation"]').count() == 0
    assert secret not in coordinator.page.content()
    assert coordinator.main("table tbody tr").count() == before + 1
    return link


def remove_a_member(coordinator: Person, room_path: str, seeded: Seeded) -> None:
    """Remove one member; the room's key changes."""
    coordinator.open(f"{room_path}/members", "members")
    form = coordinator.main(f'form[action="{room_path}/members/{seeded.leaving_number}/remove"]')
    coordinator.follow(form.locator('[type="submit"]'), "member-removed")
    assert coordinator.main(f'form[action$="/members/{seeded.leaving_number}/remove"]').count() == 0


def newcomer_joins(journey: Journey, link: str, words: Words) -> None:
    """The invitation made before the removal still lets someone in."""
    newcomer = journey.person("newcomer", PHONE, language_by="header")
    newcomer.open(link, "invitation")
    newcomer.follow(newcomer.main('form[method="post"] [name="kind"][value="words"]'), "codename")
    codename = newcomer.main("p.codename").inner_text().strip()
    words_of_codename = codename.split()
    form = newcomer.main('form[method="post"]:has([name="first"])')
    positions = form.locator('[name="positions"]').input_value().split(",")
    form.locator('[name="first"]').fill(words_of_codename[int(positions[0]) - 1])
    form.locator('[name="second"]').fill(words_of_codename[int(positions[1]) - 1])
    newcomer.follow(form.locator('button[type="submit"]'), "room")
    assert words.title in newcomer.main('h1[dir="auto"]').inner_text()
    assert newcomer.main("ol.sections > li.section").count() >= 1
