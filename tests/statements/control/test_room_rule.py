"""A room raises the two-person rule the deployment leaves off; nothing lowers it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.models import Room
from statements.settings import Settings, SettingsError
from tests.support import make_room, open_signon, post_signed_in, signed_in_member, signed_in_staff


def test_a_room_raises_the_rule_and_members_cannot(app: Flask, session: Session) -> None:
    assert not app.extensions["settings"].two_person_rule
    coordinator, client = signed_in_staff(app, session, "raising-coord")
    room_id = make_room(session, coordinator)
    _member, member = signed_in_member(app, session, coordinator, room_id)
    open_signon(session, coordinator, room_id)
    other_room = make_room(session, coordinator, title="Other room")
    open_signon(session, coordinator, other_room)
    session.commit()

    assert post_signed_in(member, f"/rooms/{room_id}/two-person").status_code in (302, 403)
    session.expire_all()
    assert not session.get(Room, room_id).two_person
    assert client.post(f"/rooms/{room_id}/two-person").status_code == 400

    page = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Turn on the two-person rule for this room" in page
    assert post_signed_in(client, f"/rooms/{room_id}/two-person").status_code == 302
    page = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Turn on the two-person rule for this room" not in page
    assert "turned on the two-person rule" in page

    # This room's publication is now a proposal; the other room publishes at once.
    raised = post_signed_in(
        client, f"/rooms/{room_id}/publish", {"slug": "raised-room", "confirm": "y"}
    )
    assert raised.headers["Location"].startswith("/proposals/")
    assert client.get("/statements/raised-room").status_code == 404
    page = client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "proposed by raising-coord" in page
    plain = post_signed_in(
        client, f"/rooms/{other_room}/publish", {"slug": "plain-room", "confirm": "y"}
    )
    assert plain.headers["Location"] == "/statements/plain-room"


def test_the_deployment_setting_is_read_and_checked(tmp_path: Path) -> None:
    base = {"APP_ENV": "development"}
    assert not Settings.from_env(base, tmp_path).two_person_rule
    on = Settings.from_env({**base, "TWO_PERSON_RULE": " ON ", "PROPOSAL_HOURS": "24"}, tmp_path)
    assert on.two_person_rule
    assert on.proposal_hours == 24
    for name, value in (("TWO_PERSON_RULE", "yes"), ("PROPOSAL_HOURS", "0")):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({**base, name: value}, tmp_path)
        assert raised.value.name == name
