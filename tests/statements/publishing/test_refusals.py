"""Publishing happens only in sign-on, and only once per room."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.models import PublishedStatement, Room
from statements.publishing import service as publishing
from statements.publishing.errors import SignOnClosed
from tests.support import (
    app_today,
    make_room,
    open_signon,
    post_signed_in,
    publish_room,
    signed_in_staff,
    staff_identity,
)

CLOSED = "Sign-on is not open in this room. Nothing was changed."


def _published(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(PublishedStatement.slug)))


def test_the_page_refuses_to_publish_outside_sign_on_and_twice(
    app: Flask, session: Session
) -> None:
    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    path = f"/rooms/{room_id}/publish"

    for stage in ("drafting", "consolidating"):
        if stage == "consolidating":
            access = drafting.open_room(session, room_id, coordinator)
            drafting.change_state(session, access, "consolidating", app_today())
            session.commit()
        assert client.get(path).status_code == 409
        refused = post_signed_in(client, path, {"slug": f"early-{stage}", "confirm": "y"})
        assert refused.status_code == 409
        assert CLOSED in refused.get_data(as_text=True)
        assert _published(session) == []

    access = drafting.open_room(session, room_id, coordinator)
    drafting.change_state(session, access, "sign-on", app_today())
    session.commit()
    done = post_signed_in(client, path, {"slug": "right-to-work", "confirm": "y"})
    assert done.status_code == 302
    again = post_signed_in(client, path, {"slug": "right-to-work-again", "confirm": "y"})
    assert again.status_code == 409
    assert _published(session) == ["right-to-work"]
    assert client.get("/statements/right-to-work-again").status_code == 404


def test_the_service_refuses_to_publish_outside_sign_on_and_twice(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(SignOnClosed):
        publishing.publish(session, access, "too-early", "test.example/log", app_today())
    session.flush()
    assert _published(session) == []

    open_signon(session, coordinator, room_id)
    publish_room(session, coordinator, room_id, "right-to-work")
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(SignOnClosed):
        publishing.publish(session, access, "twice", "test.example/log", app_today())
    session.flush()
    assert _published(session) == ["right-to-work"]
    count = session.scalar(select(func.count()).select_from(PublishedStatement))
    assert count == 1
    assert session.get(Room, room_id).state == "published"  # type: ignore[union-attr]
