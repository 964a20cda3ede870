"""Embargoes through the services: the log places they are signed for, when the log moves
before their time (a key rotation, a cancellation), and what the release needs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle import parse_keys, verify_bundle
from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.models import Embargo, LogEntry
from statements.publishing import embargo, log
from statements.publishing import service as publishing
from statements.publishing.errors import InvalidInput
from statements.publishing.public import key_records
from tests.support import (
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    staff_identity,
)

ORIGIN = "test.example/log"
TODAY = date.today()


def _scheduled(app: Flask, session: Session, coordinator: Identity, slug: str, at: datetime) -> str:
    room_id = make_room(session, coordinator, title=slug)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "anonymous")
    access = drafting.open_room(session, room_id, coordinator)
    embargo.schedule(session, access, slug, ORIGIN, at, "UTC", TODAY)
    session.flush()
    return room_id


def _valid(session: Session, slug: str) -> bool:
    keys = parse_keys(key_records(publishing.all_keys(session)))
    return verify_bundle(publishing.latest(session, slug).bundle, keys).valid


def test_release_times_are_checked_in_their_zone() -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    at, zone = embargo.release_time(datetime(2027, 3, 2, 9, 0), "Asia/Kabul", now)
    assert zone == "Asia/Kabul"
    assert at == datetime(2027, 3, 2, 4, 30, tzinfo=UTC)  # Kabul is UTC+4:30
    for local, zone_name, field, reason in (
        (datetime(2027, 3, 2, 9, 0), "Asia/Nowhere", "zone", "unknown"),
        (datetime(2027, 3, 2, 9, 0), "", "zone", "unknown"),
        (datetime(2027, 3, 2, 9, 0), "/etc/passwd", "zone", "unknown"),
        (datetime(2027, 3, 1, 8, 0), "UTC", "release_at", "past"),
        (datetime(2027, 3, 28, 2, 30), "Europe/Berlin", "release_at", "skipped"),
        (datetime(2028, 6, 1, 9, 0), "UTC", "release_at", "far"),
    ):
        with pytest.raises(InvalidInput) as refused:
            embargo.release_time(local, zone_name, now)
        assert (refused.value.field, refused.value.reason) == (field, reason)


def test_a_key_rotation_before_the_release_signs_it_again_with_the_new_key(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "rotating")
    now = datetime.now(UTC)
    _scheduled(app, session, coordinator, "after-rotation", now + timedelta(hours=1))
    before = json.loads(session.scalars(select(Embargo)).one().bundle or b"{}")
    new_record = publishing.rotate_signing_key(session, coordinator, TODAY, approved=True)
    row = session.scalars(select(Embargo)).one()
    after = json.loads(row.bundle or b"{}")
    assert row.position == 1  # after the rotation's own entry
    assert after["signature"]["key_id"] == new_record.key_id != before["signature"]["key_id"]
    assert embargo.release_due(session, now + timedelta(hours=2)).released == ["after-rotation"]
    assert _valid(session, "after-rotation")
    assert log.size(session) == 2


def test_an_embargo_whose_place_moved_without_the_key_waits_until_signed_again(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "two-embargoes")
    now = datetime.now(UTC)
    first = _scheduled(app, session, coordinator, "first-embargo", now + timedelta(hours=1))
    _scheduled(app, session, coordinator, "second-embargo", now + timedelta(hours=2))
    positions = {row.slug: row.position for row in session.scalars(select(Embargo))}
    assert positions == {"first-embargo": 0, "second-embargo": 1}
    # Cancelled by someone who could not sign the second again (as without the key).
    session.delete(embargo.of_room(session, first))
    session.flush()
    later = now + timedelta(hours=3)
    assert embargo.release_due(session, later) == embargo.Released([], ["second-embargo"])
    assert session.scalars(select(LogEntry)).all() == []
    # A coordinator holding the key sets its time again: it takes the free place.
    room_id = session.scalars(select(Embargo)).one().room_id
    access = drafting.open_room(session, room_id, coordinator)
    embargo.change(session, access, now + timedelta(hours=2, minutes=30), "UTC", TODAY)
    assert embargo.release_due(session, later).released == ["second-embargo"]
    assert _valid(session, "second-embargo")
