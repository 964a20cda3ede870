"""Corrections and retractions that explain themselves: a public reason signed into the
bundle (format 2), the changes shown on the page, in the feed, and by the offline verifier."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import BUNDLE_FORMAT, BUNDLE_FORMAT_V1
from crypto.bundle_reading import parse_keys
from crypto.verify_cli import main
from tests.support import post_signed_in, published_statement, signed_in_staff

DATA = Path(__file__).resolve().parents[2] / "crypto" / "data"


@pytest.fixture
def published(app: Flask, session: Session) -> tuple[FlaskClient, str]:
    coordinator, client = signed_in_staff(app, session, "reasons-coord")
    # Two members: one public ("Refugee Rights Network"), one anonymous.
    _coordinator, slug = published_statement(app, session, coordinator=coordinator)
    session.commit()
    return client, slug


def _correct(client: FlaskClient, slug: str, **changes: str) -> int:
    data = {
        "title": "Right to work",
        "body": "Refugees everywhere are denied the right to work.",
        "signatories": "Refugee Rights Network | Thailand\nLetter Org | Malaysia",
        # Two anonymous endorsements arrived by letter: each counted as a new commitment.
        "letters": "2",
        "reason": "A member organisation's letter arrived after publication.",
        **changes,
    }
    return post_signed_in(client, f"/published/{slug}/correct", data).status_code


def test_a_correction_without_a_reason_is_refused(
    app: Flask, published: tuple[FlaskClient, str]
) -> None:
    client, slug = published
    for reason in ("", "   ", "\n\n"):
        assert _correct(client, slug, reason=reason) == 400
    too_long = "x" * 5000
    assert _correct(client, slug, reason=too_long) == 400
    retraction = post_signed_in(
        client, f"/published/{slug}/retract", {"notice": "Withdrawn.", "slug": slug, "reason": ""}
    )
    assert retraction.status_code == 400
    reader = app.test_client()
    assert reader.get(f"/statements/{slug}/v/2").status_code == 404


def test_the_page_feed_and_bundle_show_the_reason_and_what_changed(
    app: Flask, published: tuple[FlaskClient, str]
) -> None:
    client, slug = published
    assert _correct(client, slug) == 302
    reader = app.test_client()
    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "Reason: A member organisation&#39;s letter arrived after publication." in page
    assert "Signatory added: Letter Org (Malaysia)" in page
    assert "Anonymous endorsements: 1 → 3" in page
    feed = ET.fromstring(reader.get("/feed.atom").data)  # noqa: S314 - our own output
    atom = "{http://www.w3.org/2005/Atom}"
    summaries = [entry.findtext(f"{atom}summary") or "" for entry in feed.iter(f"{atom}entry")]
    assert any("Reason: A member organisation's letter" in text for text in summaries)

    bundle = reader.get(f"/statements/{slug}/v/2/bundle.json").get_json()
    assert bundle["format"] == BUNDLE_FORMAT
    assert bundle["statement"]["reason"].startswith("A member organisation")
    assert bundle["statement"]["changes"] == {
        "previous_version": 1,
        "signatories_added": [{"name": "Letter Org", "country": "Malaysia"}],
        "signatories_removed": [],
        "removed_for_safety": 0,
        "anonymous_before": 1,
    }
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    assert verify_bundle(bundle, keys).valid
    first = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    # Version 1 is format 2 only for its anonymous endorsement's commitment.
    assert first["format"] == BUNDLE_FORMAT
    assert "reason" not in first["statement"]
    assert len(first["statement"]["anonymous_commitments"]) == 1
    assert len(bundle["statement"]["anonymous_by_letter"]) == 2
    assert "Received by letter: 2" in page


def test_a_removal_for_safety_never_repeats_the_name(
    app: Flask,
    published: tuple[FlaskClient, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, slug = published
    status = _correct(
        client,
        slug,
        signatories="",
        reason="Removed at the signatory's request for safety.",
        for_safety="y",
    )
    assert status == 302
    reader = app.test_client()
    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "Refugee Rights Network" not in page
    assert "1 signatory was removed at its request, for its safety." in page
    bundle = reader.get(f"/statements/{slug}/v/2/bundle.json").data
    assert b"Refugee Rights Network" not in bundle
    assert json.loads(bundle)["statement"]["changes"]["removed_for_safety"] == 1

    # The offline verifier prints the same summary, and checks it against version 1.
    (tmp_path / "v2.json").write_bytes(bundle)
    (tmp_path / "v1.json").write_bytes(reader.get(f"/statements/{slug}/v/1/bundle.json").data)
    (tmp_path / "statement-keys.json").write_bytes(
        reader.get("/.well-known/statement-keys.json").data
    )
    code = main([str(tmp_path / "v2.json"), "--previous", str(tmp_path / "v1.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   previous" in out
    assert "signatories removed at their request for their safety: 1" in out
    assert "reason: Removed at the signatory's request for safety." in out
    assert "+Refugees everywhere are denied the right to work." in out
    # Against a version that is not the one before, the link fails.
    code = main([str(tmp_path / "v2.json"), "--previous", str(tmp_path / "v2.json")])
    assert code == 1
    assert "FAIL previous" in capsys.readouterr().out


def test_stored_format_1_bundles_still_verify(capsys: pytest.CaptureFixture[str]) -> None:
    keys = parse_keys(json.loads((DATA / "format1.statement-keys.json").read_text()))
    for number in (1, 2):
        bundle = json.loads((DATA / f"format1-v{number}.bundle.json").read_text())
        assert bundle["format"] == BUNDLE_FORMAT_V1
        assert verify_bundle(bundle, keys).valid
    code = main(
        [
            str(DATA / "format1-v2.bundle.json"),
            "--keys",
            str(DATA / "format1.statement-keys.json"),
            "--previous",
            str(DATA / "format1-v1.bundle.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   previous" in out
    assert "reason: (none signed: format 1)" in out
    assert "signatory added: Letter Org (Malaysia)" in out
