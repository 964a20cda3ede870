"""The whole story, in a real browser, as the people in it would live it.

An admin invites a coordinator, who opens a drafting room and invites two members; they
join with codenames, propose changes and support each other's; the coordinator moderates,
freezes the text and opens sign-on; one member signs publicly for an organisation, the
other anonymously; the coordinator publishes; a visitor reads the statement, downloads its
bundle and verifies it on the site and offline.

Run three times: JavaScript on, JavaScript off in every browser, and in Farsi (right to
left). Every page on the way is screenshotted (build/screenshots/<run>/), checked with
axe-core against WCAG 2.0/2.1 A and AA, kept under 100 KB with its CSS, and no request may
leave the app. Those findings are collected and reported together at the end of a run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser

from statements.db import Database
from statements.models import Role
from tests.browser.harness import DESKTOP, PHONE, ROOT, Journey, LiveApp, Mode, Person
from tests.support import DRAFT, STRONG_PASSPHRASE, make_staff

pytestmark = pytest.mark.browser

COORDINATOR = "amina"
COORDINATOR_PASSPHRASE = "copper kettle winter lantern velvet"


@dataclass(frozen=True)
class Words:
    """What the people type: the draft, their proposals, an organisation."""

    room_language: str
    title: str
    summary: str
    draft: str
    proposal_1: str  # replaces section 2; accepted
    proposal_2: str  # replaces section 3; rejected
    rejection_note: str
    organisation: str
    country: str
    slug: str


ENGLISH = Words(
    room_language="en",
    title="Right to work",
    summary="What we ask of governments.",
    draft=DRAFT,
    proposal_1="Refugees in the region are denied the right to work, and many are arrested "
    "at their workplaces.",
    proposal_2="We call on every government to grant work permits to all refugees at once.",
    rejection_note="The second paragraph already says this.",
    organisation="Refugee Rights Network",
    country="Thailand",
    slug="right-to-work",
)
FARSI = Words(
    room_language="fa",
    title="حق کار",
    summary="آنچه از دولت‌ها می‌خواهیم.",
    draft="""# بیانیه مشترک درباره حق کار

پناهندگان در منطقه از حق کار محروم هستند.

از دولت‌ها می‌خواهیم بی‌درنگ مجوز کار صادر کنند.

- اسناد کمیساریای عالی پناهندگان را به رسمیت بشناسید.
- بازداشت در محل کار را متوقف کنید.
""",
    proposal_1="پناهندگان در منطقه از حق کار محروم هستند و بسیاری در محل کار بازداشت می‌شوند.",
    proposal_2="از همه دولت‌ها می‌خواهیم فوراً به همه پناهندگان مجوز کار بدهند.",
    rejection_note="بند دوم همین را می‌گوید.",
    organisation="شبکه حقوق پناهندگان",
    country="مالزی",
    slug="haq-e-kar",
)

MODES = [
    Mode("js", javascript=True, language="en"),
    Mode("nojs", javascript=False, language="en"),
    Mode("fa", javascript=True, language="fa"),
]


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_journey(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp, tmp_path: Path
) -> None:
    words = FARSI if mode.language == "fa" else ENGLISH
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        story(journey, live_app, words, tmp_path)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def story(journey: Journey, live: LiveApp, words: Words, downloads: Path) -> None:
    """Every step, through the pages, in the order people would take them."""
    admin_secret = seed_admin(live)
    coordinator = enrol_coordinator(journey, live, admin_secret)
    room_path, invitation = open_room_and_invite(coordinator, words)
    first, second = join(journey, invitation)
    propose_change(first, section=2, text=words.proposal_1)
    propose_change(second, section=3, text=words.proposal_2)
    support_the_other(first)
    support_the_other(second)
    moderate(coordinator, room_path, words)
    see_own_rejection(second, words)
    freeze_and_open_signon(coordinator, room_path)
    sign_on(first, room_path, words, public=True)
    sign_on(second, room_path, words, public=False)
    publish(coordinator, room_path, words)
    read_and_verify(journey, words, downloads)


# --- the steps -----------------------------------------------------------------------


def seed_admin(live: LiveApp) -> str:
    """The first admin is made through the service, as `flask create-admin` does."""
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        staff = make_staff(live.app, session, "admin", Role.ADMIN)
    return staff.totp_secret


def totp(live: LiveApp, secret: str) -> str:
    """The code an authenticator app shows now, by the app's clock."""
    return pyotp.TOTP(secret).at(live.clock())


def enrol_coordinator(journey: Journey, live: LiveApp, admin_secret: str) -> Person:
    """The admin signs in and invites a coordinator, who sets up the account."""
    admin = journey.person("admin", DESKTOP)
    admin.open("/staff/login", "sign-in-page")
    admin.choose_language()
    form = admin.main('form[method="post"]')
    form.locator('[name="username"]').fill("admin")
    form.locator('[name="passphrase"]').fill(STRONG_PASSPHRASE)
    form.locator('[name="code"]').fill(totp(live, admin_secret))
    admin.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)  # each code works once

    admin.follow(admin.page.locator('nav a[href="/admin/accounts"]'), "accounts")
    invite = admin.main('form[action="/admin/accounts"]')
    invite.locator('[name="username"]').fill(COORDINATOR)
    invite.locator('select[name="role"]').select_option("coordinator")
    admin.follow(invite.locator('[type="submit"]'), "coordinator-invited")
    link = admin.main('[aria-labelledby="enrolment-heading"] code.secret').inner_text().strip()
    assert re.fullmatch(rf"{re.escape(journey.base_url)}/enrol/\S+", link), link

    coordinator = journey.person("coordinator", DESKTOP)
    # The set-up page draws a new authenticator secret at each visit, so it has no
    # language menu: the coordinator chooses the language first, on the home page.
    coordinator.open(f"{journey.base_url}/", "home")
    coordinator.choose_language()
    coordinator.open(link, "set-up-page")
    # What a person types into their authenticator app: the secret printed on the page.
    secret = coordinator.main("code.secret").inner_text().strip()
    form = coordinator.main('form[method="post"]')
    form.locator('[name="passphrase"]').fill(COORDINATOR_PASSPHRASE)
    form.locator('[name="confirm"]').fill(COORDINATOR_PASSPHRASE)
    form.locator('[name="code"]').fill(totp(live, secret))
    coordinator.follow(form.locator('[type="submit"]'), "set-up-done")
    live.clock.advance(seconds=30)
    # The recovery codes are shown once; then on to the rooms.
    assert coordinator.main("ol.recovery-codes code").count() == 8
    coordinator.follow(coordinator.main('a[href="/rooms"]'), "rooms")
    # Signed in: the page offers to sign out.
    assert coordinator.page.locator('form[action="/logout"]').count() == 1, "not signed in"
    return coordinator


def open_room_and_invite(coordinator: Person, words: Words) -> tuple[str, str]:
    """A room with a typed Markdown draft, and an invitation link for two people."""
    coordinator.follow(coordinator.main('a[href="/rooms/new"]'), "new-room")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="title"]').fill(words.title)
    form.locator('select[name="language"]').select_option(words.room_language)
    form.locator('[name="summary"]').fill(words.summary)
    form.locator('[name="markdown"]').fill(words.draft)
    # Post-moderated, so the members can support each other's proposals straight away.
    form.locator('select[name="moderation"]').select_option("post")
    coordinator.follow(form.locator('[type="submit"]'), "room-opened")
    room_path = coordinator.page.url.removeprefix(coordinator.journey.base_url)
    assert re.fullmatch(r"/rooms/[^/]+", room_path), room_path
    sections = coordinator.main("ol.sections > li.section")
    assert sections.count() == 4, "the draft should read as four sections"

    coordinator.follow(
        coordinator.page.locator(f'nav.room-nav a[href="{room_path}/invitations"]'), "invitations"
    )
    form = coordinator.main('form[method="post"]:has([name="uses"])')
    form.locator('[name="uses"]').fill("2")
    coordinator.follow(form.locator('[type="submit"]'), "invitation-created")
    link = coordinator.main('[aria-labelledby="new-invitation"] code.secret').inner_text().strip()
    assert "/invitation/" in link, link
    return room_path, link


def join(journey: Journey, invitation: str) -> tuple[Person, Person]:
    """Two members follow the link and get codename accounts there and then."""
    # The first picks the language from the menu; the second's browser asks for it.
    members = (
        journey.person("member1", PHONE, language_by="menu"),
        journey.person("member2", PHONE, language_by="header"),
    )
    for member in members:
        member.open(invitation, "invitation")
        member.choose_language()
        # Words, the first choice; the digits button is the other.
        member.follow(member.main('form[method="post"] [name="kind"][value="words"]'), "codename")
        codename = member.main("p.codename").inner_text().strip()
        assert len(codename.split()) == 7, "a codename is seven words"
        # The practice step: type back the two words the page asks for.
        words = codename.split()
        form = member.main('form[method="post"]:has([name="first"])')
        positions = form.locator('[name="positions"]').input_value().split(",")
        form.locator('[name="first"]').fill(words[int(positions[0]) - 1])
        form.locator('[name="second"]').fill(words[int(positions[1]) - 1])
        member.follow(form.locator('button[type="submit"]'), "room")
    return members


def propose_change(member: Person, *, section: int, text: str) -> None:
    """Propose new wording for a section, preview it, then submit it."""
    item = member.main("ol.sections > li.section").nth(section - 1)
    member.follow(item.locator('a[href*="kind=amendment"]'), f"propose-section-{section}")
    form = member.main('form[method="post"]:has([name="text"])')
    form.locator('[name="text"]').fill(text)
    member.follow(form.locator('button[name="preview"]'), "preview")
    assert text in member.main(".preview").inner_text()
    form = member.main('form[method="post"]:has([name="text"])')
    member.follow(form.locator('button[name="submit"]'), "proposed")
    assert member.page.url.endswith("/mine")
    assert member.main("article.contribution").filter(has_text=text).count() == 1


def support_the_other(member: Person) -> None:
    """Support the one proposal that is not one's own."""
    member.follow(member.page.locator('nav.room-nav a[href$="/contributions"]'), "contributions")
    assert member.main("article.contribution").count() == 2
    support = member.main('form[action$="/support"]')
    assert support.count() == 1, "only the other member's proposal can be supported"
    assert support.locator('input[name="supported"]').get_attribute("value") == "1"
    member.follow(support.locator('[type="submit"]'), "supported")
    # The button now withdraws the support: it was counted.
    again = member.main('form[action$="/support"] input[name="supported"]')
    assert again.get_attribute("value") == "0"


def moderate(coordinator: Person, room_path: str, words: Words) -> None:
    """Accept the first proposal; reject the second, with a reason and a note."""
    coordinator.follow(
        coordinator.page.locator(f'nav.room-nav a[href="{room_path}/moderation"]'), "moderation"
    )
    pending = coordinator.main("article.contribution")
    assert pending.count() == 2
    accepted = pending.filter(has_text=words.proposal_1)
    coordinator.follow(accepted.locator('button[name="action"][value="accept"]'), "accepted")

    rejected = coordinator.main("article.contribution").filter(has_text=words.proposal_2)
    rejected.locator("details > summary").click()
    form = rejected.locator('form:has(input[name="action"][value="reject"])')
    form.locator('select[name="reason"]').select_option("duplicate")
    form.locator('textarea[name="note"]').fill(words.rejection_note)
    coordinator.follow(form.locator('[type="submit"]'), "rejected")
    assert coordinator.main("article.contribution").count() == 0

    coordinator.follow(
        coordinator.page.locator(f'nav.room-nav a[href="{room_path}"]'), "draft-version-2"
    )
    assert words.proposal_1 in coordinator.main("ol.sections").inner_text()


def see_own_rejection(member: Person, words: Words) -> None:
    """The author sees their proposal rejected, with the coordinator's note."""
    member.follow(member.page.locator('nav.room-nav a[href$="/mine"]'), "yours")
    decision = member.main("article.contribution .decision")
    assert decision.count() == 1
    assert words.rejection_note in decision.inner_text()


def freeze_and_open_signon(coordinator: Person, room_path: str) -> None:
    """Close contributions, then freeze the text and open sign-on."""
    stage = coordinator.main(f'form[action="{room_path}/state"]')
    coordinator.follow(
        stage.locator('button[name="target"][value="consolidating"]'), "consolidating"
    )
    stage = coordinator.main(f'form[action="{room_path}/state"]')
    coordinator.follow(stage.locator('button[name="target"][value="sign-on"]'), "sign-on-open")
    assert coordinator.main(f'a[href="{room_path}/sign-on"]').count() >= 1


def sign_on(member: Person, room_path: str, words: Words, *, public: bool) -> None:
    """Endorse for an organisation, publicly with its name and country, or anonymously."""
    member.follow(member.page.locator(f'nav.room-nav a[href="{room_path}"]'), "room-frozen")
    member.follow(member.main(f'a[href="{room_path}/sign-on"]').first, "sign-on")
    form = member.main(f'form[action="{room_path}/sign-on"]')
    if public:
        form.locator('input[name="kind"][value="public"]').check()
        form.locator('[name="name"]').fill(words.organisation)
        form.locator('[name="country"]').fill(words.country)
    else:
        form.locator('input[name="kind"][value="anonymous"]').check()
    member.follow(form.locator('[type="submit"]'), "signed-on")
    signatories = member.main("ul.signatories")
    assert words.organisation in signatories.inner_text()


def publish(coordinator: Person, room_path: str, words: Words) -> None:
    """Choose the web address, confirm, publish."""
    coordinator.follow(
        coordinator.page.locator(f'nav.room-nav a[href="{room_path}/sign-on"]'), "sign-on-list"
    )
    # The name the member typed is self-declared: the coordinator confirms it first.
    confirm = coordinator.main(f'form[action^="{room_path}/sign-on/"][action$="/confirm"] button')
    assert confirm.count() == 1
    coordinator.follow(confirm.first, "sign-on-confirmed")
    coordinator.follow(coordinator.main(f'a[href="{room_path}/publish"]'), "publish-page")
    form = coordinator.main(f'form[action="{room_path}/publish"]')
    form.locator('[name="slug"]').fill(words.slug)
    form.locator('input[name="confirm"]').check()
    coordinator.follow(form.locator('[type="submit"]'), "published")
    assert coordinator.page.url == f"{coordinator.journey.base_url}/statements/{words.slug}"


def read_and_verify(journey: Journey, words: Words, downloads: Path) -> None:
    """A visitor reads the statement, downloads it, and checks it here and offline."""
    visitor = journey.person("visitor", PHONE, language_by="header")
    visitor.open("/", "home")
    visitor.follow(visitor.main(f'a[href="/statements/{words.slug}"]'), "statement")
    assert words.proposal_1 in visitor.main("article.statement").inner_text()
    signatories = visitor.main('section[aria-labelledby="signatories"]')
    assert signatories.locator("ul.signatories li").count() == 1
    assert signatories.locator("ul.signatories li").inner_text() == (
        f"{words.organisation} ({words.country})"
    )
    anonymous = signatories.locator("p").inner_text()
    if journey.mode.language == "en":
        assert "1 organisation that cannot be named" in anonymous
    else:
        # Translated words, the same count, in Latin or Persian digits.
        assert re.search(r"(?<![0-9۰-۹])[1۱](?![0-9۰-۹])", anonymous), anonymous

    downloads.mkdir(parents=True, exist_ok=True)
    bundle = visitor.download(visitor.main('a[download="bundle.json"]'), downloads)
    keys = visitor.download(visitor.main('a[download="statement-keys.json"]'), downloads)
    assert (bundle.name, keys.name) == ("bundle.json", "statement-keys.json")

    visitor.follow(visitor.page.locator('header nav a[href="/verify"]'), "verify-page")
    form = visitor.main('form[action="/verify"]')
    form.locator('textarea[name="bundle_text"]').fill(bundle.read_text(encoding="utf-8"))
    visitor.follow(form.locator('[type="submit"]'), "verified")
    verdict = visitor.main(".verdict")
    classes = (verdict.get_attribute("class") or "").split()
    assert "valid" in classes, verdict.inner_text()
    assert "invalid" not in classes, verdict.inner_text()
    if journey.mode.language == "en":
        assert verdict.inner_text().strip().startswith("Valid")
    assert visitor.main("table.checks tr.failed").count() == 0

    offline = subprocess.run(
        [sys.executable, "-m", "crypto.verify_cli", str(bundle), "--keys", str(keys)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline.stdout.strip().splitlines()[-1] == "valid", offline.stdout
