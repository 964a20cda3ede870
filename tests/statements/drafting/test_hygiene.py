"""Room hygiene that protects the author: nothing stays "pending" forever once the text is
frozen, and an edited proposal does not keep supports given to other words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.drafting import contribution_lists, contributions, rooms
from statements.drafting.access import open_room
from statements.drafting.errors import UndecidedContributions
from statements.models import Contribution, Room, RoomState, Support
from tests.support import (
    app_today,
    csrf_token,
    join_room,
    login_member,
    login_staff,
    make_member,
    make_room,
    make_staff,
)

WORDS = "Mention the families waiting at the border"


@dataclass
class Round:
    """A post-moderated room with one pending comment, and who is in it."""

    room_id: str
    coordinator: auth.Identity
    author: auth.Identity
    supporter: auth.Identity
    staff_client: FlaskClient
    author_client: FlaskClient


def _member(app: Flask, session: Session) -> tuple[auth.Identity, str]:
    _account, codename = make_member(app, session)
    account, keys = auth.login_member(session, app.extensions["auth"], codename)
    return auth.Identity(account, keys, b"", b""), codename


@pytest.fixture
def round_(app: Flask, session: Session) -> Round:
    staff = make_staff(app, session)
    config: auth.AuthConfig = app.extensions["auth"]
    clock = app.extensions["clock"]
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    room_id = make_room(session, coordinator)
    author, codename = _member(app, session)
    supporter, _ = _member(app, session)
    for member in (author, supporter):
        join_room(session, coordinator, room_id, member)
    access = open_room(session, room_id, author)
    contributions.submit_contribution(session, access, "comment", None, WORDS, app_today())
    session.commit()
    staff_client, author_client = app.test_client(), app.test_client()
    assert login_staff(staff_client, app, staff).status_code == 302
    assert login_member(author_client, codename).status_code == 302
    return Round(room_id, coordinator, author, supporter, staff_client, author_client)


def _move(client: FlaskClient, room_id: str, target: str, **extra: str) -> int:
    data = {"csrf_token": csrf_token(client, f"/rooms/{room_id}"), "target": target, **extra}
    return client.post(f"/rooms/{room_id}/state", data=data).status_code


def _state(session: Session, room_id: str) -> str:
    session.expire_all()
    room = session.get(Room, room_id)
    assert room is not None
    return room.state


@pytest.mark.parametrize("target", ["consolidating", "sign-on"])
def test_closing_with_undecided_contributions_asks_first(
    session: Session, round_: Round, target: str
) -> None:
    room_id, staff = round_.room_id, round_.staff_client
    if target == "sign-on":
        assert _move(staff, room_id, "consolidating", leave_undecided="1") == 302
    page = staff.post(
        f"/rooms/{room_id}/state",
        data={"csrf_token": csrf_token(staff, f"/rooms/{room_id}"), "target": target},
    )
    assert page.status_code == 409
    text = page.get_data(as_text=True)
    assert WORDS in text
    assert "1 contribution has not been decided yet" in text
    assert _state(session, room_id) != target
    assert _move(staff, room_id, target, leave_undecided="1") == 302
    assert _state(session, room_id) == target


def test_the_service_refuses_without_the_confirmation(session: Session, round_: Round) -> None:
    access = open_room(session, round_.room_id, round_.coordinator)
    with pytest.raises(UndecidedContributions) as refused:
        rooms.change_state(session, access, "consolidating", app_today())
    assert refused.value.count == 1
    rooms.change_state(session, access, "consolidating", app_today(), leave_undecided=True)
    assert access.room.state == "consolidating"


def test_nothing_undecided_moves_on_at_once(session: Session, round_: Round) -> None:
    access = open_room(session, round_.room_id, round_.author)
    [mine] = contribution_lists.my_contributions(session, access)
    contributions.withdraw_contribution(session, access, mine.id)
    session.commit()
    assert _move(round_.staff_client, round_.room_id, "consolidating") == 302


def test_the_author_sees_it_was_not_decided_before_the_freeze(round_: Round) -> None:
    room_id, staff, author = round_.room_id, round_.staff_client, round_.author_client
    assert "· pending" in author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert _move(staff, room_id, "consolidating", leave_undecided="1") == 302
    # Still decidable while consolidating.
    assert "· pending" in author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert _move(staff, room_id, "sign-on", leave_undecided="1") == 302
    page = author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "not decided before the text was frozen" in page
    assert "· pending" not in page


def test_editing_a_proposal_clears_its_supports_and_says_so_first(
    session: Session, round_: Round
) -> None:
    room_id = round_.room_id
    supporter = open_room(session, room_id, round_.supporter)
    cid = session.scalars(select(Contribution.id)).one()
    contributions.support(session, supporter, cid, True)
    session.commit()
    author = round_.author_client
    edit = author.get(f"/rooms/{room_id}/contributions/{cid}/edit").get_data(as_text=True)
    assert "Saving a change removes the 1 support this proposal has" in edit
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', edit)
    assert token
    response = author.post(
        f"/rooms/{room_id}/contributions/{cid}/edit",
        data={"csrf_token": token.group(1), "text": WORDS + ", and their children"},
    )
    assert response.status_code == 302
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Support))
    assert count == 0
    assert _state(session, room_id) == RoomState.DRAFTING
