"""send-notifications issues as many SQL statements for a room with 1,000 contributions
and 200 members as for one with 10 and 2: every count is one grouped statement."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.i18n import LANGUAGES
from statements.models import (
    Account,
    Contribution,
    Endorsement,
    Flag,
    Role,
    RoomMember,
    random_id,
)
from statements.notifications import contacts
from tests.statements.notifications.conftest import Inbox
from tests.support import counting, make_room, open_signon, staff_identity


def _grow(
    session: Session,
    drafting_room: str,
    signon_room: str,
    contributions: int,
    members: int,
    day: date,
) -> None:
    """Add contributions (a tenth flagged) to one room, members and sign-ons to both."""
    for n in range(contributions):
        contribution = Contribution(
            id=random_id(),
            room_id=drafting_room,
            anchor=None,
            kind="comment",
            status="pending",
            author_tag=os.urandom(32),
            key_version=1,
            content=os.urandom(48),
            created_on=day,
        )
        session.add(contribution)
        if n % 10 == 0:
            session.add(Flag(contribution_id=contribution.id, tag=os.urandom(32)))
    for _ in range(members):
        account = Account(id=random_id(), role=Role.MEMBER, lookup_id=os.urandom(32))
        session.add(account)
        session.flush()
        for room_id in (drafting_room, signon_room):
            session.add(RoomMember(room_id=room_id, account_id=account.id, role="member"))
        session.add(
            Endorsement(id=random_id(), room_id=signon_room, tag=os.urandom(32), kind="anonymous")
        )
    session.commit()


def _coordinator(app: Flask, session: Session, key: str, name: str) -> tuple[Identity, str, str]:
    today = app.extensions["clock"]().date()
    coordinator = staff_identity(app, session, name)
    drafting_room = make_room(session, coordinator, title="Big room", today=today)
    signon_room = make_room(session, coordinator, title="Signing room", today=today)
    open_signon(session, coordinator, signon_room)
    contacts.save_contact(
        session,
        contacts.NotificationKeys.derive(key),
        coordinator.account,
        f"{name}@example.org",
        "digest",
        "th",
        frozenset(LANGUAGES),
    )
    session.commit()
    return coordinator, drafting_room, signon_room


def test_statements_do_not_grow_with_contributions_or_members(
    app: Flask,
    session: Session,
    mailing_app: Callable[..., Flask],
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    clock = app.extensions["clock"]
    _coordinator_identity, drafting_room, signon_room = _coordinator(
        app, session, notification_key, "coordinator"
    )
    mailer = mailing_app(plain_smtp)
    _grow(session, drafting_room, signon_room, 10, 2, clock().date())
    with counting(mailer) as small:
        assert mailer.test_cli_runner().invoke(args=["send-notifications"]).exit_code == 0
    assert "10 contributions wait" not in inbox.messages[-1].get_content()  # in Thai

    clock.advance(days=1)
    _grow(session, drafting_room, signon_room, 990, 198, clock().date())
    with counting(mailer) as large:
        assert mailer.test_cli_runner().invoke(args=["send-notifications"]).exit_code == 0
    assert len(inbox.messages) == 2
    assert "1000" in inbox.messages[-1].get_content()
    assert "200" in inbox.messages[-1].get_content()
    assert len(large) == len(small), (small, large)


def test_more_rooms_and_coordinators_add_no_statement_per_room(
    app: Flask,
    session: Session,
    mailing_app: Callable[..., Flask],
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    clock = app.extensions["clock"]
    _identity, drafting_room, signon_room = _coordinator(app, session, notification_key, "first")
    _grow(session, drafting_room, signon_room, 5, 2, clock().date())
    mailer = mailing_app(plain_smtp)
    with counting(mailer) as one:
        mailer.test_cli_runner().invoke(args=["send-notifications"])
    clock.advance(days=1)
    for _ in range(3):
        drafting_room = make_room(session, _identity, title="Another", today=clock().date())
        _grow(session, drafting_room, signon_room, 5, 1, clock().date())
    with counting(mailer) as four:
        mailer.test_cli_runner().invoke(args=["send-notifications"])
    assert len(inbox.messages) == 2
    assert len(four) == len(one), (one, four)
