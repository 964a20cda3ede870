"""A1 at rest: a full copy of the database holds no secret in the clear."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select
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


def test_invitation_labels_links_and_deadline_reasons_are_not_readable_at_rest(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    """A label, a link waiting to be shown, and a deadline's reason are ciphertexts only."""
    from statements.models import Invitation, Room
    from tests.support import csrf_token, make_room, signed_in_staff

    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    label = "for the Chin women's group in Kuala Lumpur"
    reason = "The hearing at the ministry moved to March"
    page = f"/rooms/{room_id}/invitations"
    created = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "uses": "3",
            "expires_on": clock().date().isoformat(),
            "label": label,
        },
    )
    assert created.status_code == 303
    moved = post_form(
        client,
        f"/rooms/{room_id}/deadlines",
        {
            "contribution_deadline": clock().date().isoformat(),
            "signon_deadline": clock().date().isoformat(),
            "reason": reason,
        },
        form_page="/account",
    )
    assert moved.status_code == 302
    session.expire_all()
    invitation = session.scalars(select(Invitation).where(Invitation.room_id == room_id)).one()
    room = session.get(Room, room_id)
    assert room is not None
    # Positive control: what is stored in the clear is found.
    assert invitation.link_once is not None
    assert invitation.public_key is not None
    # The link has not been shown yet: it waits, sealed under the session's key.
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    found = re.search(r"/invitation/([0-9a-f]{32})\.([A-Za-z0-9_-]+)", shown)
    assert found
    secret = base64.urlsafe_b64decode(found.group(2) + "=" * (-len(found.group(2)) % 4))
    session.expire_all()
    assert session.get(Invitation, invitation.id).link_once is None  # type: ignore[union-attr]

    blob = b"\x00".join(dump_database(session))
    assert invitation.public_key in blob
    for words in (label, reason):
        assert words.encode() not in blob
        assert words.encode("utf-16-le") not in blob
    for form in _forms(secret):
        assert form not in blob
    assert found.group(2).encode() not in blob
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert invitation.public_key in raw
        for words in (label, reason):
            assert words.encode() not in raw
        for form in _forms(secret):
            assert form not in raw
        assert found.group(2).encode() not in raw
