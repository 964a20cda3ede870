"""Every word a person reads is translatable, and every catalogue translates every word."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import nodes
from sqlalchemy.orm import Session

from statements.i18n import LANGUAGES, catalogue_locale
from tests.support import csrf_token, published_statement

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOGUES = ROOT / "statements" / "translations"
# Each translated interface language by its catalogue's locale (Dari's is fa_AF).
TRANSLATED = sorted(catalogue_locale(code) for code in set(LANGUAGES) - {"en"})

_VERBATIM = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.S | re.I)
_ATTRIBUTE = re.compile(r'\b(alt|title|aria-label|placeholder|label)="([^"]*)"', re.I)
_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[#A-Za-z0-9]+;")
_LETTER = re.compile(r"[^\W\d_]")
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


def _untranslated(app: Flask, path: Path) -> list[str]:
    """Text a reader would see that is written into the template rather than translated."""
    tree = app.jinja_env.parse(path.read_text(), name=path.name)
    # Expressions ({{ ... }}) become a marker, so text on either side stays apart.
    data = "\x00".join(node.data for node in tree.find_all(nodes.TemplateData))
    found = [value for _, value in _ATTRIBUTE.findall(data) if _LETTER.search(value)]
    text = _TAG.sub("\x00", _VERBATIM.sub("\x00", data))
    for piece in _ENTITY.sub(" ", text).split("\x00"):
        if _LETTER.search(piece):
            found.append(piece.strip())
    return found


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_hold_no_untranslated_text(app: Flask, path: Path) -> None:
    assert _untranslated(app, path) == []


def test_the_checker_finds_untranslated_text(app: Flask, tmp_path: Path) -> None:
    sample = tmp_path / "sample.html"
    sample.write_text(
        '<p>{{ _("Fine") }}</p><p title="Tooltip">Plain words</p>'
        "<pre>make run</pre><code>minisign -V</code> · — {{ count }}"
    )
    assert _untranslated(app, sample) == ["Tooltip", "Plain words"]


def _extracted() -> dict[str, tuple[str, ...]]:
    """Every message in the code and templates: msgid -> its forms (singular, plural)."""
    messages: dict[str, tuple[str, ...]] = {}
    method_map = [("statements/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "lazy_ngettext": (1, 2),
    }
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        forms = message if isinstance(message, tuple) else (message,)
        if forms[0]:
            messages[forms[0]] = tuple(forms)
    return messages


def test_there_is_text_to_translate() -> None:
    assert len(_extracted()) > 100


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalogue_translates_every_message(language: str) -> None:
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    assert path.is_file(), f"no catalogue for {language}: run make translations"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    assert not catalogue.fuzzy, f"{language}: the catalogue is marked fuzzy"
    missing, empty, fuzzy, mismatched = [], [], [], []
    for msgid, forms in _extracted().items():
        message = catalogue.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        # A message counted with ngettext needs its plural forms, or English shows.
        if (len(forms) == 2) != isinstance(message.id, tuple):
            mismatched.append(msgid)
        if isinstance(message.string, tuple) and len(message.string) != catalogue.num_plurals:
            empty.append(msgid)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            empty.append(msgid)
        expected = set().union(*(_placeholders(form) for form in forms))
        if any(_placeholders(s) - expected for s in strings) or not all(
            _placeholders(s) >= _placeholders(forms[0]) - {"num", "count"} for s in strings
        ):
            mismatched.append(msgid)
    assert (missing, empty, fuzzy, mismatched) == ([], [], [], []), language


def _messages(catalogue: Catalog) -> dict[object, object]:
    """What a catalogue translates: each message id and its translation, header aside.

    Compared as parsed messages, never as bytes: the compiled file also records the
    version of the tool that wrote it, which changes with every Babel release.
    """

    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogues_are_up_to_date(language: str) -> None:
    folder = CATALOGUES / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = _messages(read_po(handle, locale=language))
    with (folder / "messages.mo").open("rb") as handle:
        compiled = _messages(read_mo(handle))
    stale = sorted(str(k) for k in source.keys() ^ compiled.keys())
    changed = sorted(str(k) for k in source.keys() & compiled.keys() if source[k] != compiled[k])
    assert (stale[:5], changed[:5]) == ([], []), f"{language}: run make translations"


def test_the_compiled_catalogue_check_notices_a_stale_file(tmp_path: Path) -> None:
    folder = CATALOGUES / "fa" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="fa")
    message = next(m for m in catalogue if m.id and isinstance(m.string, str) and m.string)
    message.string = message.string + "!"
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    with (folder / "messages.mo").open("rb") as handle:
        assert _messages(read_mo(compiled)) != _messages(read_mo(handle))


@pytest.mark.parametrize(
    ("language", "direction"),
    [("en", "ltr"), ("fa", "rtl"), ("th", "ltr"), ("prs", "rtl"), ("ar", "rtl")],
)
def test_the_reader_chooses_the_language(
    client: FlaskClient, language: str, direction: str
) -> None:
    chosen = client.get(f"/language?lang={language}&next=/safety")
    assert chosen.status_code == 302
    assert chosen.headers["Location"] == "/safety"
    page = client.get("/safety").get_data(as_text=True)
    assert f'<html lang="{language}" dir="{direction}">' in page


def test_accept_language_decides_without_a_cookie(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "ms-MY, en;q=0.5"})
    assert '<html lang="ms" dir="ltr">' in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_the_language_menu_only_returns_to_this_site(client: FlaskClient, target: str) -> None:
    response = client.get("/language", query_string={"lang": "fa", "next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_language_changes_nothing(client: FlaskClient) -> None:
    response = client.get("/language?lang=xx&next=/")
    assert "Set-Cookie" not in response.headers


def test_the_language_choice_lasts_only_the_browser_session(client: FlaskClient) -> None:
    cookie = client.get("/language?lang=fa&next=/").headers["Set-Cookie"]
    assert cookie.startswith("lang=fa;")
    assert "Expires" not in cookie
    assert "Max-Age" not in cookie


def test_no_language_menu_where_a_secret_is_shown_once(client: FlaskClient) -> None:
    assert 'action="/language"' in client.get("/join").get_data(as_text=True)
    token = csrf_token(client, "/join")
    codename_page = client.post("/join", data={"csrf_token": token})
    assert codename_page.status_code == 201
    assert 'action="/language"' not in codename_page.get_data(as_text=True)


def test_only_translated_answers_vary_by_language(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    page = reader.get(f"/statements/{slug}", headers={"Accept-Language": "th"})
    assert page.headers["Content-Language"] == "th"
    assert "Accept-Language" in page.headers["Vary"]
    for path in (f"/statements/{slug}/v/1/bundle.json", "/.well-known/statement-keys.json"):
        answer = reader.get(path, headers={"Accept-Language": "th"})
        assert "Vary" not in answer.headers, path
        assert "Content-Language" not in answer.headers, path


def test_dates_and_statements_keep_their_own_direction(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    session.commit()
    page = app.test_client().get(f"/statements/{slug}", headers={"Accept-Language": "fa"})
    html = page.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in html
    # An English statement stays left to right inside a Farsi page; dates stay whole.
    assert '<article class="statement" lang="en" dir="ltr">' in html
    assert re.search(r'<time class="date" datetime="\d{4}-\d{2}-\d{2}">', html)


# Names that read the same in every language here: a translation may keep them as they are.
SAME_EVERYWHERE = {"JSON API", "OpenAPI", "Atom feed", "Format"}


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_message_is_left_in_english(language: str) -> None:
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    untouched = [
        message.id
        for message in catalogue
        if isinstance(message.id, str)
        and message.string == message.id
        and message.id not in SAME_EVERYWHERE
        and re.search(r"[A-Za-z]{3}", re.sub(r"%\(\w+\)[sd]|<[^>]+>", "", message.id))
    ]
    assert untouched == []


@pytest.mark.parametrize(
    ("header", "language", "word"),
    [("fa-AF, en;q=0.5", "prs", "دری"), ("prs", "prs", "دری"), ("fa-IR", "fa", "فارسی")],
)
def test_dari_is_chosen_by_its_own_tag_or_afghanistans_persian(
    client: FlaskClient, header: str, language: str, word: str
) -> None:
    page = client.get("/safety", headers={"Accept-Language": header})
    assert f'<html lang="{language}" dir="rtl">' in page.get_data(as_text=True)
    assert page.headers["Content-Language"] == language


def test_dari_pages_read_in_dari(client: FlaskClient) -> None:
    # Dari's catalogue starts from Farsi's and uses Afghan words: a phone is a "مبایل".
    client.get("/language?lang=prs&next=/")
    dari = client.get("/safety").get_data(as_text=True)
    client.get("/language?lang=fa&next=/")
    farsi = client.get("/safety").get_data(as_text=True)
    assert "مبایل" in dari
    assert "مبایل" not in farsi


def test_arabic_pages_read_in_arabic(client: FlaskClient) -> None:
    client.get("/language?lang=ar&next=/")
    page = client.get("/safety").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "البقاء بأمان" in page
