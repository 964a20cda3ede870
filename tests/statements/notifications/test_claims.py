"""Two runs at the same moment: the second cannot claim what the first claimed, so a
message goes once; a message the mail server refused is released for the next run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from statements.i18n import LANGUAGES
from statements.models import StaffNoticeSent
from statements.notifications import contacts, digest
from tests.conftest import TEST_DATABASE_URL
from tests.support import fresh_schema, make_room, staff_identity


@pytest.fixture
def own_sessions(app: Flask) -> Iterator[sessionmaker[Session]]:
    """Sessions on connections of their own, with real commits (on PostgreSQL, in a
    fresh schema: the app's test transaction would put both runs on one connection)."""
    if TEST_DATABASE_URL is None:
        yield app.extensions["db"].sessionmaker
        return
    with fresh_schema(TEST_DATABASE_URL) as engine:
        yield sessionmaker(bind=engine, expire_on_commit=False)


@pytest.mark.parametrize("frequency", ["digest", "immediate"])
def test_a_second_run_reading_the_same_state_cannot_claim_it(
    app: Flask, own_sessions: sessionmaker[Session], frequency: str
) -> None:
    keys = contacts.NotificationKeys.derive(secrets.token_urlsafe(48))
    today = app.extensions["clock"]().date()
    session = own_sessions()
    coordinator = staff_identity(app, session)
    make_room(session, coordinator, today=today)
    contacts.save_contact(
        session, keys, coordinator.account, "c@example.org", frequency, "en", frozenset(LANGUAGES)
    )
    session.commit()
    # Both runs read the database before either records anything. A new room's deadline
    # is a fortnight away and nothing waits in it: move the clock to the reminder.
    day = today.fromordinal(today.toordinal() + 11)
    first = digest.plan(session, keys, day)
    other = own_sessions()
    try:
        second = digest.plan(other, keys, day)
        assert [item.claims for item in first] == [item.claims for item in second]
        assert first
        assert first[0].kind == ("digest" if frequency == "digest" else "notice")
        digest.claim(session, first[0], day)
        session.commit()
        # claim() flushes: the unique key refuses the second record there.
        with pytest.raises(IntegrityError):
            digest.claim(other, second[0], day)
        other.rollback()
    finally:
        other.close()
    # The mail server refused it: released, the next run plans it again.
    digest.release(session, first[0])
    session.commit()
    assert session.scalar(select(func.count()).select_from(StaffNoticeSent)) == 0
    again = digest.plan(session, keys, day)
    assert [item.claims for item in again] == [item.claims for item in first]
    session.close()
