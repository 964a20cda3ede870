"""A statement where it is shared: its card tags, its card image, and its embed page."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from statements.publishing import CARD_RATE_LIMIT, families
from statements.publishing.sharing import embed_code, first_paragraph, og_locale, shorten
from statements.settings import Settings, SettingsError
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    published_statement,
    staff_identity,
)

MESSENGER = {"User-Agent": "TelegramBot (like TwitterBot)"}


class _Head(HTMLParser):
    """The <meta> tags of a page, by property or name."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        key = found.get("property") or found.get("name")
        if tag == "meta" and key:
            self.meta[key] = found.get("content") or ""


def _head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def _publish(app: Flask, session: Session, title: str, markdown: str, language: str) -> str:
    coordinator = staff_identity(app, session, f"coord-{language}")
    room_id = make_room(session, coordinator, title=title, markdown=markdown, language=language)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "anonymous")
    return publish_room(session, coordinator, room_id, f"statement-{language}")


# --- the description ----------------------------------------------------------------


def test_the_description_is_the_first_paragraph_in_plain_text() -> None:
    text = "# Heading\n\nWe **call** on [all parties](https://x.example)\nto act `now`.\n\nMore."
    assert first_paragraph(text) == "We call on all parties to act now."
    assert first_paragraph("# Only a heading") == "Only a heading"
    assert first_paragraph("") == ""
    assert first_paragraph("<script>alert(1)</script>\n\nText") == "<script>alert(1)</script>"


def test_a_long_first_paragraph_is_cut_at_a_word() -> None:
    words = "refugees " * 60
    cut = first_paragraph(words)
    assert len(cut) <= 200
    assert cut.endswith("refugees…")
    assert shorten("x" * 300, 50) == "x" * 49 + "…"


def test_locales_are_written_the_open_graph_way() -> None:
    assert og_locale("fa") == "fa"
    assert og_locale("fa_AF") == "fa_AF"
    assert og_locale("pt-br") == "pt_BR"


# --- the statement page's card tags ---------------------------------------------------


def test_a_messenger_finds_the_card_tags_and_the_card(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    page = client.get(f"/statements/{slug}", headers=MESSENGER)
    assert page.status_code == 200
    head = _head(page.get_data(as_text=True))
    meta = head.meta
    assert meta["og:type"] == "article"
    assert meta["og:title"] == "Right to work"
    assert (
        meta["og:description"]
        == meta["description"]
        == "Refugees in the region are denied the right to work."
    )
    assert meta["twitter:description"] == meta["description"]
    assert meta["og:url"] == f"http://localhost/statements/{slug}"
    assert meta["og:locale"] == "en"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:title"] == "Right to work"
    card_url = meta["og:image"]
    assert card_url == meta["twitter:image"] == f"http://localhost/statements/{slug}/v/1/card.png"
    assert "script" not in head.tags
    image = client.get(card_url, headers=MESSENGER)
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (1200, 630)
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in image.headers
    again = client.get(card_url, headers={"If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/statements/{slug}/v/9/card.png").status_code == 404
    assert client.get("/statements/nope/v/1/card.png").status_code == 404


def test_a_version_page_points_at_its_own_card(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    meta = _head(app.test_client().get(f"/statements/{slug}/v/1").get_data(as_text=True)).meta
    assert meta["og:url"] == f"http://localhost/statements/{slug}/v/1"
    assert meta["og:image"].endswith(f"/statements/{slug}/v/1/card.png")


def test_the_page_offers_the_embed_code(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    html = app.test_client().get(f"/statements/{slug}").get_data(as_text=True)
    snippet = re.search(r'<textarea id="embed-code"[^>]*readonly[^>]*>([^<]*)</textarea>', html)
    assert snippet is not None
    code = unescape(snippet.group(1))
    assert code == (
        f'<iframe src="http://localhost/statements/{slug}/embed" title="Right to work" '
        'width="100%" height="360" style="border:0" loading="lazy"></iframe>'
    )
    # What another site pastes is escaped for it: a title cannot break out of its quotes.
    assert embed_code("https://x.example/e", 'A "quoted" <b> & co') == (
        '<iframe src="https://x.example/e" title="A &quot;quoted&quot; &lt;b&gt; &amp; co" '
        'width="100%" height="360" style="border:0" loading="lazy"></iframe>'
    )


def test_a_farsi_statement_is_shared_in_farsi(app: Flask, session: Session) -> None:
    slug = _publish(app, session, "حق کار", "# حق کار\n\nپناهندگان از حق کار محروم‌اند.\n", "fa")
    session.commit()
    client = app.test_client()
    meta = _head(client.get(f"/statements/{slug}").get_data(as_text=True)).meta
    assert meta["og:locale"] == "fa"
    assert meta["og:title"] == "حق کار"
    assert meta["description"] == "پناهندگان از حق کار محروم‌اند."
    embed = client.get(f"/statements/{slug}/embed").get_data(as_text=True)
    assert '<article lang="fa" dir="rtl">' in embed


# --- the embed page -----------------------------------------------------------------


def test_only_the_embed_page_may_be_framed(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    embed = client.get(f"/statements/{slug}/embed")
    assert embed.status_code == 200
    csp = embed.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "frame-ancestors 'none'" not in csp
    assert "default-src 'none'" in csp
    assert "X-Frame-Options" not in embed.headers
    # Cached and answered 304 the same way.
    again = client.get(
        f"/statements/{slug}/embed", headers={"If-None-Match": embed.headers["ETag"]}
    )
    assert again.status_code == 304
    assert "frame-ancestors *" in again.headers["Content-Security-Policy"]
    for path in (f"/statements/{slug}", f"/statements/{slug}/v/1", "/statements/nope/embed"):
        other = client.get(path)
        assert other.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"], path
    assert client.get("/statements/nope/embed").status_code == 404


def test_the_embed_page_is_brief_and_has_no_script(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    html = app.test_client().get(f"/statements/{slug}/embed").get_data(as_text=True)
    head = _head(html)
    assert "script" not in head.tags
    assert "form" not in head.tags
    assert "<h1>Right to work</h1>" in html
    assert "Refugees in the region are denied the right to work." in html
    assert "Signed by 1 named organisation and 1 counted anonymously." in html
    assert f'href="http://localhost/statements/{slug}" target="_blank" rel="noopener"' in html
    assert "End arrests" not in html  # the first paragraph only


def test_a_retracted_statement_s_embed_says_so(app: Flask, session: Session) -> None:
    coordinator, slug = published_statement(app, session)
    families.retract_family(
        session,
        coordinator,
        slug,
        app_today(),
        "We withdraw this text.",
        reason="Signed in error.",
    )
    session.commit()
    client = app.test_client()
    html = client.get(f"/statements/{slug}/embed").get_data(as_text=True)
    assert "<h1>Retracted: Right to work</h1>" in html
    assert "Signed by" not in html
    meta = _head(client.get(f"/statements/{slug}").get_data(as_text=True)).meta
    assert meta["og:title"] == "Retracted: Right to work"
    assert meta["og:image"].endswith("/v/2/card.png")
    card = client.get(meta["og:image"])
    assert card.status_code == 200
    assert card.data != client.get(f"/statements/{slug}/v/1/card.png").data


def test_the_embed_page_follows_the_interface_language(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    html = (
        app.test_client()
        .get(f"/statements/{slug}/embed", headers={"Accept-Language": "fa"})
        .get_data(as_text=True)
    )
    assert '<html lang="fa" dir="rtl">' in html
    assert '<article lang="en" dir="ltr">' in html
    assert "Read the full statement" not in html


# --- the network's name -------------------------------------------------------------


def test_the_network_name_is_on_the_card(
    app: Flask, session: Session, app_with: Callable[..., Flask]
) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    plain = app.test_client().get(f"/statements/{slug}/v/1/card.png")
    named_app = app_with(network_name="Asia Pacific Refugee Rights Network")
    named = named_app.test_client().get(f"/statements/{slug}/v/1/card.png")
    assert named.status_code == 200
    assert named.data != plain.data
    assert named.headers["ETag"] != plain.headers["ETag"]


def _env(**extra: str) -> dict[str, str]:
    return {"APP_ENV": "development", **extra}


@pytest.mark.parametrize("name", ["x" * 121, "Nul\u0000", "Bell\u0007", "Unassigned\u0378"])
def test_a_bad_network_name_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="NETWORK_NAME"):
        Settings.from_env(_env(NETWORK_NAME=name), tmp_path)


def test_a_network_name_is_read_on_one_line(tmp_path: Path) -> None:
    settings = Settings.from_env(_env(NETWORK_NAME="  Réseau \n  des\u2028droits  "), tmp_path)
    assert settings.network_name == "Réseau des droits"
    persian = "شبکهٔ حقوق پناهندگان\u200cها"
    assert Settings.from_env(_env(NETWORK_NAME=persian), tmp_path).network_name == persian
    assert Settings.from_env(_env(), tmp_path).network_name == ""


def test_cards_have_a_budget_per_reader(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    allowed = int(CARD_RATE_LIMIT.split()[0])
    path = f"/statements/{slug}/v/1/card.png"
    statuses = {reader.get(path).status_code for _ in range(allowed)}
    assert statuses == {200}
    assert reader.get(path).status_code == 429
    # Another reader's budget is their own (the limiter keys by address).
    other = app.test_client()
    assert other.get(path, environ_overrides={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
