"""Sealing and joining at the same moment, on PostgreSQL, with two real connections.

The usual fixtures share one connection, so they cannot show that a join waits for a
seal. Here each side has its own connection, in a schema of its own that is dropped
afterwards; the test checks that the join really waited on the seal's locks (the room
row, and the invitation the seal closed) before the seal committed, and that it then
found the room sealed and left no key behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.drafting.errors import InvitationInvalid
from statements.models import Role, RoomKey, RoomMember
from tests.conftest import CHEAP_KDF, TEST_DATABASE_URL
from tests.support import STRONG_PASSPHRASE, app_today, fresh_schema, make_room

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs two connections at once: runs on PostgreSQL"
)
CONFIG = auth.AuthConfig(pepper=b"p" * 32, kdf=CHEAP_KDF, idle_minutes=30, activity_key=b"a" * 32)
WAIT_SECONDS = 30


@pytest.fixture
def own_schema() -> Iterator[Engine]:
    """An engine whose every connection works in a fresh schema, migrated."""
    assert TEST_DATABASE_URL
    with fresh_schema(TEST_DATABASE_URL) as engine:
        yield engine


def _coordinator(db: Session) -> auth.Identity:
    now = datetime.now(UTC) - timedelta(minutes=5)
    account, token = auth.invite_staff(db, "racer", Role.COORDINATOR, now)
    secret = auth.new_totp_secret()
    account, keys = auth.complete_enrolment(
        db, CONFIG, token, STRONG_PASSPHRASE, secret, pyotp.TOTP(secret).at(now), now
    )
    return auth.Identity(account, keys, b"", b"")


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)


def test_a_join_waits_for_a_seal_and_then_finds_the_room_closed(own_schema: Engine) -> None:
    sessions = sessionmaker(bind=own_schema, expire_on_commit=False)
    with sessions() as setup:
        coordinator = _coordinator(setup)
        room_id = make_room(setup, coordinator, title="Race")
        access = drafting.open_room(setup, room_id, coordinator)
        _invitation, token = drafting.create_invitation(
            setup, access, 5, app_today() + timedelta(days=7), app_today()
        )
        member_account, _codename, member_keys = auth.create_member(setup, CONFIG)
        setup.commit()
    member = auth.Identity(member_account, member_keys, b"", b"")

    sealer = sessions()
    sealing = drafting.open_room(sealer, room_id, coordinator)
    drafting.seal_room(sealer, sealing, "Race")  # holds the room row until commit

    outcome: list[BaseException | None] = []

    def join() -> None:
        with sessions() as joiner:
            try:
                drafting.accept_invitation(joiner, token, member, app_today())
                joiner.commit()
                outcome.append(None)
            except BaseException as error:
                joiner.rollback()
                outcome.append(error)

    thread = threading.Thread(target=join)
    thread.start()
    # Proof that the join reached the lock while the seal was not yet committed.
    deadline = datetime.now(UTC) + timedelta(seconds=WAIT_SECONDS)
    while not _waiting_on_a_lock(own_schema):
        assert datetime.now(UTC) < deadline, "the join never waited on the seal's locks"
        assert thread.is_alive(), f"the join finished without waiting: {outcome}"
        threading.Event().wait(0.05)
    sealer.commit()
    sealer.close()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()

    assert len(outcome) == 1
    assert isinstance(outcome[0], InvitationInvalid)
    assert outcome[0].reason == "closed"
    with sessions() as check:
        assert check.scalars(select(RoomKey).where(RoomKey.room_id == room_id)).all() == []
        assert check.get(RoomMember, (room_id, member_account.id)) is None
