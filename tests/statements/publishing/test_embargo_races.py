"""Two releases of the same embargo at the same moment, on PostgreSQL, with two real
connections: the second waits for the first (the log's lock) and then releases nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.models import Embargo, LogEntry, PublishedVersion, Role
from statements.publishing import embargo
from tests.conftest import CHEAP_KDF, TEST_DATABASE_URL
from tests.support import STRONG_PASSPHRASE, app_today, fresh_schema, make_room, open_signon

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
    account, token = auth.invite_staff(db, "releaser", Role.COORDINATOR, now)
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


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_two_releases_at_once_publish_once(own_schema: Engine) -> None:
    sessions = sessionmaker(bind=own_schema, expire_on_commit=False)
    now = datetime.now(UTC)
    with sessions() as setup:
        coordinator = _coordinator(setup)
        room_id = make_room(setup, coordinator, title="Release race")
        open_signon(setup, coordinator, room_id)
        access = drafting.open_room(setup, room_id, coordinator)
        embargo.schedule(
            setup,
            access,
            "release-race",
            "test.example/log",
            now + timedelta(hours=1),
            "Europe/Berlin",
            app_today(),
        )
        setup.commit()
    later = now + timedelta(hours=2)

    first = sessions()
    done = embargo.release_due(first, later)  # holds the log's lock until commit
    assert done.released == ["release-race"]

    outcome: list[object] = []

    def second_release() -> None:
        with sessions() as second:
            try:
                outcome.append(embargo.release_due(second, later))
                second.commit()
            except BaseException as error:
                second.rollback()
                outcome.append(error)

    thread = threading.Thread(target=second_release)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=WAIT_SECONDS)
    while not _waiting_on_a_lock(own_schema):
        assert datetime.now(UTC) < deadline, "the second release never waited for the first"
        assert thread.is_alive(), f"the second release did not wait: {outcome}"
        threading.Event().wait(0.05)
    first.commit()
    first.close()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()

    assert outcome == [embargo.Released([], [])]
    with sessions() as check:
        assert _count(check, LogEntry) == 1
        assert _count(check, PublishedVersion) == 1
        assert _count(check, Embargo) == 0
