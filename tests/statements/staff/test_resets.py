"""A staff member who lost both phone and recovery codes is reset by two admins (or, with
one admin, on the server), sets up again, and gets their rooms back from a fellow
coordinator's next sign-in; the rooms keep working meanwhile."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth import service
from statements.drafting import service as drafting
from statements.models import Account, AuditEntry, Role, RoomKey, SigningKeyWrap
from statements.publishing import signing_keys
from statements.staff import resets
from statements.staff.errors import ResetNotAllowed, SameAdmin
from tests.support import (
    STRONG_PASSPHRASE,
    Staff,
    csrf_token,
    join_room,
    login_staff,
    make_room,
    make_staff,
    member_identity,
    post_signed_in,
)

NEW_PASSPHRASE = "harbour violet tundra ribbon kettle"


def _identity(app: Flask, session: Session, staff: Staff) -> service.Identity:
    clock = app.extensions["clock"]
    account, keys = service.login_staff(
        session,
        app.extensions["auth"],
        staff.username,
        staff.passphrase,
        staff.code(clock()),
        clock(),
    )
    clock.advance(seconds=30)
    return service.Identity(account, keys, session_id_hash=b"", session_key=b"")


def _enrol(app: Flask, link: str) -> tuple[FlaskClient, str]:
    """Set the account up again through its link; returns the browser and the TOTP secret."""
    clock = app.extensions["clock"]
    client = app.test_client()
    path = link[link.index("/enrol/") :]
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(
        r'name="totp_secret" type="hidden" value="([A-Z2-7]+)"', page.get_data(as_text=True)
    )
    assert found
    done = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "totp_secret": found.group(1),
            "passphrase": NEW_PASSPHRASE,
            "confirm": NEW_PASSPHRASE,
            "code": pyotp.TOTP(found.group(1)).at(clock()),
        },
    )
    assert done.status_code == 201
    clock.advance(seconds=30)
    return client, found.group(1)


def test_two_admins_reset_a_coordinator_who_regains_their_rooms(
    app: Flask, session: Session
) -> None:
    clock = app.extensions["clock"]
    first = make_staff(app, session, "first-admin", Role.ADMIN)
    second = make_staff(app, session, "second-admin", Role.ADMIN)
    lost = make_staff(app, session, "amina")
    fellow = make_staff(app, session, "bilal")
    amina = _identity(app, session, lost)
    room_id = make_room(session, amina)
    access = drafting.open_room(session, room_id, amina)
    drafting.add_coordinator(session, access, "bilal")
    member = member_identity(app, session)
    join_room(session, amina, room_id, member)
    signing_keys.unlock_signing_key(session, amina, "test.example/log", clock().date(), create=True)
    session.commit()

    admin_one, admin_two = app.test_client(), app.test_client()
    assert login_staff(admin_one, app, first).status_code == 302
    assert login_staff(admin_two, app, second).status_code == 302
    proposed = post_signed_in(admin_one, f"/admin/accounts/{lost.account_id}/reset")
    assert proposed.status_code == 302
    # The admin who proposed cannot approve.
    own = post_signed_in(admin_one, f"/admin/accounts/{lost.account_id}/reset/approve")
    assert own.status_code == 403
    assert "another administrator must approve" in own.get_data(as_text=True)
    assert session.get(Account, lost.account_id).enrolled  # type: ignore[union-attr]
    pending = admin_two.get("/admin/accounts").get_data(as_text=True)
    assert "proposed by first-admin" in pending
    approved = post_signed_in(admin_two, f"/admin/accounts/{lost.account_id}/reset/approve")
    assert approved.status_code == 200
    link = re.search(
        r'<code class="secret">([^<]+/enrol/[^<]+)</code>', approved.get_data(as_text=True)
    )
    assert link

    session.expire_all()
    account = session.get(Account, lost.account_id)
    assert account is not None
    assert not account.enrolled
    # Everything the old keys opened is gone with them.
    assert not session.scalars(select(RoomKey).where(RoomKey.account_id == account.id)).all()
    assert not session.scalars(
        select(SigningKeyWrap).where(SigningKeyWrap.account_id == account.id)
    ).all()
    # The old passphrase and code no longer sign in.
    assert login_staff(app.test_client(), app, lost).status_code == 401

    # The room keeps working meanwhile: the member writes, and a removal rotates the key.
    member_access = drafting.open_room(session, room_id, member)
    assert member_access.details()["title"] == "Right to work"
    bilal = _identity(app, session, fellow)
    leaving = member_identity(app, session)
    join_room(session, bilal, room_id, leaving)
    session.commit()
    bilal_access = drafting.open_room(session, room_id, bilal)
    number = next(
        line.number for line in drafting.members(session, bilal_access) if line.role == "member"
    )
    drafting.remove_member(session, bilal_access, number, clock().date())
    session.commit()

    # Amina sets up again: signed in, but her room is not readable yet.
    amina_client, _secret = _enrol(app, link.group(1))
    assert amina_client.get(f"/rooms/{room_id}").status_code == 404
    # Bilal signs in: the room's keys (every version) and the signing key go to her.
    bilal_client = app.test_client()
    assert login_staff(bilal_client, app, fellow).status_code == 302
    page = amina_client.get(f"/rooms/{room_id}")
    assert page.status_code == 200
    assert "Right to work" in page.get_data(as_text=True)
    session.expire_all()
    versions = {
        row.key_version
        for row in session.scalars(select(RoomKey).where(RoomKey.account_id == lost.account_id))
    }
    assert versions == {1, 2}
    # Bilal never held the signing key: Amina gets it from the next holder's sign-in,
    # here the first admin's (every enrolled staff member received it at creation).
    assert login_staff(app.test_client(), app, first).status_code == 302
    session.expire_all()
    assert session.scalars(
        select(SigningKeyWrap).where(SigningKeyWrap.account_id == lost.account_id)
    ).all()
    actions = {(row.actor, row.action, row.subject) for row in session.scalars(select(AuditEntry))}
    assert ("first-admin", "reset-proposed", "amina") in actions
    assert ("second-admin", "reset-approved", "amina") in actions
    assert ("amina", "account-enrolled", "amina") in actions
    assert ("bilal", "room-keys-restored", "amina") in actions


def test_a_reset_needs_a_proposal_and_cannot_target_oneself(app: Flask, session: Session) -> None:
    clock = app.extensions["clock"]
    first = make_staff(app, session, "first-admin", Role.ADMIN)
    second = make_staff(app, session, "second-admin", Role.ADMIN)
    coordinator = make_staff(app, session, "amina")
    admin_one = session.get(Account, first.account_id)
    admin_two = session.get(Account, second.account_id)
    assert admin_one is not None
    assert admin_two is not None
    client = app.test_client()
    assert login_staff(client, app, second).status_code == 302
    unproposed = post_signed_in(client, f"/admin/accounts/{coordinator.account_id}/reset/approve")
    assert unproposed.status_code == 404
    with pytest.raises(ResetNotAllowed):
        resets.propose_reset(session, admin_one, admin_one.id, clock().date())
    resets.propose_reset(session, admin_one, coordinator.account_id, clock().date())
    with pytest.raises(SameAdmin):
        resets.approve_reset(session, admin_one, coordinator.account_id, clock())
    session.commit()
    assert post_signed_in(client, "/admin/accounts/not-an-account/reset").status_code == 400
    # Coordinators cannot propose or approve.
    coordinator_client = app.test_client()
    assert login_staff(coordinator_client, app, coordinator).status_code == 302
    assert (
        post_signed_in(coordinator_client, f"/admin/accounts/{first.account_id}/reset").status_code
        == 403
    )
    # A proposal can be withdrawn; then there is nothing to approve.
    assert (
        post_signed_in(
            client, f"/admin/accounts/{coordinator.account_id}/reset/withdraw"
        ).status_code
        == 302
    )
    assert (
        post_signed_in(
            client, f"/admin/accounts/{coordinator.account_id}/reset/approve"
        ).status_code
        == 404
    )


def test_the_server_command_resets_with_a_single_admin(app: Flask, session: Session) -> None:
    lost = make_staff(app, session, "amina")
    result = app.test_cli_runner().invoke(args=["reset-staff", "amina"])
    assert result.exit_code == 0, result.output
    assert "/enrol/" in result.output
    session.expire_all()
    account = session.get(Account, lost.account_id)
    assert account is not None
    assert not account.enrolled
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "reset-on-server"))
    assert entry is not None
    assert entry.actor is None
    assert entry.subject == "amina"
    unknown = app.test_cli_runner().invoke(args=["reset-staff", "nobody"])
    assert unknown.exit_code != 0
    assert "no coordinator or admin named nobody" in unknown.output
    assert STRONG_PASSPHRASE not in result.output
