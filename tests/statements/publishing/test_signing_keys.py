"""The signing key through the service: who holds it, its rotation, and what the database
allows of its listing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crypto.bundle_checks import verify_key_rotation
from crypto.bundle_reading import parse_keys
from crypto.signing import generate_signing_key, key_id
from statements.auth import service as auth
from statements.models import (
    LogEntry,
    Role,
    SigningKeyRecord,
    SigningKeyWrap,
)
from statements.publishing import service as publishing
from statements.publishing import signing_keys
from statements.publishing.errors import (
    NoSigningKey,
    NotAllowed,
)
from statements.publishing.public import key_records
from tests.support import (
    app_today,
    published_statement,
    staff_identity,
    verifies,
)

ORIGIN = "test.example/log"


def test_members_and_disabled_staff_never_hold_the_key(
    app: Flask, session: Session, signon_room: tuple
) -> None:
    coordinator, _room_id, (member, *_rest) = signon_room
    other = staff_identity(app, session, "other-coordinator")
    admin = staff_identity(app, session, "an-admin", Role.ADMIN)
    record, _ = signing_keys.unlock_signing_key(
        session, coordinator, ORIGIN, app_today(), create=True
    )
    holders = set(
        session.scalars(
            select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id)
        )
    )
    assert holders == {coordinator.account.id, other.account.id, admin.account.id}
    assert member.account.id not in holders
    with pytest.raises(NotAllowed):
        signing_keys.unlock_signing_key(session, member, ORIGIN, app_today())
    auth.set_disabled(session, admin.account, other.account.id, True)
    assert session.get(SigningKeyWrap, (record.key_id, other.account.id)) is None
    assert signing_keys.key_status(session, coordinator).waiting == 0


def test_key_rotation_is_logged_signed_by_both_keys_and_old_bundles_still_verify(
    app: Flask, session: Session
) -> None:
    admin = staff_identity(app, session, "root", Role.ADMIN)
    coordinator, slug = published_statement(app, session)
    old = signing_keys.active_key(session)
    assert old is not None
    new = signing_keys.rotate_signing_key(session, admin, app_today())
    assert new.key_id != old.key_id
    assert old.valid_until == app_today()
    assert signing_keys.key_status(session, coordinator).held
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    rotation = session.get(LogEntry, 1)
    assert rotation is not None
    assert rotation.kind == "key-rotation"
    entry = json.loads(rotation.leaf)
    assert verify_key_rotation(entry, keys)
    # Not with a key list that lacks the old key; not with a signature changed.
    assert not verify_key_rotation(entry, [k for k in keys if k.key_id == new.key_id])
    entry["rotation"]["rotated_on"] = "2000-01-01"
    assert not verify_key_rotation(entry, keys)
    assert verifies(session, slug, 1)
    # A correction after the rotation is signed by the new key; the log stays consistent.
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="T",
        body="B",
        signatories="",
        reason="A correction.",
    )
    assert publishing.latest(session, slug).bundle["signature"]["key_id"] == new.key_id
    assert verifies(session, slug, 2)
    # Nobody holds the old key any more.
    assert not session.scalars(
        select(SigningKeyWrap).where(SigningKeyWrap.key_id == old.key_id)
    ).all()


def test_the_database_allows_one_key_in_use(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    signing_keys.unlock_signing_key(session, coordinator, ORIGIN, app_today(), create=True)
    session.commit()
    second = generate_signing_key()
    session.add(
        SigningKeyRecord(
            key_id=key_id(second.public_key),
            public_key=second.public_key,
            note_key_name=ORIGIN,
            valid_from=app_today(),
            valid_until=None,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    # And a retired key is not silently replaced by a new one.
    active = signing_keys.active_key(session)
    assert active is not None
    active.valid_until = app_today()
    session.flush()
    with pytest.raises(NoSigningKey):
        signing_keys.unlock_signing_key(session, coordinator, ORIGIN, app_today(), create=True)


def test_a_listed_key_is_only_ever_retired(app: Flask, session: Session) -> None:
    published_statement(app, session)
    session.commit()
    for statement in (
        "DELETE FROM signing_keys",
        "UPDATE signing_keys SET note_key_name = 'elsewhere/log'",
        "UPDATE signing_keys SET valid_from = '2000-01-01'",
    ):
        with pytest.raises((IntegrityError, DBAPIError)):
            session.execute(text(statement))
        session.rollback()
    retire = text("UPDATE signing_keys SET valid_until = :day")
    session.execute(retire, {"day": app_today()})
    session.commit()
    # Retired once; its window cannot be moved afterwards.
    with pytest.raises((IntegrityError, DBAPIError)):
        session.execute(retire, {"day": app_today() + timedelta(days=1)})
    session.rollback()
    assert signing_keys.all_keys(session)[0].valid_until == app_today()
