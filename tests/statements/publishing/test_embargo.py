"""Release on a date (an embargo), through HTTP: hidden everywhere until its time, read
through press links before, then published by itself, with its log entry."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from crypto.bundle_checks import verify_bundle
from crypto.bundle_reading import parse_keys
from statements.auth import service as auth
from statements.logs import redact
from statements.models import Embargo, LogEntry, PressLink, PublishedVersion, Role, Room
from statements.publishing.export import export_site
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    Staff,
    csrf_token,
    join_room,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
    open_signon,
)

SLUG = "right-to-work"
ZONE = "Asia/Kabul"


class Room_:
    """A room in sign-on, its coordinator's and a member's browsers."""

    def __init__(
        self, room_id: str, coordinator: FlaskClient, member: FlaskClient, staff: Staff
    ) -> None:
        self.staff = staff
        self.id = room_id
        self.coordinator = coordinator
        self.member = member


def _post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def _room(app: Flask, session: Session, clock: Clock, *, username: str = "") -> Room_:
    config: auth.AuthConfig = app.extensions["auth"]
    staff = make_staff(app, session, username) if username else make_staff(app, session)
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    room_id = make_room(session, coordinator)
    _account, codename = make_member(app, session)
    member_account, member_keys = auth.login_member(session, config, codename)
    join_room(session, coordinator, room_id, auth.Identity(member_account, member_keys, b"", b""))
    session.commit()
    member = app.test_client()
    assert login_member(member, codename).status_code == 302
    open_signon(session, coordinator, room_id)
    session.commit()
    staff_client = app.test_client()
    assert login_staff(staff_client, app, staff).status_code == 302
    assert _post(member, f"/rooms/{room_id}/sign-on", {"kind": "anonymous"}).status_code == 302
    return Room_(room_id, staff_client, member, staff)


@pytest.fixture
def room(app: Flask, session: Session, clock: Clock) -> Room_:
    return _room(app, session, clock)


def _local(clock: Clock, zone: str = ZONE, **ahead: float) -> str:
    return (clock() + timedelta(**ahead)).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _schedule(room: Room_, release_at: str, zone: str = ZONE, slug: str = SLUG) -> TestResponse:
    return _post(
        room.coordinator,
        f"/rooms/{room.id}/publish",
        {"slug": slug, "confirm": "y", "release_at": release_at, "zone": zone},
    )


def _press_link(room: Room_, label: str = "wire services") -> str:
    page = _post(room.coordinator, f"/rooms/{room.id}/embargo/press-links", {"label": label})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    found = re.search(r'id="press-link">http://localhost(/press/[A-Za-z0-9_-]+)<', page.text)
    assert found, page.text
    return found.group(1)


def _public_surfaces(app: Flask, reader: FlaskClient, tmp_path: Path) -> dict[str, bool]:
    """Where the statement shows: site, API, feed, log, mirror."""
    log_size = (
        int(reader.get("/log/checkpoint").text.split("\n")[1])
        if (reader.get("/log/checkpoint").status_code == 200)
        else 0
    )
    # Each entry, and the bundle a log monitor opens a commitment with.
    entries = [
        reader.get(f"/log/entries/{n}").get_data()
        + reader.get(f"/log/entries/{n}/bundle.json").get_data()
        for n in range(log_size)
    ]
    out = tmp_path / f"mirror-{len(list(tmp_path.iterdir()))}"
    export_site(app, out, "https://mirror.example")
    return {
        "index": SLUG in reader.get("/").text,
        "page": reader.get(f"/statements/{SLUG}").status_code == 200,
        "bundle": reader.get(f"/statements/{SLUG}/v/1/bundle.json").status_code == 200,
        "api": SLUG in reader.get("/api/v1/statements").text,
        "api_one": reader.get(f"/api/v1/statements/{SLUG}").status_code == 200,
        "feed": SLUG in reader.get("/feed.atom").text,
        "log": any(SLUG.encode() in entry for entry in entries),
        "mirror": (out / "statements" / SLUG).exists(),
    }


def test_an_embargoed_statement_is_nowhere_until_its_time_then_everywhere(
    app: Flask, session: Session, clock: Clock, room: Room_, tmp_path: Path
) -> None:
    reader = app.test_client()
    before = reader.get("/")
    response = _schedule(room, _local(clock, days=2))
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"/rooms/{room.id}/embargo"
    page = room.coordinator.get(f"/rooms/{room.id}/embargo").text
    assert "Signed and ready" in page
    assert f"({ZONE})" in page
    # The room is held: nothing about the sign-on moves, and it cannot be published twice.
    assert (
        _post(room.member, f"/rooms/{room.id}/sign-on", {"kind": "public", "name": "X"}).status_code
        == 409
    )
    assert (
        room.coordinator.get(f"/rooms/{room.id}/publish")
        .headers["Location"]
        .endswith(f"/rooms/{room.id}/embargo")
    )

    assert not any(_public_surfaces(app, reader, tmp_path).values())
    # The log gained one entry, a commitment that names nothing (the surfaces above looked
    # for the address in every entry); so the pages' tag moved, and their text did not.
    assert [entry.kind for entry in session.scalars(select(LogEntry))] == ["commitment"]
    assert reader.get("/").text == before.text

    link = _press_link(room)
    preview = reader.get(link)
    assert preview.status_code == 200
    assert "Embargoed until" in preview.text
    assert f"({ZONE})" in preview.text
    assert '<meta name="robots" content="noindex' in preview.text
    assert preview.headers["Cache-Control"] == "no-store"
    assert preview.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in preview.headers["X-Robots-Tag"]
    document = reader.get(f"{link}/statement.md")
    assert document.status_code == 200
    assert document.headers["Cache-Control"] == "no-store"
    assert document.text.startswith("> Embargoed until ")
    assert "noindex" in document.headers["X-Robots-Tag"]
    # In the reader's language, with the zone.
    persian = reader.get(link, headers={"Accept-Language": "fa"})
    assert "Embargoed until" not in persian.text
    assert f"({ZONE})" in persian.text

    clock.advance(days=2, minutes=1)
    # The first public request after the time publishes it: the tag it answers with moves.
    after = reader.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert SLUG in after.text
    assert all(_public_surfaces(app, reader, tmp_path).values())
    session.expire_all()
    assert session.scalars(select(Embargo)).all() == []
    assert session.get(Room, room.id).state == "published"  # type: ignore[union-attr]
    # Who read it early is not kept: the link's label goes at release.
    assert [link.label for link in session.scalars(select(PressLink))] == [""]
    bundle = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    assert verify_bundle(bundle, keys).valid
    # The member's anonymous endorsement is signed as a commitment, as at once would be.
    assert bundle["statement"]["anonymous_signatories"] == 1
    assert len(bundle["statement"]["anonymous_commitments"]) == 1
    size = bundle["log"]["tree_size"]
    assert reader.get(f"/log/checkpoints/{size}").text == bundle["log"]["checkpoint"]
    assert bundle["statement"]["published_on"] == clock().date().isoformat()
    # The press link now leads to the public page.
    moved = reader.get(link)
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(f"/statements/{SLUG}")


def test_bad_release_times_are_refused_and_nothing_is_signed(
    session: Session, clock: Clock, room: Room_
) -> None:
    cases = {
        "Mars/Olympus": ("zone", "There is no time zone of that name"),
        "../../etc/passwd": ("zone", "There is no time zone of that name"),
    }
    for zone, (_field, words) in cases.items():
        response = _schedule(room, _local(clock, days=1), zone=zone)
        assert response.status_code == 400
        assert words in response.text
    past = _schedule(room, _local(clock, hours=-1))
    assert past.status_code == 400
    assert "That time has passed" in past.text
    assert _schedule(room, "next tuesday").status_code == 400
    assert "Give the date and the time" in _schedule(room, "2027-13-45T99:00").text
    assert "within a year" in _schedule(room, _local(clock, days=400)).text
    # The ends of the calendar, pushed out of range by the zone: a message, not a 500.
    far = _schedule(room, "9999-12-31T23:59", zone="America/New_York")
    assert far.status_code == 400
    assert "within a year" in far.text
    first = _schedule(room, "0001-01-01T00:00", zone="Asia/Tokyo")
    assert first.status_code == 400
    assert "That time has passed" in first.text
    # 02:30 on the night Berlin's clocks go forward does not exist.
    year = clock().year + (1 if clock().month >= 3 else 0)
    march_end = datetime(year, 3, 31)
    sunday = march_end - timedelta(days=(march_end.weekday() + 1) % 7)
    skipped = _schedule(room, f"{sunday:%Y-%m-%d}T02:30", zone="Europe/Berlin")
    if sunday.replace(tzinfo=UTC) > clock():
        assert skipped.status_code == 400
        assert "the clocks skip it" in skipped.text
    session.expire_all()
    assert session.scalars(select(Embargo)).all() == []
    assert session.get(Room, room.id).state == "sign-on"  # type: ignore[union-attr]


def test_press_links_open_nothing_when_wrong_or_revoked(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    assert _schedule(room, _local(clock, days=1)).status_code == 302
    link = _press_link(room, "one journalist")
    reader = app.test_client()
    assert reader.get(link).status_code == 200
    wrong = reader.get(link[:-4] + "AAAA")
    short = reader.get("/press/x")
    assert wrong.status_code == short.status_code == 404
    # Only the hash is kept.
    token = link.rsplit("/", 1)[1]
    stored = session.scalars(select(PressLink)).one()
    assert token.encode() not in stored.token_hash
    # A member cannot make or revoke one.
    assert _post(room.member, f"/rooms/{room.id}/embargo/press-links").status_code == 403
    assert (
        _post(room.member, f"/rooms/{room.id}/embargo/press-links/{stored.id}/revoke").status_code
        == 403
    )
    assert reader.get(link).status_code == 200
    assert (
        _post(
            room.coordinator, f"/rooms/{room.id}/embargo/press-links/{stored.id}/revoke"
        ).status_code
        == 302
    )
    revoked = reader.get(link)
    assert revoked.status_code == 404
    # The same answer as for a link that never existed: nothing tells them apart.
    assert revoked.text.replace(link, "") == wrong.text.replace(link[:-4] + "AAAA", "")
    assert "one journalist" not in revoked.text
    # A request line naming the link is never logged with its secret.
    assert token not in redact(f'127.0.0.1 - - "GET {link} HTTP/1.1" 200 -')
    assert token not in redact(f"GET {link}/statement.md")


def test_change_and_cancel_are_in_the_room_log(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    assert _schedule(room, _local(clock, days=1)).status_code == 302
    link = _press_link(room)
    bad = _post(
        room.coordinator, f"/rooms/{room.id}/embargo/change", {"release_at": "", "zone": ZONE}
    )
    assert bad.status_code == 400
    new_time = _local(clock, "Europe/Berlin", days=5)
    changed = _post(
        room.coordinator,
        f"/rooms/{room.id}/embargo/change",
        {"release_at": new_time, "zone": "Europe/Berlin"},
    )
    assert changed.status_code == 302
    session.expire_all()
    row = session.scalars(select(Embargo)).one()
    assert row.zone == "Europe/Berlin"
    assert json.loads(row.statement)["published_on"] == row.release_at.date().isoformat()
    assert (
        json.loads(row.bundle or b"{}")["statement"]["published_on"]
        == row.release_at.date().isoformat()
    )
    assert app.test_client().get(f"/statements/{SLUG}").status_code == 404
    cancelled = _post(room.coordinator, f"/rooms/{room.id}/embargo/cancel")
    assert cancelled.status_code == 302
    assert app.test_client().get(link).status_code == 404
    log = room.coordinator.get(f"/rooms/{room.id}/moderation").text
    assert "to be published on" in log
    assert "moved the release" in log
    assert "cancelled the release" in log
    assert "made a press preview link" in log
    # Back in sign-on: it can be published again, and its address is free.
    again = _post(room.coordinator, f"/rooms/{room.id}/publish", {"slug": SLUG, "confirm": "y"})
    assert again.status_code == 302
    clock.advance(days=10)
    assert app.test_client().get(f"/statements/{SLUG}").status_code == 200


def test_release_by_the_command_is_idempotent(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    assert _schedule(room, _local(clock, hours=3)).status_code == 302
    runner = app.test_cli_runner()
    first = runner.invoke(args=["release-embargoed"])
    assert first.exit_code == 0
    assert "0 embargoed statements released" in first.output
    clock.advance(hours=3, minutes=1)
    second = runner.invoke(args=["release-embargoed"])
    assert "1 embargoed statements released" in second.output
    third = runner.invoke(args=["release-embargoed"])
    assert "0 embargoed statements released" in third.output
    session.expire_all()
    assert len(session.scalars(select(PublishedVersion)).all()) == 1
    assert len(session.scalars(select(LogEntry)).all()) == 1


def test_a_slug_held_by_an_embargo_is_taken(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    assert _schedule(room, _local(clock, days=1)).status_code == 302
    other = _room(app, session, clock, username="second-coord")
    response = _post(
        other.coordinator, f"/rooms/{other.id}/publish", {"slug": SLUG, "confirm": "y"}
    )
    assert response.status_code == 400
    assert "Another statement already uses that web address." in response.text


def test_publications_in_between_keep_the_embargo_releasable(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    """Another statement published (with the key) before the release comes after the
    embargo's commitment in the log: both verify, each against its own checkpoint."""
    assert _schedule(room, _local(clock, days=1)).status_code == 302
    other = _room(app, session, clock, username="second-coord")
    # The first coordinator shares the signing key with the second, as its page offers.
    assert _post(room.coordinator, "/signing-key", {"action": "share"}).status_code == 302
    first = _post(
        other.coordinator, f"/rooms/{other.id}/publish", {"slug": "first-one", "confirm": "y"}
    )
    assert first.status_code == 302, first.text
    clock.advance(days=1, minutes=1)
    reader = app.test_client()
    assert reader.get(f"/statements/{SLUG}").status_code == 200
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    for slug in ("first-one", SLUG):
        bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").get_json()
        assert verify_bundle(bundle, keys).valid
        # The checkpoint it carries is the log's own at that size.
        size = bundle["log"]["tree_size"]
        assert reader.get(f"/log/checkpoints/{size}").text == bundle["log"]["checkpoint"]
    # The commitment came first; the site lists the later release (the render cache saw it).
    assert reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_json()["log"]["index"] == 0
    assert f"/statements/{SLUG}" in reader.get("/").text


def test_the_bundle_of_a_cancelled_embargo_is_refused_by_the_site(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    """A copy of the server taken before the release holds a signed bundle: the site's
    own check says it is not published, and once cancelled, that it was withdrawn."""
    assert _schedule(room, _local(clock, days=1)).status_code == 302
    session.expire_all()
    bundle = (session.scalars(select(Embargo)).one().bundle or b"").decode()
    reader = app.test_client()

    def verdict() -> str:
        page = reader.post("/verify", data={"bundle_text": bundle})
        assert page.status_code == 200
        return page.text

    waiting = verdict()
    assert "has not published it" in waiting
    assert "withdrew that commitment" not in waiting
    assert _post(room.coordinator, f"/rooms/{room.id}/embargo/cancel").status_code == 302
    session.expire_all()
    assert [entry.kind for entry in session.scalars(select(LogEntry))] == [
        "commitment",
        "withdrawal",
    ]
    called_off = verdict()
    assert "withdrew that commitment" in called_off
    assert "has not published it" not in called_off


def test_the_site_vouches_for_a_released_bundle_only(
    app: Flask, session: Session, clock: Clock, room: Room_
) -> None:
    assert _schedule(room, _local(clock, hours=2)).status_code == 302
    clock.advance(hours=2, minutes=1)
    reader = app.test_client()
    assert reader.get(f"/statements/{SLUG}").status_code == 200
    bundle = reader.get(f"/statements/{SLUG}/v/1/bundle.json").get_data(as_text=True)
    page = reader.post("/verify", data={"bundle_text": bundle})
    assert page.status_code == 200
    assert "entry 0 of this site" in page.text
    assert "has not published it" not in page.text
    assert "withdrew that commitment" not in page.text


def test_two_person_rule_approves_publish_at_a_time(
    app_with: object, settings: Settings, session: Session, clock: Clock
) -> None:
    ruled = app_with(two_person_rule=True)  # type: ignore[operator]
    room = _room(ruled, session, clock)
    # An admin who may approve (no key exists yet: approving makes it).
    second = make_staff(ruled, session, "approver", Role.ADMIN)
    session.commit()
    response = _schedule(room, _local(clock, days=1))
    assert response.status_code == 302
    assert "/proposals/" in response.headers["Location"]
    proposal = room.coordinator.get(response.headers["Location"]).text
    assert "Published at" in proposal
    assert f"({ZONE})" in proposal
    session.expire_all()
    assert session.scalars(select(Embargo)).all() == []
    # An admin approves "publish at that time", after the key is shared with them.
    approver = ruled.test_client()
    assert login_staff(approver, ruled, second).status_code == 302
    proposal_id = response.headers["Location"].rsplit("/", 1)[1]
    page = approver.get(f"/proposals/{proposal_id}").text
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', page)
    assert digest, page
    approved = _post(approver, f"/proposals/{proposal_id}/approve", {"digest": digest.group(1)})
    assert approved.status_code == 302, approved.text
    assert approved.headers["Location"].endswith(f"/rooms/{room.id}/embargo")
    assert ruled.test_client().get(f"/statements/{SLUG}").status_code == 404
    clock.advance(days=1, minutes=1)
    # No second approval at release.
    assert ruled.test_client().get(f"/statements/{SLUG}").status_code == 200
