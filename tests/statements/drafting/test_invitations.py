"""Invitations: joining by one, who may invite, and invitations that end.

Invitations that end destroy their keys at once, and say no more than an unknown link.

An expired, withdrawn or used-up invitation is answered exactly as a link that never
existed, and its wrapped room keys are gone from the database (and, on SQLite, from the
file and its write-ahead log) as soon as it ends: on its next use, or by the purge.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.db import Database
from statements.drafting import service as drafting
from statements.drafting.errors import InvitationInvalid, NotCoordinator
from tests.conftest import Clock
from tests.support import (
    DRAFT,
    app_today,
    csrf_token,
    invitation_link,
    login_staff,
    make_staff,
    member_identity,
)


def _open_room(app: Flask, session: Session, client: FlaskClient, today: str) -> str:
    staff = make_staff(app, session)
    assert login_staff(client, app, staff).status_code == 302
    response = client.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(client, "/rooms/new"),
            "title": "Right to work",
            "language": "en",
            "summary": "What we ask of governments.",
            "markdown": DRAFT,
            "contribution_deadline": today,
            "signon_deadline": today,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _invite(client: FlaskClient, room_id: str, expires_on: str, uses: int = 5) -> str:
    link = invitation_link(client, room_id, date.fromisoformat(expires_on), uses)
    return link.removeprefix("/invitation/")


def _wrapped(app: Flask, invitation_id: str) -> bytes | None:
    """The invitation's wrapped keys, read straight from the database."""
    database: Database = app.extensions["db"]
    with database.sessionmaker() as raw:
        value = raw.execute(
            text("SELECT wrapped_keys FROM invitations WHERE id = :id"), {"id": invitation_id}
        ).scalar_one()
    return bytes(value) if value is not None else None


def _at_rest(app: Flask) -> bytes | None:
    """On SQLite, the database file and its write-ahead log, as a copy would hold them."""
    database: Database = app.extensions["db"]
    if database.engine.dialect.name != "sqlite":
        return None
    path = Path(str(database.engine.url.database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _unknown_page(app: Flask, token: str) -> tuple[int, str]:
    """How a link of the same shape that never existed is answered."""
    invitation_id, secret = token.split(".")
    made_up = f"{'0' * len(invitation_id)}.{'A' * len(secret)}"
    response = app.test_client().get(f"/invitation/{made_up}")
    return response.status_code, response.get_data(as_text=True).replace(made_up, "TOKEN")


def _page(app: Flask, token: str) -> tuple[int, str]:
    response = app.test_client().get(f"/invitation/{token}")
    return response.status_code, response.get_data(as_text=True).replace(token, "TOKEN")


@pytest.fixture
def room(app: Flask, session: Session, client: FlaskClient, clock: Clock) -> str:
    return _open_room(app, session, client, (clock().date() + timedelta(days=14)).isoformat())


def test_an_expired_invitation_is_destroyed_on_use_and_answered_as_unknown(
    app: Flask, client: FlaskClient, clock: Clock, room: str
) -> None:
    token = _invite(client, room, clock().date().isoformat())
    invitation_id = token.split(".")[0]
    assert _page(app, token)[0] == 200
    wrapped = _wrapped(app, invitation_id)
    assert wrapped is not None
    at_rest = _at_rest(app)
    assert at_rest is None or wrapped in at_rest

    clock.advance(days=1)
    status, page = _page(app, token)
    assert (status, page) == _unknown_page(app, token)
    assert status == 404
    assert _wrapped(app, invitation_id) is None
    at_rest = _at_rest(app)
    assert at_rest is None or wrapped not in at_rest


def test_the_purge_destroys_expired_invitations_nobody_follows(
    app: Flask, client: FlaskClient, clock: Clock, room: str
) -> None:
    ending = _invite(client, room, clock().date().isoformat())
    lasting = _invite(client, room, (clock().date() + timedelta(days=2)).isoformat())
    wrapped = _wrapped(app, ending.split(".")[0])
    assert wrapped is not None

    result = app.test_cli_runner().invoke(args=["purge-sessions"])
    assert "0 expired invitations' keys destroyed" in result.output
    clock.advance(days=1)
    result = app.test_cli_runner().invoke(args=["purge-sessions"])
    assert result.exit_code == 0, result.output
    assert "1 expired invitations' keys destroyed" in result.output
    assert _wrapped(app, ending.split(".")[0]) is None
    assert _wrapped(app, lasting.split(".")[0]) is not None
    at_rest = _at_rest(app)
    assert at_rest is None or wrapped not in at_rest
    assert _page(app, ending) == _unknown_page(app, ending)
    assert _page(app, lasting)[0] == 200


def test_a_withdrawn_invitation_is_destroyed_and_answered_as_unknown(
    app: Flask, client: FlaskClient, clock: Clock, room: str
) -> None:
    token = _invite(client, room, (clock().date() + timedelta(days=3)).isoformat())
    invitation_id = token.split(".")[0]
    wrapped = _wrapped(app, invitation_id)
    assert wrapped is not None
    revoked = client.post(
        f"/rooms/{room}/invitations/{invitation_id}/revoke",
        data={"csrf_token": csrf_token(client, f"/rooms/{room}/invitations")},
    )
    assert revoked.status_code == 302
    assert _wrapped(app, invitation_id) is None
    at_rest = _at_rest(app)
    assert at_rest is None or wrapped not in at_rest
    status, page = _page(app, token)
    assert status == 404
    assert (status, page) == _unknown_page(app, token)


def test_a_used_up_invitation_is_destroyed_and_answered_as_unknown(
    app: Flask, client: FlaskClient, clock: Clock, room: str
) -> None:
    token = _invite(client, room, (clock().date() + timedelta(days=3)).isoformat(), uses=1)
    invitation_id = token.split(".")[0]
    wrapped = _wrapped(app, invitation_id)
    assert wrapped is not None
    newcomer = app.test_client()
    joined = newcomer.post(
        f"/invitation/{token}",
        data={"csrf_token": csrf_token(newcomer, f"/invitation/{token}")},
    )
    assert joined.status_code == 201
    assert _wrapped(app, invitation_id) is None
    at_rest = _at_rest(app)
    assert at_rest is None or wrapped not in at_rest
    status, page = _page(app, token)
    assert status == 404
    assert (status, page) == _unknown_page(app, token)


def test_invitations(app: Flask, session: Session, coordinator: Identity, room_id: str) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(
        session, access, 2, app_today() + timedelta(days=1), app_today()
    )
    assert drafting.invitation_room_title(session, token, app_today()) == "Right to work"
    first, second, third = (member_identity(app, session) for _ in range(3))
    drafting.accept_invitation(session, token, first, app_today())
    drafting.accept_invitation(session, token, first, app_today())  # joining twice uses nothing
    drafting.accept_invitation(session, token, second, app_today())
    with pytest.raises(InvitationInvalid) as used_up:
        drafting.accept_invitation(session, token, third, app_today())
    assert used_up.value.reason == "closed"
    assert drafting.open_room(session, room_id, second).details()["title"] == "Right to work"

    _inv, expiring = drafting.create_invitation(session, access, 5, app_today(), app_today())
    with pytest.raises(InvitationInvalid) as expired:
        drafting.accept_invitation(session, expiring, third, app_today() + timedelta(days=1))
    assert expired.value.reason == "closed"

    revoked_invitation, revoked = drafting.create_invitation(
        session, access, 5, app_today(), app_today()
    )
    drafting.revoke_invitation(session, access, revoked_invitation.id)
    with pytest.raises(InvitationInvalid) as was_revoked:
        drafting.accept_invitation(session, revoked, third, app_today())
    assert was_revoked.value.reason == "closed"
    assert revoked_invitation.wrapped_keys is None

    # The expired invitation lost its keys when it was tried; mistype a live one.
    _live, live = drafting.create_invitation(session, access, 5, app_today(), app_today())
    invitation_id, secret = live.split(".")
    for mistyped in (
        f"{invitation_id}.{secret[:-2]}AA",
        f"{'f' * 32}.{secret}",
        "nonsense",
        "a.b.c",
    ):
        with pytest.raises(InvitationInvalid) as unknown:
            drafting.accept_invitation(session, mistyped, third, app_today())
        assert unknown.value.reason == "unknown"


def test_members_cannot_invite(session: Session, member: Identity, room_id: str) -> None:
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(NotCoordinator):
        drafting.create_invitation(session, access, 1, app_today(), app_today())
