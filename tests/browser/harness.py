"""People in a real browser, and the checks every page they reach must pass.

A Journey is one run of the story (JavaScript on, JavaScript off, or Farsi): it owns the
browser contexts of everyone taking part and collects what the pages fail, so that one
run reports every accessibility violation, oversized page and foreign request at once.
A Person is one browser context, the way one human being uses the site.

Elements are found by stable attributes only (field names, form actions, link targets,
button values, structural classes), never by visible English text, so the same code
drives the site in any interface language.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Download,
    Locator,
    Page,
    Request,
    Response,
    Route,
)

from tests.conftest import Clock

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
AXE_PATH = BROWSER_TESTS / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
# Debian's Chromium, quiet: nothing but the app may be contacted.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Headers that describe the original transfer, not the page: not replayed.
REPLAY_DROPPED_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "set-cookie"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_PAGE_BYTES = 100 * 1024
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
RIGHT_TO_LEFT = {"fa", "prs", "ps", "ar"}
# Generous: a step is a page load on loopback, but CI machines are small and shared.
TIMEOUT_MS = 20_000

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 160)})),
  }));
}"""


@dataclass(frozen=True)
class LiveApp:
    """The app, its clock, and where the browser reaches it."""

    app: Flask
    clock: Clock
    base_url: str


@dataclass(frozen=True)
class Mode:
    """How a run uses the site."""

    name: str
    javascript: bool
    language: str  # the interface language every person asks for


@dataclass
class DocumentResponse:
    """The last page a person's tab loaded: how it was asked for, and what came back."""

    method: str
    status: int
    url: str
    response: Response


@dataclass
class Journey:
    """One run of the story: its people, its screenshots, and what its pages failed."""

    browser: Browser
    mode: Mode
    base_url: str
    axe_source: str
    findings: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # one line per page checked
    steps: int = 0
    people: list[Person] = field(default_factory=list)
    _stylesheet_bytes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.screenshots = SCREENSHOTS / self.mode.name
        shutil.rmtree(self.screenshots, ignore_errors=True)
        self.screenshots.mkdir(parents=True)
        self.host = urlsplit(self.base_url).netloc

    def person(
        self,
        name: str,
        viewport: dict[str, int],
        language_by: Literal["menu", "header"] = "menu",
    ) -> Person:
        """Someone with a browser of their own (a separate context: own cookies)."""
        person = Person(self, name, viewport, language_by)
        self.people.append(person)
        return person

    def next_screenshot(self, who: str, step: str) -> Path:
        """build/screenshots/<run>/NN-<who>-<step>.png"""
        self.steps += 1
        return self.screenshots / f"{self.steps:02d}-{who}-{step}.png"

    def stylesheet_bytes(self, context: BrowserContext, url: str) -> int:
        """The size of a stylesheet, fetched once per run."""
        if url not in self._stylesheet_bytes:
            self._stylesheet_bytes[url] = len(context.request.get(url).body())
        return self._stylesheet_bytes[url]

    def note_request(self, who: str, request: Request) -> None:
        """Every request must go to the app and nowhere else."""
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.host:
            self.findings.append(f"foreign request by {who}: {request.method} {request.url}")

    def capture_failure(self) -> None:
        """When a step fails: how each person's page looked then."""
        for person in self.people:
            try:
                person.page.screenshot(
                    path=self.screenshots / f"failure-{person.name}.png", full_page=True
                )
            except Exception as error:  # the original failure matters more
                self.findings.append(f"no failure screenshot of {person.name}: {error}")

    def close(self) -> None:
        """Close every context; write what was found beside the screenshots."""
        for person in self.people:
            person.close()
        seconds = time.monotonic() - self.started
        lines = [
            f"run {self.mode.name}: {self.steps} pages checked in {seconds:.1f} s",
            "",
            *self.pages,
            "",
            f"{len(self.findings)} problem(s)",
            *self.findings,
        ]
        (self.screenshots / "report.txt").write_text("\n".join(lines) + "\n")

    def report(self) -> str:
        """What failed, one finding per line."""
        return "\n".join(self.findings)


class Person:
    """One browser context; every page it reaches is checked."""

    def __init__(
        self,
        journey: Journey,
        name: str,
        viewport: dict[str, int],
        language_by: Literal["menu", "header"],
    ) -> None:
        self.journey = journey
        self.name = name
        self.mode = journey.mode
        self.viewport = viewport
        # "menu": the person picks the language from the site's menu on their first page.
        # "header": their browser asks for it (Accept-Language), as a Farsi browser would.
        self.menu_language = self.mode.language != "en" and language_by == "menu"
        self.locale = self.mode.language if language_by == "header" else "en-GB"
        # What pages must be in: English until the person picks from the menu.
        self.language = "en" if self.menu_language else self.mode.language
        self.context = self._new_context(javascript=self.mode.javascript)
        self.context.on("request", lambda request: journey.note_request(name, request))
        self.page = self.context.new_page()
        self.last: DocumentResponse | None = None
        self.page.on("response", self._note_response)
        self._axe_context: BrowserContext | None = None
        self._axe_page: Page | None = None

    def _new_context(self, *, javascript: bool) -> BrowserContext:
        context = self.journey.browser.new_context(
            base_url=self.journey.base_url,
            viewport=self.viewport,  # type: ignore[arg-type]
            java_script_enabled=javascript,
            locale=self.locale,
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        return context

    def _note_response(self, response: Response) -> None:
        request = response.request
        if request.frame == self.page.main_frame and request.is_navigation_request():
            self.last = DocumentResponse(request.method, response.status, response.url, response)

    def close(self) -> None:
        """Close this person's browser context (and its accessibility twin)."""
        if self._axe_context is not None:
            self._axe_context.close()
        self.context.close()

    # --- moving about ---------------------------------------------------------------

    def open(self, path: str, step: str) -> None:
        """Type an address (or follow a link received by other means)."""
        self.page.goto(path)
        self.arrived(step)

    def follow(self, target: Locator, step: str, status: int | None = None) -> None:
        """Click a link or a submit button and wait for the page it leads to.

        status: the one expected, for a page that answers 4xx by design (a sign-in page
        carrying typed words answers 401); by default any status below 400.
        """
        with self.page.expect_navigation():
            target.click()
        self.arrived(step, status)

    def download(self, link: Locator, directory: Path) -> Path:
        """Click a download link; keep the file under the name the link suggests."""
        with self.page.expect_download() as event:
            link.click()
        download: Download = event.value
        path = directory / download.suggested_filename
        download.save_as(path)
        return path

    def choose_language(self) -> None:
        """Pick the run's language from the menu, if this person chooses it that way."""
        if not self.menu_language:
            return
        menu = self.page.locator('form[action="/language"]')
        menu.locator('select[name="lang"]').select_option(self.mode.language)
        self.language = self.mode.language
        self.follow(menu.locator('[type="submit"]'), "language")

    def main(self, selector: str) -> Locator:
        """Something in the page's main content."""
        return self.page.locator("#main").locator(selector)

    # --- the checks on every page -----------------------------------------------------

    def arrived(self, step: str, status: int | None = None) -> None:
        """Check the page just reached: status, language, screenshot, size, axe."""
        page = self.page
        last = self.last
        assert last is not None, f"{self.name}/{step}: no page was loaded"
        good = last.status == status if status is not None else last.status < 400
        assert good, f"{self.name}/{step}: {last.method} {page.url} -> {last.status}"
        html = page.locator("html")
        language = html.get_attribute("lang")
        direction = html.get_attribute("dir")
        expected = (self.language, "rtl" if self.language in RIGHT_TO_LEFT else "ltr")
        assert (language, direction) == expected, (
            f"{self.name}/{step}: {page.url} has <html lang={language!r} dir={direction!r}>, "
            "expected lang={!r} dir={!r}".format(*expected)
        )
        shot = self.journey.next_screenshot(self.name, step)
        page.screenshot(path=shot, full_page=True)
        size = self._check_size(step, last)
        self._check_width(step)
        violations = self._check_accessibility(step, last)
        self.journey.pages.append(
            f"{shot.stem}: {last.method} {self._where(step)} {last.status}, "
            f"{size} bytes with CSS, {violations} axe violation(s)"
        )

    def _check_width(self, step: str) -> None:
        """Nothing may push the page sideways: a phone would have to scroll to read it."""
        if not self.mode.javascript:
            return  # the same pages are measured in the runs with JavaScript
        wide = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if wide > 1:
            self.journey.findings.append(
                f"page wider than the screen by {wide}px: {self._where(step)}"
            )

    def _check_size(self, step: str, last: DocumentResponse) -> int:
        total = len(last.response.body())
        for link in self.page.locator('link[rel="stylesheet"]').all():
            href = link.get_attribute("href") or ""
            total += self.journey.stylesheet_bytes(self.context, urljoin(self.page.url, href))
        if total >= MAX_PAGE_BYTES:
            self.journey.findings.append(
                f"page too large: {self._where(step)} is {total} bytes with its CSS"
            )
        return total

    def _check_accessibility(self, step: str, last: DocumentResponse) -> int:
        page = self.page if self.mode.javascript else self._twin(last)
        violations = self._axe(page)
        for violation in violations:
            for node in violation["nodes"]:
                self.journey.findings.append(
                    f"axe {violation['id']} ({violation['impact']}) on {self._where(step)}: "
                    f"{node['target']} — {violation['help']} — {node['html']}"
                )
        return len(violations)

    def _where(self, step: str) -> str:
        path = urlsplit(self.page.url).path
        # Invitation and set-up links are secrets: name the route, not the token.
        for prefix in ("/invitation/", "/enrol/", "/press/"):
            if path.startswith(prefix):
                path = prefix + "…"
        return f"{self.name}/{step} ({path})"

    def _axe(self, page: Page) -> list[dict[str, Any]]:
        # page.evaluate is not subject to the page's Content-Security-Policy.
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.journey.axe_source)
        violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, AXE_TAGS)
        return violations

    def _twin(self, last: DocumentResponse) -> Page:
        """The page just seen, in a JavaScript-enabled context holding the same cookies.

        A page reached by GET is simply asked for again. One that answered a POST is never
        re-sent: the exact HTML the person got is served again, from memory, at its URL,
        so its stylesheet still loads from the app.
        """
        if self._axe_context is None:
            self._axe_context = self._new_context(javascript=True)
            self._axe_context.on("request", lambda r: self.journey.note_request(self.name, r))
            self._axe_page = self._axe_context.new_page()
        assert self._axe_page is not None
        self._axe_context.clear_cookies()
        self._axe_context.add_cookies(self.context.cookies())  # type: ignore[arg-type]
        twin = self._axe_page
        url = self.page.url
        if last.method == "GET":
            response = twin.goto(url)
            assert response is not None, f"twin of {url}: no response"
            assert response.status < 400, f"twin of {url}: {response.status}"
            return twin
        body = last.response.body()
        # The same headers too, Content-Security-Policy included: it changes what renders.
        headers = {
            name: value
            for name, value in last.response.headers.items()
            if name.lower() not in REPLAY_DROPPED_HEADERS
        }

        def same_url(candidate: str) -> bool:
            return candidate == url

        def replay(route: Route) -> None:
            route.fulfill(status=200, headers=headers, body=body)

        matcher: Callable[[str], bool] = same_url
        twin.route(matcher, replay)
        try:
            twin.goto(url)
        finally:
            twin.unroute(matcher, replay)
        return twin


# --- shared seeding: people made through the services, to keep journeys short --------


@dataclass(frozen=True)
class SeededStaff:
    """A coordinator made through the services: how to sign in, and their unlocked keys."""

    username: str
    passphrase: str
    totp_secret: str
    account_id: str
    keys: Any  # statements.auth.service's UnlockedKeys

    def identity(self, session: Any) -> Any:
        """The coordinator's Identity in this session, for the services."""
        from statements.auth import service as auth
        from statements.models import Account

        return auth.Identity(session.get(Account, self.account_id), self.keys, b"", b"")


def seed_coordinator(live: LiveApp, name: str = "amina") -> SeededStaff:
    """A coordinator account, enrolled, with its keys unlocked for seeding."""
    from statements.auth import service as auth
    from statements.db import Database
    from tests.support import make_staff

    database: Database = live.app.extensions["db"]
    config: auth.AuthConfig = live.app.extensions["auth"]
    with database.sessionmaker() as session:
        staff = make_staff(live.app, session, name)
        _account, keys = auth.login_staff(
            session,
            config,
            staff.username,
            staff.passphrase,
            staff.code(live.clock()),
            live.clock(),
        )
        session.commit()
    live.clock.advance(seconds=30)
    return SeededStaff(staff.username, staff.passphrase, staff.totp_secret, staff.account_id, keys)


def seed_members(live: LiveApp, coordinator: SeededStaff, room_id: str, count: int) -> list[str]:
    """Members with codenames, joined to a room; their codenames."""
    from statements.auth import service as auth
    from statements.db import Database
    from tests.support import join_room

    database: Database = live.app.extensions["db"]
    config: auth.AuthConfig = live.app.extensions["auth"]
    codenames = []
    with database.sessionmaker() as session:
        identity = coordinator.identity(session)
        for _ in range(count):
            account, codename, keys = auth.create_member(session, config)
            join_room(session, identity, room_id, auth.Identity(account, keys, b"", b""))
            codenames.append(codename)
        session.commit()
    return codenames


def seed_translations(
    live: LiveApp, coordinator: SeededStaff, room_id: str, words: dict[str, str]
) -> None:
    """The title and every section translated into each language, as if accepted before.

    words: per language, a sentence each translation is made of (with the section number).
    """
    from statements.db import Database
    from statements.drafting import service as drafting
    from statements.drafting.translations import section_texts, write_translation

    database: Database = live.app.extensions["db"]
    with database.sessionmaker() as session:
        access = drafting.open_room(session, room_id, coordinator.identity(session))
        for language, sentence in words.items():
            for number, text in enumerate(section_texts(session, access, language)):
                translated = sentence if number == 0 else f"{sentence} {number}"
                write_translation(session, access, text.anchor, language, translated, text.source)
        session.commit()


def sign_in_member(journey: Journey, name: str, codename: str, viewport: dict[str, int]) -> Person:
    """A member signed in by codename (the sign-in pages are checked in test_journey.py)."""
    person = journey.person(name, viewport, language_by="header")
    person.page.goto("/login")
    form = person.main('form[method="post"]:has([name="codename"])')
    form.locator('[name="codename"]').fill(codename)
    with person.page.expect_navigation():
        form.locator('[type="submit"]').click()
    assert person.page.locator('form[action="/logout"]').count() == 1, f"{name} not signed in"
    return person


def sign_in_staff(
    journey: Journey, live: LiveApp, staff: SeededStaff, viewport: dict[str, int]
) -> Person:
    """A coordinator signed in with passphrase and code."""
    import pyotp

    person = journey.person("coordinator", viewport, language_by="header")
    person.page.goto("/staff/login")
    form = person.main('form[method="post"]')
    form.locator('[name="username"]').fill(staff.username)
    form.locator('[name="passphrase"]').fill(staff.passphrase)
    form.locator('[name="code"]').fill(pyotp.TOTP(staff.totp_secret).at(live.clock()))
    with person.page.expect_navigation():
        form.locator('[type="submit"]').click()
    assert person.page.locator('form[action="/logout"]').count() == 1, "not signed in"
    live.clock.advance(seconds=30)
    return person
