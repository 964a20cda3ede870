"""Rooms: opening one, who may, who may enter, members leaving or removed (the key
rotates), the last coordinator, sealing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.errors import (
    InvalidInput,
    LastCoordinator,
    NotEligible,
    RoomNotFound,
    RoomSealed,
    TitleMismatch,
)
from statements.models import Contribution, Invitation, RoomKey
from tests.support import app_today, join_room, make_room, member_identity


def test_a_room_opens_with_its_first_version(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    assert access.is_coordinator
    assert access.details() == {"title": "Right to work", "summary": "What we ask of governments."}
    current = drafting.version(session, access)
    assert current.number == 1
    assert [s.markdown for s in current.sections][:2] == [
        "# Joint statement on the right to work",
        "Refugees in the region are denied the right to work.",
    ]
    assert len({s.anchor for s in current.sections}) == len(current.sections)


def test_members_cannot_open_rooms(app: Flask, session: Session) -> None:
    with pytest.raises(NotEligible):
        make_room(session, member_identity(app, session))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"markdown": "   "}, "markdown"),
        ({"language": "xx"}, "language"),
        ({"contribution_deadline": app_today() - timedelta(days=1)}, "contribution_deadline"),
        ({"signon_deadline": app_today()}, "signon_deadline"),
    ],
)
def test_room_input_is_validated(
    session: Session, coordinator: Identity, changes: dict[str, object], field: str
) -> None:
    data = {
        "title": "T",
        "language": "en",
        "summary": "",
        "markdown": "Text.",
        "contribution_deadline": app_today() + timedelta(days=3),
        "signon_deadline": app_today() + timedelta(days=5),
        **changes,
    }
    with pytest.raises(InvalidInput) as caught:
        drafting.create_room(session, coordinator, drafting.RoomInput(**data), app_today())  # type: ignore[arg-type]
    assert caught.value.field == field


def test_outsiders_get_the_same_answer_as_for_no_room(
    app: Flask, session: Session, room_id: str
) -> None:
    outsider = member_identity(app, session)
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, outsider)
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, "0" * 32, outsider)


def test_removing_a_member_rotates_the_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    invitation, _token = drafting.create_invitation(session, access, 3, app_today(), app_today())
    number = drafting.member_number(room_id, member.account.id)
    drafting.remove_member(session, access, number, app_today())
    assert access.room.key_version == 2
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, member)
    assert not session.scalars(select(RoomKey).where(RoomKey.account_id == member.account.id)).all()
    # Open invitations receive the new key (tests/statements/drafting/test_running_room.py).
    assert session.get(Invitation, invitation.id).wrapped_keys is not None  # type: ignore[union-attr]
    # New records use the new version; old ones stay readable through theirs.
    reopened = drafting.open_room(session, room_id, coordinator)
    drafting.edit_draft(session, reopened, "New text.\n", "After removal", 1, app_today())
    assert drafting.version(session, reopened, 1).number == 1
    assert drafting.version(session, reopened).markdown == "New text.\n"


def test_leaving_rotates_at_the_next_coordinator_visit(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    drafting.leave_room(session, drafting.open_room(session, room_id, member))
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, member)
    access = drafting.open_room(session, room_id, coordinator)
    assert access.room.key_version == 2
    assert not access.room.rotation_due


def test_sealing_destroys_every_key(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    member_access = drafting.open_room(session, room_id, member)
    drafting.submit_contribution(
        session, member_access, "comment", None, "Before sealing.", app_today()
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.create_invitation(session, access, 3, app_today(), app_today())
    with pytest.raises(TitleMismatch):
        drafting.seal_room(session, access, "Wrong title")
    drafting.seal_room(session, access, "Right to work")
    assert (
        session.scalar(select(func.count()).select_from(RoomKey).where(RoomKey.room_id == room_id))
        == 0
    )
    assert not session.scalars(select(Invitation).where(Invitation.wrapped_keys.is_not(None))).all()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 1
    for who in (coordinator, member):
        with pytest.raises(RoomSealed):
            drafting.open_room(session, room_id, who)


def test_a_leaver_cannot_read_what_follows_and_open_invitations_get_the_new_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    stayer = member_identity(app, session)
    join_room(session, coordinator, room_id, stayer)
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(session, access, 3, app_today(), app_today())
    leaver_keys = dict(drafting.open_room(session, room_id, member).keyring.keys)
    drafting.leave_room(session, drafting.open_room(session, room_id, member))
    # The next member to come in, not only a coordinator, changes the key first.
    staying = drafting.open_room(session, room_id, stayer)
    assert staying.room.key_version == max(leaver_keys) + 1
    written = drafting.submit_contribution(session, staying, "comment", None, "After.", app_today())
    assert written.key_version not in leaver_keys
    # The open invitation lives on, and leads in with the new key.
    newcomer = member_identity(app, session)
    drafting.accept_invitation(session, token, newcomer, app_today())
    assert written.key_version in drafting.open_room(session, room_id, newcomer).keyring.keys


def test_the_last_coordinator_cannot_leave(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    with pytest.raises(LastCoordinator):
        drafting.leave_room(session, drafting.open_room(session, room_id, coordinator))
