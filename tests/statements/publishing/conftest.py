"""Fixtures shared by the publishing service's tests."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth import service as auth
from tests.support import join_room, make_room, member_identity, open_signon, staff_identity


@pytest.fixture
def signon_room(app: Flask, session: Session) -> tuple[auth.Identity, str, list[auth.Identity]]:
    """A room in sign-on with a coordinator and three members."""
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    members = [member_identity(app, session) for _ in range(3)]
    for member in members:
        join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    return coordinator, room_id, members
