"""Fixtures of the drafting service tests: a coordinator, their room, and a member of it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from tests.support import join_room, make_room, member_identity, staff_identity


@pytest.fixture
def coordinator(app: Flask, session: Session) -> Identity:
    return staff_identity(app, session)


@pytest.fixture
def room_id(session: Session, coordinator: Identity) -> str:
    return make_room(session, coordinator)


@pytest.fixture
def member(app: Flask, session: Session, coordinator: Identity, room_id: str) -> Identity:
    identity = member_identity(app, session)
    join_room(session, coordinator, room_id, identity)
    return identity
