"""Sign-on, publication and the public side through HTTP, as browsers and tools use them."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import body_sha256, canonical
from crypto.bundle_reading import parse_keys
from crypto.merkle import leaf_hash, verify_consistency, verify_inclusion
from crypto.signing import open_note, parse_checkpoint
from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.models import LoginSession
from statements.publishing import service as publishing
from statements.publishing import signing_keys
from tests.conftest import Clock
from tests.support import (
    Staff,
    app_today,
    csrf_token,
    join_room,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
    open_signon,
)

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class SignOnRoom:
    """A room in sign-on: its coordinator and two members, each signed in on a client."""

    room_id: str
    staff: Staff
    coordinator: FlaskClient
    members: list[FlaskClient]


def _post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


@pytest.fixture
def signon_room(app: Flask, session: Session, clock: Clock) -> SignOnRoom:
    config: auth.AuthConfig = app.extensions["auth"]
    staff = make_staff(app, session)
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    room_id = make_room(session, coordinator)
    clients = []
    for _ in range(2):
        _account, codename = make_member(app, session)
        _member_account, member_keys = auth.login_member(session, config, codename)
        member = auth.Identity(_member_account, member_keys, b"", b"")
        join_room(session, coordinator, room_id, member)
        client = app.test_client()
        session.commit()
        assert login_member(client, codename).status_code == 302
        clients.append(client)
    open_signon(session, coordinator, room_id)
    session.commit()
    staff_client = app.test_client()
    assert login_staff(staff_client, app, staff).status_code == 302
    return SignOnRoom(room_id, staff, staff_client, clients)


def confirm_all(coordinator: FlaskClient, room_id: str) -> None:
    """The coordinator confirms every self-declared public endorsement, as the page offers."""
    page = coordinator.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    for endorsement_id in re.findall(rf"/rooms/{room_id}/sign-on/([0-9a-f]{{32}})/confirm", page):
        response = _post(coordinator, f"/rooms/{room_id}/sign-on/{endorsement_id}/confirm")
        assert response.status_code == 302


def _publish(room: SignOnRoom, slug: str = "right-to-work") -> TestResponse:
    return _post(room.coordinator, f"/rooms/{room.room_id}/publish", {"slug": slug, "confirm": "y"})


def _published(signon_room: SignOnRoom) -> str:
    first, second = signon_room.members
    signon = f"/rooms/{signon_room.room_id}/sign-on"
    assert (
        _post(
            first,
            signon,
            {"kind": "public", "name": "Refugee Rights Network", "country": "Thailand"},
        ).status_code
        == 302
    )
    assert _post(second, signon, {"kind": "anonymous"}).status_code == 302
    confirm_all(signon_room.coordinator, signon_room.room_id)
    response = _publish(signon_room)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/statements/right-to-work"
    return "right-to-work"


# --- sign-on --------------------------------------------------------------------------


def test_signing_on_publicly_and_anonymously(signon_room: SignOnRoom) -> None:
    first, second = signon_room.members
    path = f"/rooms/{signon_room.room_id}/sign-on"
    page = first.get(path).get_data(as_text=True)
    # The words that matter, at the moment they matter.
    assert "for anyone to read, permanently" in page
    assert "only counted" in page

    missing = _post(first, path, {"kind": "public", "name": "  "})
    assert missing.status_code == 400
    text = missing.get_data(as_text=True)
    assert 'id="name-error"' in text
    assert (
        'aria-describedby="name-error"' in text or 'aria-describedby="name-hint name-error"' in text
    )
    assert _post(first, path, {}).status_code == 400

    assert (
        _post(first, path, {"kind": "public", "name": "Refugee Rights Network"}).status_code == 302
    )
    assert _post(second, path, {"kind": "anonymous"}).status_code == 302
    mine = first.get(path).get_data(as_text=True)
    assert "signs <strong>publicly</strong> as <strong>Refugee Rights Network</strong>" in mine
    assert "And 1 organisation that cannot be named for its safety." in mine
    theirs = second.get(path).get_data(as_text=True)
    assert "signs <strong>anonymously</strong>" in theirs

    assert _post(second, f"{path}/withdraw").status_code == 302
    assert "No anonymous endorsements yet." in second.get(path).get_data(as_text=True)


def test_coordinators_add_received_endorsements(signon_room: SignOnRoom) -> None:
    path = f"/rooms/{signon_room.room_id}/sign-on/received"
    coordinator, member = signon_room.coordinator, signon_room.members[0]
    assert _post(coordinator, path, {"name": ""}).status_code == 400
    assert (
        _post(coordinator, path, {"name": "Letter Org", "country": "Malaysia"}).status_code == 302
    )
    assert _post(member, path, {"name": "Sneaky"}).status_code == 403
    page = coordinator.get(f"/rooms/{signon_room.room_id}/sign-on").get_data(as_text=True)
    assert 'Letter Org (Malaysia) <span class="badge">received by a coordinator</span>' in page
    assert "Sneaky" not in page


# --- publication ----------------------------------------------------------------------


def test_publishing_needs_a_coordinator_with_a_live_session(
    app: Flask, session: Session, signon_room: SignOnRoom
) -> None:
    path = f"/rooms/{signon_room.room_id}/publish"
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    response = anonymous.post(path, data={"csrf_token": token, "slug": "x-y-z", "confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    member = signon_room.members[0]
    assert member.get(path).status_code == 403
    assert _post(member, path, {"slug": "by-member", "confirm": "y"}).status_code == 403
    # The session ends on the server (idle expiry, or signed out elsewhere): the keys it
    # sealed are gone with its row, and the form, though well-formed, publishes nothing.
    coordinator = signon_room.coordinator
    token = csrf_token(coordinator, "/account")
    session.execute(delete(LoginSession))
    session.commit()
    stale = coordinator.post(
        path, data={"csrf_token": token, "slug": "after-logout", "confirm": "y"}
    )
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/login")
    assert anonymous.get("/statements/after-logout").status_code == 404
    assert anonymous.get("/statements/x-y-z").status_code == 404
    assert anonymous.get("/api/v1/statements").get_json() == {"statements": []}


def test_publish_form_errors_keep_the_room_in_sign_on(signon_room: SignOnRoom) -> None:
    path = f"/rooms/{signon_room.room_id}/publish"
    coordinator = signon_room.coordinator
    assert "right-to-work" in coordinator.get(path).get_data(as_text=True)
    unconfirmed = _post(coordinator, path, {"slug": "right-to-work"})
    assert unconfirmed.status_code == 400
    bad = _post(coordinator, path, {"slug": "Not a slug!", "confirm": "y"})
    assert bad.status_code == 400
    assert "lower-case letters" in bad.get_data(as_text=True)
    assert coordinator.get("/statements/right-to-work").status_code == 404
    assert "Freeze" not in coordinator.get(f"/rooms/{signon_room.room_id}").get_data(as_text=True)


def test_a_published_statement_reads_and_verifies(app: Flask, signon_room: SignOnRoom) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "<h1>Right to work</h1>" in page
    assert 'Refugee Rights Network <span class="country">(Thailand)</span>' in page
    assert "And 1 organisation that cannot be named for its safety." in page
    assert "minisign -Vm statement.md -P RW" in page
    assert "statement-verify bundle.json --keys statement-keys.json" in page
    index = reader.get("/").get_data(as_text=True)
    assert f'href="/statements/{slug}"' in index
    assert "2 signatories" in index
    bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    assert verify_bundle(bundle, keys).valid
    # The member's room now points at the public statement; sign-on is over.
    room = signon_room.members[0].get(f"/rooms/{signon_room.room_id}/published")
    assert room.headers["Location"] == f"/statements/{slug}"
    again = _post(
        signon_room.members[1], f"/rooms/{signon_room.room_id}/sign-on", {"kind": "anonymous"}
    )
    assert again.status_code == 409


def test_minisign_verifies_the_served_text(
    app: Flask, signon_room: SignOnRoom, tmp_path: Path, minisign_tool: str
) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    (tmp_path / "statement.md").write_bytes(reader.get(f"/statements/{slug}/v/1/statement.md").data)
    (tmp_path / "statement.md.minisig").write_bytes(
        reader.get(f"/statements/{slug}/v/1/statement.md.minisig").data
    )
    key = reader.get("/.well-known/statement-keys.json").get_json()["keys"][0]
    result = subprocess.run(
        [minisign_tool, "-Vm", "statement.md", "-P", key["minisign_public_key"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"joint statement {slug} version 1" in result.stdout
    # One changed byte and minisign refuses it.
    text = (tmp_path / "statement.md").read_bytes()
    (tmp_path / "statement.md").write_bytes(text.replace(b"right", b"Right", 1))
    tampered = subprocess.run(
        [minisign_tool, "-Vm", "statement.md", "-P", key["minisign_public_key"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tampered.returncode != 0


def test_corrections_and_retractions_through_the_pages(app: Flask, signon_room: SignOnRoom) -> None:
    slug = _published(signon_room)
    coordinator = signon_room.coordinator
    form = coordinator.get(f"/published/{slug}/correct").get_data(as_text=True)
    assert "Refugee Rights Network | Thailand" in form
    bundle_v1 = app.test_client().get(f"/statements/{slug}/v/1/bundle.json").data
    corrected = _post(
        coordinator,
        f"/published/{slug}/correct",
        {
            "title": "Right to work",
            "body": "# Joint statement on the right to work\n\nRefugees are denied any work.",
            "signatories": "Refugee Rights Network | Thailand",
            "reason": "A clearer sentence.",
        },
    )
    assert corrected.status_code == 302, corrected.get_data(as_text=True)
    reader = app.test_client()
    latest = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "<strong>Corrected.</strong>" in latest
    assert "Changes from version 1" in latest
    assert "<ins>" in latest
    old = reader.get(f"/statements/{slug}/v/1").get_data(as_text=True)
    assert "This version has been replaced." in old
    assert reader.get(f"/statements/{slug}/v/1/bundle.json").data == bundle_v1

    member = signon_room.members[0]
    assert member.get(f"/published/{slug}/correct").status_code == 403
    wrong = _post(
        coordinator, f"/published/{slug}/retract", {"notice": "Withdrawn.", "slug": "nope"}
    )
    assert wrong.status_code == 400
    retracted = _post(
        coordinator,
        f"/published/{slug}/retract",
        {"notice": "Withdrawn at the signatories' request.", "slug": slug, "reason": "Asked."},
    )
    assert retracted.status_code == 302
    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "<strong>Retracted.</strong>" in page
    assert "Retraction notice: Right to work" in page
    assert "This statement was retracted" in reader.get(f"/statements/{slug}/v/2").get_data(
        as_text=True
    )
    assert coordinator.get(f"/published/{slug}/correct").status_code == 409
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    for number in (1, 2, 3):
        bundle = reader.get(f"/statements/{slug}/v/{number}/bundle.json").get_json()
        assert verify_bundle(bundle, keys).valid
    feed = ET.fromstring(reader.get("/feed.atom").data)  # noqa: S314 - our own output
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    farsi = reader.get("/feed.atom", headers={"Accept-Language": "fa"}).data
    assert ET.fromstring(farsi).get("{http://www.w3.org/XML/1998/namespace}lang") == "fa"  # noqa: S314
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [entry.findtext(f"{atom}title") for entry in feed.iter(f"{atom}entry")]
    assert "Retracted: Right to work" in titles
    assert "Right to work (corrected, version 2)" in titles
    assert len(titles) == 3


# --- caching --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/statements/right-to-work",
        "/statements/right-to-work/v/1",
        "/statements/right-to-work/v/1/bundle.json",
        "/statements/right-to-work/v/1/statement.md",
        "/statements/right-to-work/v/1/statement.md.minisig",
        "/.well-known/statement-keys.json",
        "/log/checkpoint",
        "/log/entries/0",
        "/feed.atom",
        "/api/v1/statements",
        "/api/v1/statements/right-to-work",
    ],
)
def test_public_answers_are_cacheable_and_conditional(
    app: Flask, signon_room: SignOnRoom, path: str
) -> None:
    _published(signon_room)
    reader = app.test_client()
    first = reader.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public")
    etag = first.headers["ETag"]
    assert "Set-Cookie" not in first.headers
    again = reader.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert reader.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_pdf_of_each_version(app: Flask, signon_room: SignOnRoom) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    response = reader.get(f"/statements/{slug}/v/1/statement.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    again = reader.get(
        f"/statements/{slug}/v/1/statement.pdf", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert reader.get(f"/statements/{slug}/v/9/statement.pdf").status_code == 404


# --- the log --------------------------------------------------------------------------


def _publish_several(
    app: Flask, session: Session, clock: Clock, count: int
) -> tuple[auth.Identity, list[str]]:
    config: auth.AuthConfig = app.extensions["auth"]
    staff = make_staff(app, session, "logger")
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    slugs = []
    for number in range(count):
        room_id = make_room(session, coordinator, title=f"Statement {number}")
        open_signon(session, coordinator, room_id)
        access = drafting.open_room(session, room_id, coordinator)
        publishing.publish(session, access, f"statement-{number}", "test.example/log", app_today())
        slugs.append(f"statement-{number}")
    session.commit()
    return coordinator, slugs


def test_log_proofs_check_out_against_signed_checkpoints(
    app: Flask, session: Session, clock: Clock
) -> None:
    _publish_several(app, session, clock, 5)
    reader = app.test_client()
    key = reader.get("/.well-known/statement-keys.json").get_json()["keys"][0]
    heads = {}
    for size in range(1, 6):
        body = open_note(
            reader.get(f"/log/checkpoints/{size}").get_data(as_text=True), key["note_verifier_key"]
        )
        assert body is not None
        origin, tree_size, root = parse_checkpoint(body)
        assert (origin, tree_size) == ("test.example/log", size)
        heads[size] = root
    assert reader.get("/log/checkpoint").get_data(as_text=True) == reader.get(
        "/log/checkpoints/5"
    ).get_data(as_text=True)
    for index in range(5):
        leaf = reader.get(f"/log/entries/{index}").data
        assert json.loads(leaf)["slug"] == f"statement-{index}"
        for size in range(index + 1, 6):
            proof = reader.get(f"/log/proof/inclusion?index={index}&size={size}").get_json()
            hashes = [base64.b64decode(h) for h in proof["inclusion_proof"]]
            assert verify_inclusion(leaf_hash(leaf), index, size, hashes, heads[size])
    for first in range(1, 6):
        for second in range(first, 6):
            proof = reader.get(f"/log/proof/consistency?first={first}&second={second}").get_json()
            hashes = [base64.b64decode(h) for h in proof["proof"]]
            assert verify_consistency(first, second, heads[first], heads[second], hashes)


@pytest.mark.parametrize(
    "path",
    [
        "/log/entries/5",
        "/log/checkpoints/0",
        "/log/checkpoints/6",
        "/log/proof/inclusion?index=2&size=2",
        "/log/proof/inclusion?index=0&size=6",
        "/log/proof/consistency?first=0&second=2",
        "/log/proof/consistency?first=3&second=2",
        "/log/proof/consistency?first=1&second=99999999999999999999",
    ],
)
def test_log_questions_it_cannot_answer_get_404(
    app: Flask, session: Session, clock: Clock, path: str
) -> None:
    _publish_several(app, session, clock, 5)
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert response.get_json() == {"error": "no such log position, size or range"}


@pytest.mark.parametrize(
    "path",
    [
        "/log/proof/inclusion?index=-1&size=2",
        "/log/proof/inclusion?index=a&size=2",
        "/log/proof/inclusion",
        "/log/proof/consistency?first=1",
        "/log/proof/consistency?first=%EF%BC%91&second=2",
    ],
)
def test_log_questions_that_are_not_numbers_get_400(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "must be a whole number" in response.get_json()["error"]


def test_the_api_answers_json_even_when_there_is_nothing(client: FlaskClient) -> None:
    for path in ("/api/v1/statements/none-here", "/statements/none-here/v/1/bundle.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json() == {"error": "no such statement or version"}
    assert client.get("/statements/none-here").mimetype == "text/html"


def test_an_empty_log_has_no_checkpoint(client: FlaskClient) -> None:
    assert client.get("/log/checkpoint").status_code == 404
    assert client.get("/.well-known/statement-keys.json").get_json() == {"keys": []}


def _run_verifier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crypto.verify_cli", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_verifier_follows_the_log_and_catches_a_rewrite(
    app: Flask, session: Session, clock: Clock, tmp_path: Path
) -> None:
    coordinator, slugs = _publish_several(app, session, clock, 3)
    reader = app.test_client()
    (tmp_path / "statement-keys.json").write_bytes(
        reader.get("/.well-known/statement-keys.json").data
    )
    (tmp_path / "old-checkpoint").write_bytes(reader.get("/log/checkpoints/2").data)
    (tmp_path / "bundle.json").write_bytes(
        reader.get(f"/statements/{slugs[2]}/v/1/bundle.json").data
    )
    (tmp_path / "proof.json").write_bytes(
        reader.get("/log/proof/consistency?first=2&second=3").data
    )
    grown = _run_verifier(
        "bundle.json",
        "--keys",
        "statement-keys.json",
        "--checkpoint",
        "old-checkpoint",
        "--consistency-proof",
        "proof.json",
        cwd=tmp_path,
    )
    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert "ok   log_consistency" in grown.stdout

    # A server that drops statement 1 and re-signs a log without it, then publishes a
    # new statement on top: its bundles verify alone, but not against the old checkpoint.
    leaves = [reader.get(f"/log/entries/{i}").data for i in range(3)]
    forged_leaves = [leaves[0], leaves[2]]
    from crypto.bundle import make_bundle, make_log_entry
    from crypto.merkle import consistency_proof, root_from_leaf_hashes
    from crypto.signing import checkpoint_body, sign_note

    # The forger holds the signing key: this is what the log is there to catch.
    record, key = signing_keys.unlock_signing_key(session, coordinator, "", app_today())
    hashes = [leaf_hash(leaf) for leaf in forged_leaves]
    checkpoint = sign_note(
        checkpoint_body(record.note_key_name, 2, root_from_leaf_hashes(hashes)),
        record.note_key_name,
        key.private_key,
        key.public_key,
    )
    statement = json.loads(forged_leaves[1])
    assert canonical(statement) == forged_leaves[1]
    forged = make_bundle(
        statement, key, make_log_entry(hashes, 1, record.note_key_name, checkpoint)
    )
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    alone = _run_verifier("forged.json", "--keys", "statement-keys.json", cwd=tmp_path)
    assert alone.returncode == 0  # a forged log is self-consistent...
    (tmp_path / "forged-proof.json").write_text(
        json.dumps(
            {"proof": [base64.b64encode(h).decode() for h in consistency_proof(hashes, 2, 2)]}
        )
    )
    caught = _run_verifier(
        "forged.json",
        "--keys",
        "statement-keys.json",
        "--checkpoint",
        "old-checkpoint",
        "--consistency-proof",
        "forged-proof.json",
        cwd=tmp_path,
    )
    assert caught.returncode == 1  # ...but it does not extend what readers saw before.
    assert "invalid: log_consistency" in caught.stdout


# --- /verify --------------------------------------------------------------------------


def test_verify_page_names_every_check(app: Flask, signon_room: SignOnRoom) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    valid = reader.post("/verify", data={"bundle_text": json.dumps(bundle)})
    assert valid.status_code == 200
    page = valid.get_data(as_text=True)
    assert "<strong>Valid.</strong>" in page
    for label in ("Signature", "Signing key", "Body hash", "Log inclusion", "Checkpoint signature"):
        assert f'<th scope="row">{label}</th><td>passed</td>' in page
    assert "Set-Cookie" not in valid.headers

    bundle["statement"]["signatories"][0]["name"] = "Someone Else"
    tampered = reader.post("/verify", data={"bundle_text": json.dumps(bundle)}).get_data(
        as_text=True
    )
    assert "<strong>Not valid.</strong>" in tampered
    assert "The first failing check is “Signature”" in tampered

    upload = reader.post(
        "/verify",
        data={"bundle_file": (io.BytesIO(json.dumps(bundle).encode()), "bundle.json")},
        content_type="multipart/form-data",
    )
    assert "<strong>Not valid.</strong>" in upload.get_data(as_text=True)

    for bad, message in [
        ("", "Paste a bundle"),
        ("not json", "That is not JSON"),
        ('{"format": 1}', "This is not a valid bundle"),
        ("[" * 100_000, "That is not JSON"),
    ]:
        response = reader.post("/verify", data={"bundle_text": bad})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("index", 2**63),
        ("index", 2**64 + 1),
        ("index", -1),
        ("index", 1.5),
        ("index", True),
        ("index", "0"),
        ("tree_size", 2**63),
        ("tree_size", 0),
        ("tree_size", -(2**63)),
        ("tree_size", 1e300),
        ("tree_size", False),
    ],
)
def test_verify_refuses_numbers_out_of_range(
    app: Flask, signon_room: SignOnRoom, field: str, value: object
) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    bundle["log"][field] = value
    response = reader.post("/verify", data={"bundle_text": json.dumps(bundle)})
    assert response.status_code == 400
    assert "This is not a valid bundle" in response.get_data(as_text=True)
    assert f"log.{field} is not an integer" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [2**31, 2**31 - 1, 2**53 - 1])
def test_verify_answers_numbers_past_the_log_s_columns(
    app: Flask, signon_room: SignOnRoom, value: int
) -> None:
    # Well-formed JSON numbers, yet past what the log's 32-bit columns hold: the checks
    # fail, and the site's log says it has no such entry, rather than the database erring.
    slug = _published(signon_room)
    reader = app.test_client()
    bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    bundle["log"]["index"] = value
    bundle["log"]["tree_size"] = value
    response = reader.post("/verify", data={"bundle_text": json.dumps(bundle)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>Not valid.</strong>" in page
    assert "this site&#39;s log has no such entry or tree size" in page


def test_nothing_published_yet(client: FlaskClient) -> None:
    assert "Nothing has been published yet." in client.get("/").get_data(as_text=True)
    assert client.get("/statements/none-here").status_code == 404
    assert client.get("/statements/none-here/v/1/bundle.json").status_code == 404
    assert client.get("/api/v1/statements").get_json() == {"statements": []}


def test_the_downloadable_verifier_runs_on_its_own(
    app: Flask, signon_room: SignOnRoom, tmp_path: Path
) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    response = reader.get("/statement-verify.pyz")
    assert response.status_code == 200
    assert reader.get("/statement-verify.pyz").data == response.data  # reproducible
    (tmp_path / "statement-verify.pyz").write_bytes(response.data)
    (tmp_path / "bundle.json").write_bytes(reader.get(f"/statements/{slug}/v/1/bundle.json").data)
    (tmp_path / "statement-keys.json").write_bytes(
        reader.get("/.well-known/statement-keys.json").data
    )
    names = zipfile.ZipFile(tmp_path / "statement-verify.pyz").namelist()
    assert "__main__.py" in names
    assert not [name for name in names if name.startswith("statements/")]
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "statement-verify.pyz",
            "bundle.json",
            "--keys",
            "statement-keys.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("valid")


def test_coordinators_find_what_they_can_correct(
    app: Flask, session: Session, signon_room: SignOnRoom
) -> None:
    slug = _published(signon_room)
    page = signon_room.coordinator.get("/published").get_data(as_text=True)
    assert f'href="/published/{slug}/correct"' in page
    assert 'href="/published"' in signon_room.coordinator.get("/account").get_data(as_text=True)
    assert signon_room.members[0].get("/published").status_code == 403
    other = make_staff(app, session, "other-coordinator")
    client = app.test_client()
    assert login_staff(client, app, other).status_code == 302
    assert "None yet." in client.get("/published").get_data(as_text=True)


def test_the_verify_page_also_asks_this_sites_log(
    app: Flask, session: Session, signon_room: SignOnRoom
) -> None:
    slug = _published(signon_room)
    reader = app.test_client()
    genuine = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
    page = reader.post("/verify", data={"bundle_text": json.dumps(genuine)})
    assert '<th scope="row">In this site\'s log</th><td>passed</td>' in page.get_data(as_text=True)
    # A statement signed with the real key (copied, say) but never published: every
    # offline check passes on its own log of one, and this site's log says no.
    coordinator = auth.Identity(
        *auth.login_staff(
            session,
            app.extensions["auth"],
            signon_room.staff.username,
            signon_room.staff.passphrase,
            signon_room.staff.code(app.extensions["clock"]()),
            app.extensions["clock"](),
        ),
        b"",
        b"",
    )
    record, key = signing_keys.unlock_signing_key(session, coordinator, "", app_today())
    session.rollback()
    statement = dict(genuine["statement"], body_markdown="Never published.")
    statement["body_sha256"] = body_sha256("Never published.")
    hashes = [leaf_hash(canonical(statement))]
    from crypto.bundle import make_bundle, make_log_entry
    from crypto.merkle import root_from_leaf_hashes
    from crypto.signing import checkpoint_body, sign_note

    checkpoint = sign_note(
        checkpoint_body(record.note_key_name, 1, root_from_leaf_hashes(hashes)),
        record.note_key_name,
        key.private_key,
        key.public_key,
    )
    forged = make_bundle(
        statement, key, make_log_entry(hashes, 0, record.note_key_name, checkpoint)
    )
    verdict = reader.post("/verify", data={"bundle_text": json.dumps(forged)}).get_data(
        as_text=True
    )
    assert "<strong>Not valid.</strong>" in verdict
    assert "The first failing check is “In this site's log”" in verdict


def test_public_pages_ignore_the_login(
    app: Flask, session: Session, signon_room: SignOnRoom
) -> None:
    slug = _published(signon_room)
    member = signon_room.members[0]
    session.execute(delete(LoginSession))
    session.commit()
    # An ended session's cookie is neither read nor cleared by a public page.
    page = member.get(f"/statements/{slug}")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"].startswith("public")
    older = member.get(f"/statements/{slug}/v/1")
    assert "immutable" not in older.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/log/entries/99999999999999999999999",
        "/log/checkpoints/9223372036854775808",
        "/statements/right-to-work/v/99999999999/bundle.json",
        "/statements/right-to-work/v/2147483648/statement.pdf",
    ],
)
def test_huge_numbers_in_addresses_are_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_bundle_with_an_enormous_number_is_not_json(client: FlaskClient) -> None:
    response = client.post("/verify", data={"bundle_text": '{"n": ' + "9" * 5000 + "}"})
    assert response.status_code == 400
    assert "That is not JSON" in response.get_data(as_text=True)


def test_a_translation_links_to_its_original(
    app: Flask, session: Session, signon_room: SignOnRoom
) -> None:
    slug = _published(signon_room)
    coordinator = signon_room.coordinator
    # A second room, in Farsi, published as a translation through the form.
    form = coordinator.get("/rooms/new")
    assert form.status_code == 200
    created = _post(
        coordinator,
        "/rooms/new",
        {
            "title": "حق کار",
            "language": "fa",
            "summary": "",
            "markdown": "# حق کار\n\nپناهندگان حق کار دارند.",
            "contribution_deadline": app_today().isoformat(),
            "signon_deadline": app_today().isoformat(),
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    room_id = created.headers["Location"].rsplit("/", 1)[-1]
    for target in ("consolidating", "sign-on"):
        assert _post(coordinator, f"/rooms/{room_id}/state", {"target": target}).status_code == 302
    page = coordinator.get(f"/rooms/{room_id}/publish").get_data(as_text=True)
    assert f'<option value="{slug}">Right to work (English)</option>' in page
    published = _post(
        coordinator,
        f"/rooms/{room_id}/publish",
        {"slug": "haq-e-kar", "translation_of": slug, "confirm": "y"},
    )
    assert published.status_code == 302, published.get_data(as_text=True)
    reader = app.test_client()
    original = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert 'href="/statements/haq-e-kar" hreflang="fa" lang="fa"' in original
    translation = reader.get("/statements/haq-e-kar").get_data(as_text=True)
    assert f'href="/statements/{slug}" hreflang="en" lang="en"' in translation
    assert '<article class="statement" lang="fa" dir="rtl">' in translation
    api = reader.get("/api/v1/statements/haq-e-kar").get_json()
    assert api["translations"] == [
        {"slug": slug, "language": "en", "url": f"http://localhost/statements/{slug}"}
    ]
