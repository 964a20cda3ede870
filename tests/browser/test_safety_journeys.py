"""Safety inside a drafting room, in a real browser: phones, JavaScript off, English and Farsi.

One story per language, sharing its room and people across the steps. A newcomer joins
by invitation with a codename of digits (shown, practised and later typed in the
language's digits); their session ends on the server while they type a comment, and
the words come back through the sign-in. In Farsi the form's CSRF token has gone stale
too, as when the browser lost its cookies: the CSRF check fails first, and the words
still come back. Another member is warned that a proposal holds a phone number and an
e-mail address, and submits it anyway. The room is pre-moderated: nothing shows to a
third member until the coordinator releases it; the third member supports one and
flags the other, which is at once hidden from the members again. The proposal's author
is told, before saving an edit, that it clears the support; and freezing the text with
contributions still pending shows them, after which their author reads that they were
not decided before the text was frozen.

Every page reached is checked as in test_journey.py: axe-core at zero violations,
under 100 KB, the page's language and direction, and no request leaving the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask_babel import gettext
from playwright.sync_api import Browser

from statements.auth import service as auth
from statements.db import Database
from statements.drafting import service as drafting
from tests.browser.harness import PHONE, Journey, LiveApp, Mode, Person
from tests.support import DRAFT, STRONG_PASSPHRASE, app_today, join_room, make_room, make_staff

pytestmark = pytest.mark.browser

COORDINATOR = "amina"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"


@dataclass(frozen=True)
class Words:
    """What the people of one language type."""

    language: str
    title: str
    draft: str
    comment: str  # typed as the session ends; later flagged
    proposal: str  # holds a phone number and an e-mail address
    edited: str  # the proposal's new wording
    stale_token: bool  # the CSRF token went stale with the session


ENGLISH = Words(
    language="en",
    title="Right to work",
    draft=DRAFT,
    comment="My cousin in Kuala Lumpur detention told me the guards move people at night.",
    proposal="Call Hamid on +60 12-345 6789 or write to hamid@example.org for the details.",
    edited="Refugees in the region are denied the right to work, and many are detained.",
    stale_token=False,
)
FARSI = Words(
    language="fa",
    title="حق کار",
    draft="""# بیانیه مشترک درباره حق کار

پناهندگان در منطقه از حق کار محروم هستند.

از دولت‌ها می‌خواهیم بی‌درنگ مجوز کار صادر کنند.
""",
    comment="پسر عمویم در بازداشتگاه کوالالامپور گفت نگهبانان مردم را شبانه جابه‌جا می‌کنند.",
    proposal="با حمید به شماره ۰۹۱۲ ۳۴۵ ۶۷۸۹ تماس بگیرید یا به hamid@example.org بنویسید.",
    edited="پناهندگان در منطقه از حق کار محروم هستند و بسیاری بازداشت می‌شوند.",
    stale_token=True,
)
LANGUAGES = [ENGLISH, FARSI]


@dataclass(frozen=True)
class Seeded:
    """What the story starts from: a pre-moderated room, its coordinator, two members
    who already have codenames, and an invitation for a newcomer."""

    room_path: str
    invitation: str
    coordinator_code: str  # the TOTP secret of the coordinator's authenticator
    codenames: tuple[str, str]


@pytest.mark.parametrize("words", LANGUAGES, ids=[words.language for words in LANGUAGES])
def test_safety_journey(words: Words, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    mode = Mode(f"safety-{words.language}", javascript=False, language=words.language)
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
    """The steps, in the order people would take them."""
    seeded = seed(live, words)
    room = seeded.room_path
    author = journey.person("newcomer", PHONE, language_by="header")
    codename = join_with_digits(author, seeded, words)
    comment_across_an_ended_session(author, live, seeded, words, codename)

    proposer, third = (
        journey.person(name, PHONE, language_by="header") for name in ("proposer", "third")
    )
    sign_in_member(proposer, seeded.codenames[0], room)
    propose_with_identifying_details(proposer, live.app, words)
    sign_in_member(third, seeded.codenames[1], f"{room}/contributions")
    assert texts(third) == [], "pre-moderation: nothing is shown before it is released"

    coordinator = journey.person("coordinator", PHONE, language_by="header")
    sign_in_coordinator(coordinator, live, seeded, f"{room}/moderation")
    release_both(coordinator, words)
    assert sorted(contributions(third)) == sorted([words.comment, words.proposal])
    support_and_flag(third, words)
    # Hidden from the other members at once; its author still sees it as theirs.
    assert contributions(proposer) == [words.proposal]

    edit_supported_proposal(proposer, third, words)
    freeze_with_pending(coordinator, seeded, words)
    proposer.follow(proposer.page.locator('nav.room-nav a[href$="/mine"]'), "yours-frozen")
    mine = proposer.main("article.contribution").filter(has_text=words.edited)
    assert said(live.app, words.language, "not decided before the text was frozen") in (
        mine.locator("p.meta").inner_text()
    )


# --- the steps -------------------------------------------------------------------------


def seed(live: LiveApp, words: Words) -> Seeded:
    """A coordinator, a pre-moderated room with two members, and an invitation link."""
    database: Database = live.app.extensions["db"]
    config: auth.AuthConfig = live.app.extensions["auth"]
    today = app_today()
    with database.sessionmaker() as session:
        staff = make_staff(live.app, session, COORDINATOR)
        clock = live.clock
        account, keys = auth.login_staff(
            session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
        )
        clock.advance(seconds=30)  # each code works once: the browser gets the next
        coordinator = auth.Identity(account, keys, session_id_hash=b"", session_key=b"")
        room_id = make_room(
            session, coordinator, title=words.title, markdown=words.draft, moderation="pre"
        )
        codenames = []
        for _ in range(2):
            member, codename, member_keys = auth.create_member(session, config)
            join_room(session, coordinator, room_id, auth.Identity(member, member_keys, b"", b""))
            codenames.append(codename)
        access = drafting.open_room(session, room_id, coordinator)
        _invitation, token = drafting.create_invitation(
            session, access, 1, today + timedelta(days=7), today
        )
        session.commit()
    return Seeded(
        room_path=f"/rooms/{room_id}",
        invitation=f"{live.base_url}/invitation/{token}",
        coordinator_code=staff.totp_secret,
        codenames=(codenames[0], codenames[1]),
    )


def said(app: Flask, language: str, message: str) -> str:
    """A message as the interface says it in a language."""
    with app.test_request_context(headers={"Accept-Language": language}):
        return gettext(message)


def sign_in_coordinator(coordinator: Person, live: LiveApp, seeded: Seeded, target: str) -> None:
    """Username, passphrase and the authenticator's code; on to target."""
    coordinator.open(f"/staff/login?next={target}", "sign-in")
    form = coordinator.main('form[method="post"]')
    form.locator('[name="username"]').fill(COORDINATOR)
    form.locator('[name="passphrase"]').fill(STRONG_PASSPHRASE)
    form.locator('[name="code"]').fill(pyotp.TOTP(seeded.coordinator_code).at(live.clock()))
    coordinator.follow(form.locator('[type="submit"]'), "signed-in")
    live.clock.advance(seconds=30)


def sign_in_member(member: Person, codename: str, target: str) -> None:
    """Sign in with a codename of words, on the page in the person's language; on to target."""
    member.open(f"/login?next={target}", "sign-in")
    form = member.main('form[method="post"]')
    form.locator('[name="codename"]').fill(codename)
    member.follow(form.locator('[type="submit"]'), "signed-in")
    assert member.page.url.endswith(target), member.page.url


def join_with_digits(author: Person, seeded: Seeded, words: Words) -> str:
    """Join by the invitation with a codename of digits; practise it. Returns it as shown."""
    author.open(seeded.invitation, "invitation")
    digits = author.main('form[method="post"] button[name="kind"][value="digits"]')
    author.follow(digits, "codename-of-digits")
    shown = author.main("p.codename-digits").inner_text().strip()
    groups = shown.split(" ")
    assert [len(group) for group in groups] == [4] * 7, shown
    expected = PERSIAN_DIGITS if words.language == "fa" else "0123456789"
    assert all(digit in expected for digit in "".join(groups)), shown
    form = author.main('form[method="post"]:has([name="first"])')
    positions = form.locator('[name="positions"]').input_value().split(",")
    form.locator('[name="first"]').fill(groups[int(positions[0]) - 1])
    form.locator('[name="second"]').fill(groups[int(positions[1]) - 1])
    author.follow(form.locator('button[type="submit"]'), "practised")
    assert author.page.url.endswith(seeded.room_path), author.page.url
    return shown


def comment_across_an_ended_session(
    author: Person, live: LiveApp, seeded: Seeded, words: Words, codename: str
) -> None:
    """The session ends while they type; the words come back through the sign-in."""
    author.open(f"{seeded.room_path}/contribute?kind=comment", "comment")
    form = author.main('form[method="post"]:has([name="text"])')
    form.locator('[name="text"]').fill(words.comment)
    # Signed out everywhere from another device, as the sign-in page will say.
    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        account, _keys = auth.login_member(session, live.app.extensions["auth"], codename)
        auth.end_all_sessions(session, account)
        session.commit()
    if words.stale_token:
        # The browser lost the cookie that seeded the form's token, as on a restart.
        author.context.clear_cookies(name="csrf")
    author.follow(form.locator('button[name="submit"]'), "session-ended", status=401)
    carried = author.main('form[action="/login"]')
    assert carried.locator('[name="carry-text"]').input_value() == words.comment
    assert author.main(".notice-box").count() == 1

    # The digits typed as the page showed them: Persian digits on the Farsi page.
    carried.locator('[name="codename"]').fill(codename)
    author.follow(carried.locator('button[type="submit"]'), "signed-in-again")
    author.follow(author.main('form[method="post"] button[type="submit"]'), "form-back")
    form = author.main('form[method="post"]:has([name="text"])')
    assert form.locator('[name="text"]').input_value() == words.comment
    author.follow(form.locator('button[name="submit"]'), "commented")
    assert author.page.url.endswith("/mine")
    assert author.main("article.contribution").filter(has_text=words.comment).count() == 1


def propose_with_identifying_details(proposer: Person, app: Flask, words: Words) -> None:
    """The preview warns about a phone number and an e-mail address; submitting works."""
    section = proposer.main("ol.sections > li.section").nth(0)
    proposer.follow(section.locator('a[href*="kind=amendment"]'), "propose")
    form = proposer.main('form[method="post"]:has([name="text"])')
    form.locator('[name="text"]').fill(words.proposal)
    proposer.follow(form.locator('button[name="preview"]'), "preview-warns")
    warning = proposer.main('section.warning[aria-labelledby="identifying-heading"]')
    listed = [text.strip() for text in warning.locator("li").all_inner_texts()]
    for what in ("a phone number", "an email address"):
        assert said(app, words.language, what) in listed, listed
    form = proposer.main('form[method="post"]:has([name="text"])')
    assert form.locator('[name="text"]').input_value() == words.proposal
    proposer.follow(form.locator('button[name="submit"]'), "proposed")
    assert proposer.page.url.endswith("/mine")
    assert proposer.main("article.contribution").filter(has_text=words.proposal).count() == 1


def contributions(member: Person) -> list[str]:
    """The words of every contribution on the member's Contributions page."""
    member.follow(member.page.locator('nav.room-nav a[href$="/contributions"]'), "contributions")
    return texts(member)


def texts(member: Person) -> list[str]:
    """The words of every contribution on the page."""
    return [
        text.strip()
        for text in member.main("article.contribution .contribution-text").all_text_contents()
    ]


def release_both(coordinator: Person, words: Words) -> None:
    """The coordinator releases both pending contributions to the members."""
    for text in (words.comment, words.proposal):
        item = coordinator.main("article.contribution").filter(has_text=text)
        coordinator.follow(item.locator('button[name="action"][value="release"]'), "released")
    # Released, still pending: both wait in the queue, without a release button now.
    assert coordinator.main("article.contribution").count() == 2
    assert coordinator.main('button[name="action"][value="release"]').count() == 0


def support_and_flag(third: Person, words: Words) -> None:
    """Support the proposal; ask for a safety review of the comment."""
    proposal = third.main("article.contribution").filter(has_text=words.proposal)
    third.follow(proposal.locator('form[action$="/support"] [type="submit"]'), "supported")
    comment = third.main("article.contribution").filter(has_text=words.comment)
    third.follow(comment.locator('form[action$="/flag"] [type="submit"]'), "flagged")
    assert third.main("article.contribution").filter(has_text=words.comment).count() == 0


def edit_supported_proposal(proposer: Person, third: Person, words: Words) -> None:
    """The edit page says the support goes; saving clears it."""
    proposer.follow(proposer.page.locator('nav.room-nav a[href$="/mine"]'), "yours")
    item = proposer.main("article.contribution").filter(has_text=words.proposal)
    proposer.follow(item.locator('a[href$="/edit"]'), "edit")
    notice = proposer.main("p.notice")
    assert notice.count() == 1
    assert re.search(r"(?<![0-9۰-۹])[1۱](?![0-9۰-۹])", notice.inner_text()), notice.inner_text()
    form = proposer.main('form[method="post"]:has([name="text"])')
    form.locator('[name="text"]').fill(words.edited)
    proposer.follow(form.locator('[type="submit"]'), "edited")
    # The supporter's +1 is gone: they are offered to support the new words afresh.
    assert contributions(third) == [words.edited]
    again = third.main('form[action$="/support"] input[name="supported"]')
    assert again.get_attribute("value") == "1"


def freeze_with_pending(coordinator: Person, seeded: Seeded, words: Words) -> None:
    """Closing, then freezing, shows what is pending; the coordinator leaves it undecided."""
    coordinator.follow(
        coordinator.page.locator(f'nav.room-nav a[href="{seeded.room_path}"]'), "room"
    )
    for target in ("consolidating", "sign-on"):
        stage = coordinator.main(f'form[action="{seeded.room_path}/state"]')
        button = stage.locator(f'button[name="target"][value="{target}"]')
        coordinator.follow(button, f"undecided-{target}", status=409)
        listed = coordinator.main("article.contribution .contribution-text").all_text_contents()
        assert sorted(text.strip() for text in listed) == sorted([words.comment, words.edited])
        confirm = coordinator.main('form:has(input[name="leave_undecided"])')
        coordinator.follow(confirm.locator('[type="submit"]'), f"now-{target}")
