"""A family published in three languages, as the public reads it: pages, API, feed, mirror.

Each language's page carries its text with the right lang and dir, links the others, and
says in the reader's language which text prevails; the API (checked against the OpenAPI
document), the Atom feed and the static mirror list every language; each mirrored bundle
verifies offline and the verifier names the authoritative language.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.publishing import families
from tests.statements.publishing.test_families import BURMESE, ENGLISH, FARSI, ORIGIN, SLUGS
from tests.statements.publishing.test_openapi import _check
from tests.support import (
    app_today,
    confirm_self_declared,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    staff_identity,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def family(app: Flask, session: Session) -> dict[str, str]:
    """Publish the room's English, Farsi and Burmese texts as one family; commit."""
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "public", "Refugee Rights Network", "Thailand")
    access = drafting.open_room(session, room_id, coordinator)
    confirm_self_declared(session, access)
    families.publish_family(
        session, access, [ENGLISH, FARSI, BURMESE], SLUGS, ORIGIN, app_today(), confirmed=False
    )
    session.commit()
    return SLUGS


def _authoritative_note(page: str) -> list[str]:
    return re.findall(r'<p class="authoritative">([^<]*)</p>', page)


def test_each_language_s_page_offers_the_others_and_names_the_prevailing_text(
    client: FlaskClient, family: dict[str, str]
) -> None:
    for language, slug in family.items():
        page = client.get(f"/statements/{slug}").get_data(as_text=True)
        direction = "rtl" if language == "fa" else "ltr"
        assert f'<article class="statement" lang="{language}" dir="{direction}">' in page
        start = page.index('<nav class="family"')
        nav = page[start : page.index("</nav>", start)]
        assert set(re.findall(r'href="/statements/([^"]+)" hreflang="([^"]+)"', nav)) == {
            (other_slug, other) for other, other_slug in family.items() if other != language
        }
        assert _authoritative_note(page) == ["In case of difference, the English text prevails."]


def test_the_prevailing_text_is_named_in_the_reader_s_language(
    client: FlaskClient, family: dict[str, str]
) -> None:
    response = client.get(f"/statements/{family['my']}", headers={"Accept-Language": "fa"})
    page = response.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in page
    [note] = _authoritative_note(page)
    assert "English" not in note
    assert "In case of difference" not in note
    assert "انگلیسی" in note


def test_a_statement_published_alone_names_no_prevailing_text(
    app: Flask, session: Session, client: FlaskClient
) -> None:
    from tests.support import published_statement

    _coordinator, slug = published_statement(app, session)
    session.commit()
    assert _authoritative_note(client.get(f"/statements/{slug}").get_data(as_text=True)) == []


def test_the_api_lists_every_language_and_fits_the_openapi_document(
    client: FlaskClient, family: dict[str, str]
) -> None:
    listing = client.get("/api/v1/statements")
    _check(listing, "/api/v1/statements", "application/json", "StatementList")
    items = {item["slug"]: item for item in listing.get_json()["statements"]}
    assert {slug: items[slug]["language"] for slug in family.values()} == {
        slug: language for language, slug in family.items()
    }
    assert items[family["en"]]["translation_of"] is None
    assert items[family["fa"]]["translation_of"] == family["en"]
    for language, slug in family.items():
        response = client.get(f"/api/v1/statements/{slug}")
        _check(response, "/api/v1/statements/{slug}", "application/json", "StatementDetail")
        detail = response.get_json()
        assert detail["authoritative_language"] == "en"
        assert detail["statement"]["family"] == [
            {"language": lang, "slug": other} for lang, other in family.items()
        ]
        assert {t["language"] for t in detail["translations"]} == set(family) - {language}
        bundle = client.get(f"/statements/{slug}/v/1/bundle.json")
        _check(bundle, "/statements/{slug}/v/{number}/bundle.json", "application/json", "Bundle")


def test_the_feed_lists_every_language_in_its_own_language(
    client: FlaskClient, family: dict[str, str]
) -> None:
    import feedparser  # type: ignore[import-untyped]

    parsed = feedparser.parse(client.get("/feed.atom").data)
    assert not parsed.bozo
    entries = {entry.link.rsplit("/statements/", 1)[1]: entry for entry in parsed.entries}
    for language, slug in family.items():
        entry = entries[f"{slug}/v/1"]
        assert entry.title_detail.language == language


def test_the_mirror_holds_every_language_and_each_bundle_verifies(
    app: Flask, family: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "mirror"
    result = app.test_cli_runner().invoke(
        args=["export-site", str(out), "--base-url", "https://mirror.example.org"]
    )
    assert result.exit_code == 0, result.output
    listing = json.loads((out / "api/v1/statements.json").read_text())
    assert {item["slug"] for item in listing["statements"]} == set(family.values())
    for slug in family.values():
        assert (out / f"statements/{slug}/index.html").is_file()
        checked = subprocess.run(
            [
                sys.executable,
                "-m",
                "crypto.verify_cli",
                str(out / f"statements/{slug}/v/1/bundle.json"),
                "--keys",
                str(out / ".well-known/statement-keys.json"),
            ],
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "authoritative language: en" in checked.stdout.splitlines()
        assert checked.stdout.splitlines()[-1] == "valid"


def test_the_verify_page_names_the_prevailing_text(
    client: FlaskClient, family: dict[str, str]
) -> None:
    bundle = client.get(f"/statements/{family['fa']}/v/1/bundle.json").get_data(as_text=True)
    response = client.post("/verify", data={"bundle_text": bundle})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="verdict valid"' in page
    assert _authoritative_note(page) == ["In case of difference, the English text prevails."]
