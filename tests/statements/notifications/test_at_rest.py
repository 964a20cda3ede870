"""At rest, the notification tables name staff accounts only: no member, no contribution,
no room, no address in clear, no time of day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.i18n import LANGUAGES
from statements.models import Account, AuditAction, Contribution, Flag, Role
from statements.notifications import contacts
from statements.staff import audit
from tests.statements.notifications.conftest import Inbox
from tests.support import dump_database, join_room, make_room, member_identity, staff_identity

ADDRESSES = ("amina.coordinator@example.org", "root.admin@example.org")


def test_the_notification_tables_link_no_member_to_anything(
    app: Flask,
    session: Session,
    mailing_app: Callable[..., Flask],
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    clock = app.extensions["clock"]
    today = clock().date()
    keys = contacts.NotificationKeys.derive(notification_key)
    coordinator = staff_identity(app, session, "amina")
    admin = staff_identity(app, session, "root", Role.ADMIN)
    room_id = make_room(session, coordinator, today=today)
    join_room(session, coordinator, room_id, admin)
    members = [member_identity(app, session) for _ in range(3)]
    for member in members:
        join_room(session, coordinator, room_id, member)
    anchors = [
        s.anchor
        for s in drafting.version(
            session, drafting.open_room(session, room_id, members[0])
        ).sections
    ]
    for n, member in enumerate(members):
        access = drafting.open_room(session, room_id, member)
        drafting.submit_contribution(session, access, "comment", anchors[0], f"Words {n}", today)
    audit.record(
        session, admin.account, AuditAction.ACCOUNT_CREATED, "newcomer", today - timedelta(days=1)
    )
    for identity, address, frequency in (
        (coordinator, ADDRESSES[0], "immediate"),
        (admin, ADDRESSES[1], "digest"),
    ):
        contacts.save_contact(
            session, keys, identity.account, address, frequency, "en", frozenset(LANGUAGES)
        )
    session.commit()
    mailer = mailing_app(plain_smtp)
    for _ in range(2):
        mailer.test_cli_runner().invoke(args=["send-notifications"])
        clock.advance(days=11)  # on to the reminders, then past the deadline
    assert len(inbox.messages) >= 3

    contact_rows = session.execute(text("SELECT * FROM staff_contacts")).mappings().all()
    sent_rows = session.execute(text("SELECT * FROM staff_notices_sent")).mappings().all()
    assert contact_rows
    assert sent_rows
    assert set(contact_rows[0]) == {"account_id", "email", "frequency", "language", "marks"}
    assert set(sent_rows[0]) == {"account_id", "event", "day"}
    staff_ids = {coordinator.account.id, admin.account.id}
    assert {row["account_id"] for row in [*contact_rows, *sent_rows]} <= staff_ids

    def raw(value: object) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        return str(value).encode()

    stored = b"\x00".join(raw(v) for row in [*contact_rows, *sent_rows] for v in row.values())
    member_ids = [m.account.id for m in members]
    contribution_rows = session.execute(select(Contribution.id, Contribution.author_tag)).all()
    flags = list(session.scalars(select(Flag.tag)))
    needles: list[bytes] = [room_id.encode(), room_id[:4].encode() + b":"]
    for account_id in member_ids:
        needles += [account_id.encode(), account_id[:8].encode()]
    for contribution_id, tag in contribution_rows:
        needles += [contribution_id.encode(), tag, tag.hex().encode()]
    needles += flags
    for needle in needles:
        assert needle not in stored
    # No address in clear anywhere in the database; the event hashes are keyed hex.
    everything = b"\x00".join(dump_database(session))
    for address in ADDRESSES:
        assert address.encode() not in everything
        assert address.split("@")[0].encode() not in everything
    for row in sent_rows:
        assert len(row["event"]) == 64
        int(row["event"], 16)
        # A day, never a time of day.
        assert len(str(row["day"])) == 10
    # Positive control: the staff accounts are there, and only they.
    assert coordinator.account.id.encode() in stored
    assert session.scalar(
        select(Account.role).where(Account.id.in_([r["account_id"] for r in sent_rows]))
    ) in (Role.ADMIN, Role.COORDINATOR)
