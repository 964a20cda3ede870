"""Anonymous endorsements each signer can check, through HTTP: before and after
publication, offline, and after a correction removes one or adds letters."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from crypto.bundle_checks import verify_bundle
from crypto.bundle_reading import parse_keys
from crypto.verify_cli import main
from statements.auth.service import Identity
from statements.publishing import service as publishing
from tests.support import (
    app_today,
    make_room,
    open_signon,
    post_signed_in,
    publish_room,
    signed_in_member,
    signed_in_staff,
)

_COMMITMENT = re.compile(r'<code dir="ltr">([0-9a-f]{64})</code>')
SLUG = "right-to-work"


@dataclass
class Signed:
    """A published statement, its coordinator, and two anonymous endorsers signed in."""

    coordinator: Identity
    staff: FlaskClient
    first: FlaskClient
    second: FlaskClient
    commitment: str


def _endorse(client: FlaskClient, room_id: str) -> str:
    response = post_signed_in(client, f"/rooms/{room_id}/sign-on", {"kind": "anonymous"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    assert "Checked: your endorsement is counted" in page
    found = _COMMITMENT.search(page)
    assert found
    return found.group(1)


@pytest.fixture
def signed(app: Flask, session: Session) -> Signed:
    coordinator, staff = signed_in_staff(app, session, "coord-commitments")
    room_id = make_room(session, coordinator)
    _one, first = signed_in_member(app, session, coordinator, room_id)
    _two, second = signed_in_member(app, session, coordinator, room_id)
    open_signon(session, coordinator, room_id)
    session.commit()
    commitment = _endorse(first, room_id)
    other = _endorse(second, room_id)
    # Fresh and random: two endorsements share nothing.
    assert commitment != other
    page = first.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    assert "number" in page
    assert " of 2" in page
    publish_room(session, coordinator, room_id, SLUG)
    session.commit()
    return Signed(coordinator, staff, first, second, commitment)


def _files(client: FlaskClient, tmp_path: Path, number: int) -> tuple[Path, Path]:
    bundle = tmp_path / f"v{number}.json"
    bundle.write_bytes(client.get(f"/statements/{SLUG}/v/{number}/bundle.json").data)
    keys = tmp_path / "statement-keys.json"
    keys.write_bytes(client.get("/.well-known/statement-keys.json").data)
    return bundle, keys


def test_an_endorser_checks_their_endorsement_and_a_removal_shows(
    app: Flask, signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = app.test_client()
    bundle = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()
    statement = bundle["statement"]
    assert statement["anonymous_signatories"] == 2
    assert signed.commitment in statement["anonymous_commitments"]
    assert "Check that your endorsement is counted" in reader.get(f"/statements/{SLUG}").get_data(
        as_text=True
    )

    # After publication, from the signed bundle.
    page = signed.first.get(f"/statements/{SLUG}/my-endorsement")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "Checked: your endorsement is counted" in text
    assert signed.commitment in text
    assert statement["anonymous_commitments_root"] in text
    # Signed out, there is nothing to check.
    assert reader.get(f"/statements/{SLUG}/my-endorsement").status_code in (302, 401)

    # The proof, downloaded and checked offline against the bundle alone.
    download = signed.first.get(f"/statements/{SLUG}/my-endorsement/proof.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    proof = tmp_path / "my-endorsement-proof.json"
    proof.write_bytes(download.data)
    assert json.loads(download.data)["commitment"] == signed.commitment
    first_bundle, keys = _files(reader, tmp_path, 1)
    code = main([str(first_bundle), "--keys", str(keys), "--commitment-proof", str(proof)])
    assert code == 0, capsys.readouterr().out
    assert "ok   commitment_proof" in capsys.readouterr().out

    # A coordinator removes it, with a public reason.
    response = post_signed_in(
        signed.staff,
        f"/published/{SLUG}/correct",
        {
            "title": statement["title"],
            "body": statement["body_markdown"],
            "signatories": "",
            "removals": f"{signed.commitment} | The organisation asked to be taken off.",
            "reason": "An organisation withdrew.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    second = reader.get(f"/statements/{SLUG}/v/2/bundle.json").get_json()["statement"]
    assert second["anonymous_signatories"] == 1
    assert signed.commitment not in second["anonymous_commitments"]
    assert second["anonymous_removed"] == [
        {"commitment": signed.commitment, "reason": "The organisation asked to be taken off."}
    ]
    public = reader.get(f"/statements/{SLUG}").get_data(as_text=True)
    assert "Anonymous endorsements: 2 → 1" in public
    assert "Anonymous endorsement removed" in public
    assert "The organisation asked to be taken off." in public

    # Its endorser is told, and can no longer download a proof; the other still can.
    text = signed.first.get(f"/statements/{SLUG}/my-endorsement").get_data(as_text=True)
    assert "Your endorsement is not counted" in text
    assert signed.first.get(f"/statements/{SLUG}/my-endorsement/proof.json").status_code == 404
    other = signed.second.get(f"/statements/{SLUG}/my-endorsement").get_data(as_text=True)
    assert "Checked: your endorsement is counted" in other
    assert "in version 2" in other

    # Offline: version 2 verifies against version 1, and the old proof does not hold.
    second_bundle, keys = _files(reader, tmp_path, 2)
    assert main([str(second_bundle), "--keys", str(keys), "--previous", str(first_bundle)]) == 0
    out = capsys.readouterr().out
    assert "anonymous endorsements: 2 -> 1" in out
    assert f"anonymous commitment removed: {signed.commitment[:16]}..." in out
    old = json.loads(proof.read_text())
    proof.write_text(json.dumps({**old, "version": 2}))
    code = main([str(second_bundle), "--keys", str(keys), "--commitment-proof", str(proof)])
    assert code == 1
    assert "FAIL commitment_proof" in capsys.readouterr().out


def test_the_count_cannot_be_typed_only_letters_added(app: Flask, signed: Signed) -> None:
    reader = app.test_client()
    statement = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()["statement"]
    data = {
        "title": statement["title"],
        "body": statement["body_markdown"],
        "signatories": "",
        "reason": "Two letters arrived.",
        # A typed count is not a field any more: it is ignored.
        "anonymous": "40",
        "letters": "2",
    }
    assert post_signed_in(signed.staff, f"/published/{SLUG}/correct", data).status_code == 302
    bundle = reader.get(f"/statements/{SLUG}/v/2/bundle.json").get_json()
    second = bundle["statement"]
    assert second["anonymous_signatories"] == 4
    assert len(second["anonymous_by_letter"]) == 2
    assert set(statement["anonymous_commitments"]) < set(second["anonymous_commitments"])
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    assert verify_bundle(bundle, keys).valid
    assert "Received by letter: 2" in reader.get(f"/statements/{SLUG}").get_data(as_text=True)
    # The letters' secrets were thrown away: nobody's check finds them as theirs.
    page = signed.first.get(f"/statements/{SLUG}/my-endorsement").get_data(as_text=True)
    assert "commitment number" in page
    assert " of 4" in page


@pytest.mark.parametrize(
    ("removals", "letters", "message"),
    [
        ("not-hex | reason", "0", "Write one commitment per line"),
        ("ab" * 32, "0", "Write one commitment per line"),
        ("ab" * 32 + " | ", "0", "Give the public reason for each removal."),
        ("ab" * 32 + " | Not one of ours.", "0", "That commitment is not counted"),
        ("", "-1", "That number is out of range."),
        ("", "100000", "That number is out of range."),
    ],
)
def test_bad_removals_and_letters_publish_nothing(
    app: Flask, signed: Signed, removals: str, letters: str, message: str
) -> None:
    reader = app.test_client()
    statement = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()["statement"]
    response = post_signed_in(
        signed.staff,
        f"/published/{SLUG}/correct",
        {
            "title": statement["title"],
            "body": statement["body_markdown"],
            "signatories": "",
            "reason": "Why.",
            "removals": removals,
            "letters": letters,
        },
    )
    assert response.status_code == 400
    # What was typed is given back, with the message.
    assert message in response.get_data(as_text=True)
    assert reader.get(f"/statements/{SLUG}/v/2").status_code == 404


def test_a_removal_twice_is_refused_and_a_retraction_counts_nobody(
    app: Flask, session: Session, signed: Signed
) -> None:
    reader = app.test_client()
    statement = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()["statement"]
    line = f"{signed.commitment} | Asked."
    twice = post_signed_in(
        signed.staff,
        f"/published/{SLUG}/correct",
        {
            "title": statement["title"],
            "body": statement["body_markdown"],
            "reason": "Why.",
            "removals": f"{line}\n{line}",
        },
    )
    assert twice.status_code == 400
    assert "listed twice" in twice.get_data(as_text=True)
    publishing.retract(
        session, signed.coordinator, SLUG, app_today(), "Withdrawn.", reason="Asked."
    )
    session.commit()
    retraction = reader.get(f"/statements/{SLUG}/v/2/bundle.json").get_json()["statement"]
    assert retraction["anonymous_signatories"] == 0
    assert "anonymous_commitments" not in retraction
    # The endorser still checks against the last version that counted them.
    page = signed.first.get(f"/statements/{SLUG}/my-endorsement").get_data(as_text=True)
    assert "in version 1" in page


def test_a_member_without_an_anonymous_endorsement_is_told_so(
    app: Flask, session: Session, signed: Signed
) -> None:
    _other, outsider = signed_in_staff(app, session, "someone-else")
    page = outsider.get(f"/statements/{SLUG}/my-endorsement")
    assert page.status_code == 200
    assert "holds no anonymous endorsement" in page.get_data(as_text=True)
    assert outsider.get(f"/statements/{SLUG}/my-endorsement/proof.json").status_code == 404
    assert outsider.get("/statements/no-such/my-endorsement").status_code == 404
