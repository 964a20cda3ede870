"""A1 at rest: a full copy of the database holds no secret in the clear."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams, derive_master_key
from statements.auth import service
from statements.models import Account, Role
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    STRONG_PASSPHRASE,
    dump_database,
    login_member,
    login_staff,
    make_staff,
    post_form,
)


def _forms(secret: bytes) -> list[bytes]:
    """A secret and the encodings it could be stored in."""
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        base64.b32encode(secret).rstrip(b"="),
    ]


def test_no_secret_is_readable_at_rest(
    app: Flask, client: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    assert login_staff(client, app, admin).status_code == 302

    codenames = []
    for _ in range(3):
        member = app.test_client()
        page = post_form(member, "/join", form_page="/join").get_data(as_text=True)
        found = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page)
        assert found
        codenames.append(found.group(1))
        member.delete_cookie("auth")
        assert login_member(member, found.group(1)).status_code == 302

    config: service.AuthConfig = app.extensions["auth"]
    secrets: list[bytes] = [
        STRONG_PASSPHRASE.encode(),
        admin.totp_secret.encode(),
        base64.b32decode(admin.totp_secret),
        settings.lookup_pepper,
        settings.secret_key.encode(),
    ]
    for codename in codenames:
        secrets.append(codename.encode())
        _, keys = service.login_member(session, config, codename)
        secrets += [keys.private_key, keys.author_secret]
    session.rollback()
    admin_row = session.get(Account, admin.account_id)
    assert admin_row is not None
    assert admin_row.kdf_salt
    assert admin_row.kdf_params
    secrets.append(
        derive_master_key(
            STRONG_PASSPHRASE.encode(),
            admin_row.kdf_salt,
            KdfParams.from_json(admin_row.kdf_params),
        )
    )
    _, admin_keys = service.login_staff(
        session,
        config,
        admin.username,
        admin.passphrase,
        pyotp.TOTP(admin.totp_secret).at(clock.now),
        clock.now,
    )
    session.rollback()
    secrets += [admin_keys.private_key, admin_keys.author_secret]

    values = dump_database(session)
    assert values
    blob = b"\x00".join(values)
    # Positive control: what is meant to be stored in the clear is found.
    assert admin_row.public_key
    assert admin_row.public_key in blob
    assert b"root" in blob
    for secret in secrets:
        for form in _forms(secret):
            assert form not in blob
    # Neither the address the requests came from nor any user agent is kept.
    assert b"127.0.0.1" not in blob
    assert b"werkzeug" not in blob.lower()

    # On SQLite, the file itself (free pages and the write-ahead log included).
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert admin_row.public_key in raw
        for secret in secrets:
            for form in _forms(secret):
                assert form not in raw


def test_login_sessions_do_not_say_whose_they_are(
    app: Flask, session: Session, clock: Clock
) -> None:
    for _ in range(2):
        client = app.test_client()
        page = post_form(client, "/join", form_page="/join").get_data(as_text=True)
        assert "codename" in page
    staff = make_staff(app, session)
    login_staff(app.test_client(), app, staff)

    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    table = metadata.tables["login_sessions"]
    assert set(table.columns.keys()) == {"id_hash", "sealed", "expires_at"}
    assert not table.foreign_keys
    rows = list(session.execute(select(table)))
    assert len(rows) == 3
    accounts = list(session.scalars(select(Account.id)))
    for row in rows:
        for account_id in accounts:
            assert account_id.encode() not in bytes(row.sealed)
            assert account_id.encode() not in bytes(row.id_hash)


def test_the_audit_log_and_recovery_codes_say_nothing_of_members(
    app: Flask, session: Session, clock: Clock
) -> None:
    """Staff do everything the audit log records around members who join and write; the
    log names staff and rooms only, and recovery codes are not in the database."""
    from datetime import timedelta

    from statements.models import Contribution, Invitation
    from statements.staff import recovery
    from tests.support import DRAFT, csrf_token

    admin = make_staff(app, session, "root", Role.ADMIN)
    coordinator = make_staff(app, session, "amina")
    admin_account = session.get(Account, admin.account_id)
    assert admin_account is not None
    codes = recovery.issue_codes(session, app.extensions["auth"], admin_account)
    session.commit()
    staff = app.test_client()
    assert login_staff(staff, app, coordinator).status_code == 302
    today = clock.now.date()
    opened = staff.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(staff, "/rooms/new"),
            "title": "Right to work",
            "language": "en",
            "summary": "What we ask.",
            "markdown": DRAFT,
            "contribution_deadline": (today + timedelta(days=14)).isoformat(),
            "signon_deadline": (today + timedelta(days=28)).isoformat(),
            "moderation": "post",
        },
    )
    assert opened.status_code == 302
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    invited = staff.post(
        f"/rooms/{room_id}/invitations",
        data={
            "csrf_token": csrf_token(staff, f"/rooms/{room_id}/invitations"),
            "uses": "5",
            "expires_on": (today + timedelta(days=7)).isoformat(),
        },
    )
    link = re.search(
        r"http://localhost(/invitation/[A-Za-z0-9_.-]+)", invited.get_data(as_text=True)
    )
    assert link
    invitation_id = link.group(1).split("/")[-1].split(".")[0]
    words = "Please add the right to family reunion"
    codenames = []
    for _ in range(2):
        member = app.test_client()
        page = member.post(link.group(1), data={"csrf_token": csrf_token(member, link.group(1))})
        found = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page.get_data(as_text=True))
        assert found
        codenames.append(found.group(1))
        written = member.post(
            f"/rooms/{room_id}/contribute",
            data={
                "csrf_token": csrf_token(member, f"/rooms/{room_id}/contribute"),
                "kind": "comment",
                "text": words,
            },
        )
        assert written.status_code == 302, written.get_data(as_text=True)
    admin_client = app.test_client()
    assert login_staff(admin_client, app, admin).status_code == 302
    members = [
        account_id
        for account_id in session.scalars(select(Account.id).where(Account.role == Role.MEMBER))
    ]
    assert len(members) == 2
    disabled = post_form(
        admin_client,
        f"/admin/accounts/{members[0]}/disabled",
        {"disabled": "1"},
        form_page="/admin/accounts",
    )
    assert disabled.status_code == 302
    session.expire_all()

    rows = session.execute(text("SELECT * FROM audit_log")).all()
    assert {row.action for row in rows} == {"room-opened"}
    logged = "\x00".join(str(value) for row in rows for value in row)
    # Positive control: the staff account and the room are there.
    assert "amina" in logged
    assert room_id in logged
    contribution_ids = list(session.scalars(select(Contribution.id)))
    assert contribution_ids
    for needle in [
        *members,
        *(member[:8] for member in members),
        *codenames,
        *contribution_ids,
        invitation_id,
        words,
        "127.0.0.1",
    ]:
        assert needle not in logged
    assert session.get(Invitation, invitation_id) is not None
    blob = b"\x00".join(dump_database(session))
    for code in codes:
        assert code.encode() not in blob
        assert code.replace("-", "").encode() not in blob
