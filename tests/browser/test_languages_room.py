"""A room drafted in three languages, from opening to a signed family, in a real browser.

JavaScript off, on a phone, in an English and in a Farsi interface: a coordinator opens a
room with English source and Burmese and Farsi working languages; a member proposes a
change in Farsi; another translates it into English; the coordinator accepts the English
change; the Farsi and Burmese texts of that section show out of date; a member translates
them and the coordinator accepts the translations; members sign on; the coordinator
publishes all three languages as one family; a visitor reads each language and the
offline verifier accepts each bundle and names the authoritative language. Every page is
checked as in test_journey.py: axe-core at zero violations, size, no foreign request, lang
and dir. The members and the earlier translations are seeded through the services.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.harness import (
    PHONE,
    ROOT,
    Journey,
    LiveApp,
    Mode,
    Person,
    seed_coordinator,
    seed_members,
    seed_translations,
    sign_in_member,
    sign_in_staff,
)

pytestmark = pytest.mark.browser

MODES = [
    Mode("languages-nojs", javascript=False, language="en"),
    Mode("languages-fa-nojs", javascript=False, language="fa"),
]
TITLE = "Right to work"
DRAFT = "# Right to work\n\nRefugees are denied work.\n\nWe call for work permits.\n"
EARLIER = {"fa": "ترجمه پیشین", "my": "ယခင်ဘာသာပြန်"}
FARSI_PROPOSAL = "پناهندگان در منطقه از کار قانونی محروم هستند."
ENGLISH_CHANGE = "Refugees in the region are denied lawful work."
BURMESE_SECTION = "ဒေသရှိ ဒုက္ခသည်များသည် တရားဝင် အလုပ်လုပ်ခွင့် မရကြပါ။"
SLUGS = {"en": "right-to-work", "fa": "right-to-work-fa", "my": "right-to-work-my"}


def open_room(coordinator: Person) -> str:
    """English source, Farsi and Burmese working languages; the room's path."""
    coordinator.open("/rooms/new", "new-room")
    form = coordinator.main('form[method="post"]:has([name="markdown"])')
    form.locator('[name="title"]').fill(TITLE)
    form.locator('select[name="language"]').select_option("en")
    form.locator('[name="markdown"]').fill(DRAFT)
    for language in ("my", "fa"):
        form.locator(f'input[name="working_languages"][value="{language}"]').check()
    form.locator('select[name="moderation"]').select_option("post")
    coordinator.follow(form.locator('[type="submit"]'), "room-opened")
    path = coordinator.page.url.removeprefix(coordinator.journey.base_url)
    assert path.startswith("/rooms/"), path
    return path


def propose_in_farsi(member: Person, room: str) -> None:
    """A change to section 2, written in Farsi."""
    member.open(room, "room")
    item = member.main("ol.sections > li.section").nth(1)
    member.follow(item.locator('a[href*="kind=amendment"]'), "propose")
    form = member.main('form[method="post"]:has([name="text"])')
    form.locator('select[name="language"]').select_option("fa")
    form.locator('[name="text"]').fill(FARSI_PROPOSAL)
    member.follow(form.locator('button[name="submit"]'), "proposed")


def translate_the_proposal(member: Person, room: str) -> None:
    """Another member offers the proposal in English."""
    member.open(f"{room}/contributions", "contributions")
    proposal = member.main("article.contribution").filter(has_text=FARSI_PROPOSAL)
    member.follow(proposal.locator('a[href*="/translate"]').first, "translate-proposal")
    form = member.main('form[method="post"]:has([name="text"])')
    form.locator('select[name="language"]').select_option("en")
    form.locator('[name="text"]').fill(ENGLISH_CHANGE)
    member.follow(form.locator('button[type="submit"]'), "translation-offered")


def accept_translations(coordinator: Person, room: str, count: int, step: str) -> None:
    """Accept every translation waiting in moderation."""
    coordinator.open(f"{room}/moderation", f"{step}-moderation")
    for number in range(count):
        button = coordinator.main('button[formaction$="/translation"]').first
        coordinator.follow(button, f"{step}-accepted-{number + 1}")
    assert coordinator.main('button[formaction$="/translation"]').count() == 0


def accept_the_english_change(coordinator: Person, room: str) -> None:
    """The Farsi proposal, accepted with the English words as the source's new text."""
    proposal = coordinator.main("article.contribution").filter(
        has=coordinator.page.locator('a[href$="/accept"]')
    )
    coordinator.follow(proposal.locator('a[href$="/accept"]'), "accept-with-edits")
    form = coordinator.main('form:has([name="merged_text"])')
    form.locator('[name="merged_text"]').fill(ENGLISH_CHANGE)
    coordinator.follow(form.locator('button[type="submit"]'), "change-accepted")
    coordinator.open(room, "draft-changed")
    assert ENGLISH_CHANGE in coordinator.main("ol.sections").inner_text()


def read_in(member: Person, room: str, language: str) -> None:
    """Choose the language the draft is read in."""
    member.open(room, f"room-{language}")
    form = member.main("form.reading-language")
    form.locator('select[name="language"]').select_option(language)
    member.follow(form.locator('[type="submit"]'), f"reading-{language}")


def translate_the_stale_section(member: Person, room: str, language: str, text: str) -> None:
    """The section the change made out of date, translated again from the room page."""
    read_in(member, room, language)
    stale = member.main("ol.sections > li.section").filter(
        has=member.page.locator("p.translation-status.out-of-date")
    )
    assert stale.count() == 1, f"one section out of date in {language}"
    assert stale.get_attribute("id") == member.main("ol.sections > li.section").nth(
        1
    ).get_attribute("id")
    member.follow(stale.locator('a[href*="/translate"]'), f"translate-{language}")
    form = member.main('form[method="post"]:has([name="text"])')
    form.locator('select[name="language"]').select_option(language)
    form.locator('[name="text"]').fill(text)
    member.follow(form.locator('button[type="submit"]'), f"translated-{language}")


def open_signon(coordinator: Person, room: str) -> None:
    coordinator.open(room, "room-before-signon")
    for target in ("consolidating", "sign-on"):
        stage = coordinator.main(f'form[action="{room}/state"]')
        coordinator.follow(stage.locator(f'button[name="target"][value="{target}"]'), target)


def sign_on(member: Person, room: str, *, public: bool) -> None:
    member.open(f"{room}/sign-on", "sign-on")
    # One endorsement covers every language: each language's text is there to read.
    for language in ("fa", "my"):
        assert member.main(f'div.frozen[lang="{language}"]').count() == 1, language
    assert member.main('div.frozen[lang="fa"]').get_attribute("dir") == "rtl"
    form = member.main(f'form[action="{room}/sign-on"]')
    if public:
        form.locator('input[name="kind"][value="public"]').check()
        form.locator('[name="name"]').fill("Refugee Rights Network")
    else:
        form.locator('input[name="kind"][value="anonymous"]').check()
    member.follow(form.locator('[type="submit"]'), "signed-on")


def publish(coordinator: Person, room: str) -> None:
    coordinator.open(f"{room}/sign-on", "sign-on-list")
    # A name a member typed is self-declared: the coordinator confirms it first.
    confirm = coordinator.main(f'form[action^="{room}/sign-on/"][action$="/confirm"] button')
    if confirm.count():
        coordinator.follow(confirm.first, "sign-on-confirmed")
    coordinator.follow(coordinator.main(f'a[href="{room}/publish"]'), "publish-page")
    form = coordinator.main(f'form[action="{room}/publish-languages"]')
    for language, slug in SLUGS.items():
        assert form.locator(f'input[name="slug-{language}"]').input_value() == slug
    form.locator('input[name="confirm"]').check()
    coordinator.follow(form.locator('button[type="submit"]'), "published")
    assert coordinator.page.url == f"{coordinator.journey.base_url}/statements/{SLUGS['en']}"


def read_and_verify(journey: Journey, downloads: Path) -> None:
    """Each language's page, its bundle, and the offline verifier."""
    visitor = journey.person("visitor", PHONE, language_by="header")
    expected = {"en": ENGLISH_CHANGE, "fa": FARSI_PROPOSAL, "my": BURMESE_SECTION}
    for language, slug in SLUGS.items():
        visitor.open(f"/statements/{slug}", f"statement-{language}")
        article = visitor.main("article.statement")
        assert article.get_attribute("lang") == language
        assert article.get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
        assert expected[language] in article.inner_text()
        others = visitor.main("nav.family a")
        assert others.count() == 2
        assert visitor.main("p.authoritative").count() == 1
        directory = downloads / language
        directory.mkdir(parents=True, exist_ok=True)
        bundle = visitor.download(visitor.main('a[download="bundle.json"]'), directory)
        keys = visitor.download(visitor.main('a[download="statement-keys.json"]'), directory)
        offline = subprocess.run(
            [sys.executable, "-m", "crypto.verify_cli", str(bundle), "--keys", str(keys)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert offline.returncode == 0, offline.stdout + offline.stderr
        lines = offline.stdout.strip().splitlines()
        assert "authoritative language: en" in lines, offline.stdout
        assert lines[-1] == "valid", offline.stdout


def _story(journey: Journey, live: LiveApp, downloads: Path) -> None:
    staff = seed_coordinator(live)
    coordinator = sign_in_staff(journey, live, staff, PHONE)
    room = open_room(coordinator)
    room_id = room.removeprefix("/rooms/")
    codenames = seed_members(live, staff, room_id, 3)
    seed_translations(live, staff, room_id, EARLIER)
    proposer = sign_in_member(journey, "proposer", codenames[0], PHONE)
    translator = sign_in_member(journey, "translator", codenames[1], PHONE)
    third = sign_in_member(journey, "third", codenames[2], PHONE)

    propose_in_farsi(proposer, room)
    translate_the_proposal(translator, room)
    accept_translations(coordinator, room, 1, "proposal")
    accept_the_english_change(coordinator, room)

    translate_the_stale_section(translator, room, "fa", FARSI_PROPOSAL)
    translate_the_stale_section(third, room, "my", BURMESE_SECTION)
    accept_translations(coordinator, room, 2, "sections")
    read_in(third, room, "fa")
    assert third.main("p.translation-status").count() == 0, "every Farsi section is current"

    open_signon(coordinator, room)
    sign_on(proposer, room, public=True)
    sign_on(third, room, public=False)
    publish(coordinator, room)
    read_and_verify(journey, downloads)


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_languages_room(
    mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp, tmp_path: Path
) -> None:
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        _story(journey, live_app, tmp_path / "downloads")
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )
