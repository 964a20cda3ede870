"""A statement where it is shared, in a real browser, JavaScript off, on a phone, in English
and in Farsi: the statement page and its embed page pass every check (axe at zero, size,
language); a messenger's plain fetch finds the card tags and the card; and another site
can frame the embed page, but not the statement page.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext

from statements.db import Database
from tests.browser.harness import PHONE, TIMEOUT_MS, Journey, LiveApp, Mode, Person
from tests.support import (
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    staff_identity,
)

pytestmark = pytest.mark.browser

MODES = [
    Mode("sharing-en", javascript=False, language="en"),
    Mode("sharing-fa", javascript=False, language="fa"),
]
# What a link preview fetcher sends: a plain GET, no script, no cookie.
MESSENGER_AGENT = "TelegramBot (like TwitterBot)"
STATEMENTS = {
    "en": ("Right to work", "# Right to work\n\nRefugees are denied work.\n\n- Permits.\n"),
    "fa": ("حق کار", "# حق کار\n\nپناهندگان از حق کار محروم‌اند.\n\n- مجوز کار.\n"),
}


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        key = found.get("property") or found.get("name")
        if tag == "meta" and key:
            self.meta[key] = found.get("content") or ""


def seed(live: LiveApp) -> dict[str, str]:
    """A published statement in English and one in Farsi; their slugs by language."""
    app = live.app
    database: Database = app.extensions["db"]
    slugs = {}
    with database.sessionmaker() as session:
        coordinator = staff_identity(app, session)
        for language, (title, markdown) in STATEMENTS.items():
            room_id = make_room(
                session, coordinator, title=title, markdown=markdown, language=language
            )
            member = member_identity(app, session)
            join_room(session, coordinator, room_id, member)
            open_signon(session, coordinator, room_id)
            endorse(session, room_id, member, "public", "Refugee Rights Network", "Thailand")
            slugs[language] = publish_room(session, coordinator, room_id, f"work-{language}")
        session.commit()
    return slugs


@pytest.mark.parametrize("mode", MODES, ids=[mode.name for mode in MODES])
def test_sharing_pages(mode: Mode, browser: Browser, axe_source: str, live_app: LiveApp) -> None:
    journey = Journey(browser, mode, live_app.base_url, axe_source)
    try:
        slugs = seed(live_app)
        reader = journey.person("reader", PHONE, language_by="header")
        for language, slug in slugs.items():
            read_and_copy_the_embed_code(reader, slug, language)
            a_messenger_fetches_the_card(reader, slug, language)
    except BaseException:
        journey.capture_failure()
        raise
    finally:
        journey.close()
    assert not journey.findings, (
        f"{len(journey.findings)} problem(s) in run {mode.name} "
        f"(screenshots in {journey.screenshots}):\n{journey.report()}"
    )


def read_and_copy_the_embed_code(reader: Person, slug: str, language: str) -> None:
    """The statement page offers the frame's code, as text; the embed page it names."""
    title = STATEMENTS[language][0]
    reader.open(f"/statements/{slug}", f"statement-{language}")
    code = reader.main("textarea#embed-code")
    assert code.get_attribute("readonly") is not None
    snippet = code.input_value()
    embed_url = f"{reader.journey.base_url}/statements/{slug}/embed"
    assert snippet.startswith(f'<iframe src="{embed_url}" title="{title}"')
    reader.open(embed_url, f"embed-{language}")
    page = reader.page
    assert page.locator("script").count() == 0
    assert page.locator("article h1").inner_text() == title
    assert page.locator("article").get_attribute("lang") == language
    assert page.locator("article").get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
    link = page.locator(f'a[href="{reader.journey.base_url}/statements/{slug}"]')
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener"


def a_messenger_fetches_the_card(reader: Person, slug: str, language: str) -> None:
    """A plain GET with a bot's user agent, no script: the tags, then the card they name."""
    request = reader.context.request
    page = request.get(f"/statements/{slug}", headers={"User-Agent": MESSENGER_AGENT, "Cookie": ""})
    assert page.status == 200
    parser = _Meta()
    parser.feed(page.text())
    meta = parser.meta
    assert meta["og:title"] == STATEMENTS[language][0]
    assert meta["og:type"] == "article"
    assert meta["og:locale"] == language
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:url"] == f"{reader.journey.base_url}/statements/{slug}"
    assert meta["description"] == STATEMENTS[language][1].split("\n\n")[1]
    card = meta["og:image"]
    assert card == meta["twitter:image"]
    assert card.startswith(f"{reader.journey.base_url}/")
    image = request.get(card, headers={"User-Agent": MESSENGER_AGENT})
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(image.body()))
    assert png.format == "PNG"
    assert png.size == (1200, 630)


# --- framing from another origin ----------------------------------------------------


class _OtherSite(BaseHTTPRequestHandler):
    """Another site: pages that frame a URL of the app."""

    pages: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        """Serve the page asked for."""
        body = self.pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        """Log nothing."""


@contextmanager
def other_site(pages: dict[str, str]) -> Iterator[str]:
    """A second HTTP server on another port (so another origin); its base URL."""
    handler = type("Handler", (_OtherSite,), {"pages": {k: v.encode() for k, v in pages.items()}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()
    try:
        # "localhost", not 127.0.0.1: another host name as well as another port.
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _framing(url: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title>'
        f'</head><body><p>Our partners\' statement:</p><iframe src="{url}" title="Statement" '
        'width="340" height="360"></iframe></body></html>'
    )


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_another_site_frames_the_embed_but_not_the_statement(
    browser: Browser, live_app: LiveApp
) -> None:
    slug = seed(live_app)["en"]
    statement = f"{live_app.base_url}/statements/{slug}"
    pages = {"/embed.html": _framing(f"{statement}/embed"), "/page.html": _framing(statement)}
    with other_site(pages) as site:
        context = _context(browser)
        try:
            page = context.new_page()
            framed: dict[str, int] = {}
            page.on("response", lambda r: framed.__setitem__(r.url, r.status))
            page.goto(f"{site}/embed.html", wait_until="load")
            # "load" waits for the frame's document: what it shows is there now, or never.
            frame = page.frame_locator("iframe")
            assert frame.locator("article h1").count() == 1, page.frames[1].url
            assert frame.locator("article h1").inner_text() == "Right to work"
            assert frame.locator(f'a[href="{statement}"]').count() == 1

            page.goto(f"{site}/page.html", wait_until="load")
            # The app answered, and the browser refused to show the answer in the frame.
            assert framed[statement] == 200
            child = page.frames[1]
            assert "Right to work" not in child.content()
            assert page.frame_locator("iframe").locator("article").count() == 0
        finally:
            context.close()
