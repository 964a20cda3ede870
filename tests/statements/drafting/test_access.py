"""Only coordinators change a room's stage or remove members: the page refuses a member
before the service is reached, and the service refuses on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.drafting import rooms
from statements.drafting import service as drafting
from statements.drafting.errors import NotCoordinator
from statements.models import Room, RoomKey, RoomMember
from tests.support import app_today, make_room, post_signed_in, signed_in_member, signed_in_staff

REFUSED = "Only the room&#39;s coordinators can do that."


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[Any, ...]]:
    """Record every call of a room service function; the real function still runs."""
    calls: list[tuple[Any, ...]] = []
    real: Callable[..., Any] = getattr(rooms, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(rooms, name, spy)
    return calls


def _members(session: Session, room_id: str) -> int:
    session.expire_all()
    return int(
        session.scalar(
            select(func.count()).select_from(RoomMember).where(RoomMember.room_id == room_id)
        )
        or 0
    )


def test_a_member_cannot_change_the_rooms_stage_through_the_page(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    _member, member_client = signed_in_member(app, session, coordinator, room_id)
    calls = _spy(monkeypatch, "change_state")

    refused = post_signed_in(member_client, f"/rooms/{room_id}/state", {"target": "consolidating"})
    assert refused.status_code == 403
    assert REFUSED in refused.get_data(as_text=True)
    # Stopped by the page itself: the service was never asked, and nothing changed.
    assert calls == []
    session.expire_all()
    room = session.get(Room, room_id)
    assert room is not None
    assert room.state == "drafting"

    # The same request from a coordinator goes through to the service.
    done = post_signed_in(
        coordinator_client, f"/rooms/{room_id}/state", {"target": "consolidating"}
    )
    assert done.status_code == 302
    assert len(calls) == 1
    session.expire_all()
    assert session.get(Room, room_id).state == "consolidating"  # type: ignore[union-attr]


def test_a_member_cannot_remove_a_member_through_the_page(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    _first, first_client = signed_in_member(app, session, coordinator, room_id)
    second, _second_client = signed_in_member(app, session, coordinator, room_id)
    number = drafting.member_number(room_id, second.account.id)
    key_version = session.get(Room, room_id).key_version  # type: ignore[union-attr]
    calls = _spy(monkeypatch, "remove_member")

    for target in (number, drafting.member_number(room_id, coordinator.account.id)):
        refused = post_signed_in(first_client, f"/rooms/{room_id}/members/{target}/remove")
        assert refused.status_code == 403
        assert REFUSED in refused.get_data(as_text=True)
    assert calls == []
    assert _members(session, room_id) == 3
    assert session.get(Room, room_id).key_version == key_version  # type: ignore[union-attr]

    done = post_signed_in(coordinator_client, f"/rooms/{room_id}/members/{number}/remove")
    assert done.status_code == 302
    assert len(calls) == 1
    assert _members(session, room_id) == 2


def test_the_service_refuses_a_member_on_its_own(app: Flask, session: Session) -> None:
    coordinator, _client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    member, _member_client = signed_in_member(app, session, coordinator, room_id)
    other, _other_client = signed_in_member(app, session, coordinator, room_id)
    access = drafting.open_room(session, room_id, member)

    with pytest.raises(NotCoordinator):
        drafting.change_state(session, access, "consolidating", app_today())
    with pytest.raises(NotCoordinator):
        drafting.remove_member(
            session, access, drafting.member_number(room_id, other.account.id), app_today()
        )
    session.flush()
    session.expire_all()
    room = session.get(Room, room_id)
    assert room is not None
    assert room.state == "drafting"
    assert room.key_version == 1
    assert _members(session, room_id) == 3
    # The other member still holds the room key: nothing was rotated away from them.
    assert session.get(RoomKey, (room_id, 1, other.account.id)) is not None
