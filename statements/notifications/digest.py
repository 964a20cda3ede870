"""What each coordinator and admin is told, worked out in a fixed number of statements.

Every count is one grouped statement over all the rooms of every staff account that
asked for news (statements/drafting/overview.py's counts, reused), so the work does not
grow with contributions, members or rooms. Nothing here opens a ciphertext of a room: it
reads states, dates and counts, and the staff's own sealed addresses.

A digest goes once a day (the first run on each day, UTC); an immediate notice whenever
something new waits since the last one: more contributions or flags, more sign-ons, an
author's answer, a deadline three days or one day away, and for admins an account or
signing-key event. What was sent is recorded as keyed hashes (StaffNoticeSent), claimed
before the message leaves, so a second run, even at the same moment, sends nothing twice.
Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from statements.drafting.overview import OVERVIEW_COUNTS, next_deadline
from statements.models import (
    Account,
    AuditAction,
    AuditEntry,
    Endorsement,
    NoticeFrequency,
    Role,
    Room,
    RoomMember,
    RoomRole,
    RoomState,
    StaffContact,
    StaffNoticeSent,
)
from statements.notifications.contacts import NotificationKeys

# A room is named by the first characters of its random id: a number that means nothing
# outside the platform (the room's address on the site carries it whole).
ROOM_NUMBER = 4
# Deadlines this close are listed; reminders go three days and one day before.
DEADLINE_WINDOW = 3
REMINDER_LEADS = (3, 1)
# Sent events older than this are pruned: none is looked at after three days.
KEEP_SENT_DAYS = 7
# What admins hear of the audit log: account and signing-key events.
ADMIN_ACTIONS = (
    AuditAction.ACCOUNT_CREATED,
    AuditAction.ACCOUNT_ENROLLED,
    AuditAction.ACCOUNT_DISABLED,
    AuditAction.ACCOUNT_ENABLED,
    AuditAction.RESET_PROPOSED,
    AuditAction.RESET_APPROVED,
    AuditAction.RESET_ON_SERVER,
    AuditAction.RECOVERY_CODES_REPLACED,
    AuditAction.RECOVERY_CODE_USED,
    AuditAction.SIGNING_KEY_SHARED,
    AuditAction.SIGNING_KEY_REPLACED,
)


def room_number(room_id: str) -> str:
    """The short number a message names a room by."""
    return room_id[:ROOM_NUMBER]


@dataclass(frozen=True)
class RoomNews:
    """One room as a message reports it: number, stage, counts, the deadline near."""

    room_id: str
    state: str
    pending: int
    flags: int
    questions: int
    # Organisations signed on; None outside sign-on.
    signons: int | None
    deadline: date | None
    days_left: int | None

    @property
    def number(self) -> str:
        """The room's short number."""
        return room_number(self.room_id)

    @property
    def deadline_near(self) -> bool:
        """The stage's deadline is within three days (or today)."""
        return self.days_left is not None and 0 <= self.days_left <= DEADLINE_WINDOW

    @property
    def reminder_lead(self) -> int | None:
        """3 or 1: which reminder is due now; None when neither is."""
        if self.days_left is None or not 0 <= self.days_left <= DEADLINE_WINDOW:
            return None
        return 1 if self.days_left <= 1 else 3

    @property
    def anything(self) -> bool:
        """Something to report."""
        return bool(self.pending or self.flags or self.questions or self.signons) or (
            self.deadline_near
        )

    def marks(self) -> list[int]:
        """The counts an immediate notice remembers."""
        return [self.pending, self.flags, self.questions, self.signons or 0]


@dataclass
class Outgoing:
    """One message to send: to whom, in which language, what it says, what it records."""

    account_id: str
    email: str
    language: str
    kind: str  # "digest" or "notice"
    rooms: list[RoomNews]
    # A deadline reminder per room named (room id -> 3 or 1), for notices.
    reminders: dict[str, int] = field(default_factory=dict)
    # Admins: how many account and signing-key events of each kind.
    events: dict[str, int] = field(default_factory=dict)
    # Recorded in StaffNoticeSent before the message leaves.
    claims: list[str] = field(default_factory=list)
    # The contact's sealed marks after this message, and before (to undo a failure).
    marks: bytes | None = None
    previous_marks: bytes | None = None


@dataclass(frozen=True)
class Gathered:
    """Everything read from the database for one run."""

    contacts: list[tuple[StaffContact, str]]
    rooms_of: dict[str, list[str]]
    news: dict[str, RoomNews]
    audit: list[tuple[str, str, date]]
    sent: set[tuple[str, str]]


def _contacts() -> Select[StaffContact, str]:
    return (
        select(StaffContact, Account.role)
        .join(Account, Account.id == StaffContact.account_id)
        .where(
            StaffContact.frequency != NoticeFrequency.NEVER,
            Account.disabled.is_(False),
            Account.role != Role.MEMBER,
            Account.wrapped_private_key.is_not(None),
        )
    )


def gather(db: Session, today: date) -> Gathered:
    """Read what every staff account that wants news should hear: a fixed number of
    statements, whatever the number of rooms, contributions or members."""
    contacts = [(row, str(role)) for row, role in db.execute(_contacts()).all()]
    wanting = select(StaffContact.account_id).where(StaffContact.frequency != NoticeFrequency.NEVER)
    rooms_of: dict[str, list[str]] = {}
    news: dict[str, RoomNews] = {}
    if contacts:
        for account_id, room_id in db.execute(
            select(RoomMember.account_id, RoomMember.room_id).where(
                RoomMember.account_id.in_(wanting), RoomMember.role == RoomRole.COORDINATOR
            )
        ):
            rooms_of.setdefault(account_id, []).append(room_id)
    live: Select[Any] = select(Room.id).where(
        Room.id.in_(
            select(RoomMember.room_id).where(
                RoomMember.account_id.in_(wanting), RoomMember.role == RoomRole.COORDINATOR
            )
        ),
        Room.sealed.is_(False),
        Room.state != RoomState.PUBLISHED,
    )
    if rooms_of:
        rooms = list(db.scalars(select(Room).where(Room.id.in_(live))))
        counts = {name: count(db, live) for name, count in OVERVIEW_COUNTS.items()}
        signons = {
            room_id: int(n)
            for room_id, n in db.execute(
                select(Endorsement.room_id, func.count())
                .where(Endorsement.room_id.in_(live))
                .group_by(Endorsement.room_id)
            )
        }
        for room in rooms:
            deadline = next_deadline(room)
            news[room.id] = RoomNews(
                room_id=room.id,
                state=room.state,
                pending=counts["pending"].get(room.id, 0),
                flags=counts["flags"].get(room.id, 0),
                questions=counts["questions"].get(room.id, 0),
                signons=signons.get(room.id, 0) if room.state == RoomState.SIGN_ON else None,
                deadline=deadline,
                days_left=(deadline - today).days if deadline is not None else None,
            )
    audit: list[tuple[str, str, date]] = []
    if any(role == Role.ADMIN for _row, role in contacts):
        audit = [
            (entry_id, action, day)
            for entry_id, action, day in db.execute(
                select(AuditEntry.id, AuditEntry.action, AuditEntry.day).where(
                    AuditEntry.day >= today - timedelta(days=1),
                    AuditEntry.action.in_([a.value for a in ADMIN_ACTIONS]),
                )
            )
        ]
    sent: set[tuple[str, str]] = set()
    if contacts:
        sent = {
            (account_id, event)
            for account_id, event in db.execute(
                select(StaffNoticeSent.account_id, StaffNoticeSent.event).where(
                    StaffNoticeSent.account_id.in_(wanting)
                )
            )
        }
    return Gathered(contacts, rooms_of, news, audit, sent)


def plan(db: Session, keys: NotificationKeys, today: date) -> list[Outgoing]:
    """The messages due now, one at most per staff account."""
    found = gather(db, today)
    outgoing: list[Outgoing] = []
    for contact, role in found.contacts:
        try:
            email = str(keys.open_for(contact.account_id, "email", contact.email))
        except CryptoError:
            # Sealed under an earlier key: the address must be given again.
            continue
        rooms = sorted(
            (found.news[r] for r in found.rooms_of.get(contact.account_id, []) if r in found.news),
            key=lambda news: (news.days_left is None, news.days_left or 0, news.number),
        )
        audit = found.audit if role == Role.ADMIN else []
        if contact.frequency == NoticeFrequency.DIGEST:
            item = _digest(keys, contact, email, rooms, audit, found.sent, today)
        else:
            item = _notice(keys, contact, email, rooms, audit, found.sent)
        if item is not None:
            outgoing.append(item)
    return outgoing


def _digest(
    keys: NotificationKeys,
    contact: StaffContact,
    email: str,
    rooms: list[RoomNews],
    audit: list[tuple[str, str, date]],
    sent: set[tuple[str, str]],
    today: date,
) -> Outgoing | None:
    claim = keys.event_hash(contact.account_id, "digest", today.isoformat())
    if (contact.account_id, claim) in sent:
        return None
    # Yesterday's events: a digest each day covers the day before in full.
    events = Counter(action for _id, action, day in audit if day == today - timedelta(days=1))
    shown = [news for news in rooms if news.anything]
    if not shown and not events:
        return None
    return Outgoing(
        account_id=contact.account_id,
        email=email,
        language=contact.language,
        kind="digest",
        rooms=shown,
        events=dict(events),
        claims=[claim],
        marks=contact.marks,
        previous_marks=contact.marks,
    )


def _opened_marks(keys: NotificationKeys, contact: StaffContact) -> dict[str, list[int]]:
    if contact.marks is None:
        return {}
    try:
        opened = keys.open_for(contact.account_id, "marks", contact.marks)
    except CryptoError:
        return {}
    return opened if isinstance(opened, dict) else {}


def _is_news(now: list[int], before: list[int] | None) -> bool:
    """More waiting, more flags, more sign-ons, or fewer unanswered questions (answers)."""
    if before is None or len(before) != len(now):
        return now[0] > 0 or now[1] > 0 or now[3] > 0
    pending, flags, questions, signons = now
    return pending > before[0] or flags > before[1] or signons > before[3] or questions < before[2]


def _notice(
    keys: NotificationKeys,
    contact: StaffContact,
    email: str,
    rooms: list[RoomNews],
    audit: list[tuple[str, str, date]],
    sent: set[tuple[str, str]],
) -> Outgoing | None:
    account_id = contact.account_id
    marks = _opened_marks(keys, contact)
    current = {news.room_id: news.marks() for news in rooms}
    claims: list[str] = []
    reminders: dict[str, int] = {}
    for news in rooms:
        lead = news.reminder_lead
        if lead is None or news.deadline is None:
            continue
        claim = keys.event_hash(
            account_id, "reminder", news.room_id, news.deadline.isoformat(), str(lead)
        )
        if (account_id, claim) not in sent:
            reminders[news.room_id] = lead
            claims.append(claim)
    changed = [
        news
        for news in rooms
        if news.room_id in reminders or _is_news(current[news.room_id], marks.get(news.room_id))
    ]
    events: Counter[str] = Counter()
    for entry_id, action, _day in audit:
        claim = keys.event_hash(account_id, "audit", entry_id)
        if (account_id, claim) not in sent:
            events[action] += 1
            claims.append(claim)
    # Sealed afresh every time (a new nonce), so the next notice's claim differs.
    new_marks = keys.seal_for(account_id, "marks", current)
    if not changed and not events:
        if marks == current:
            return None
        # Only fewer things wait: remember it silently, so the next rise is news.
        return Outgoing(
            account_id=account_id,
            email=email,
            language=contact.language,
            kind="quiet",
            rooms=[],
            marks=new_marks,
            previous_marks=contact.marks,
        )
    # Claimed under the state this run read, so two runs that read the same state
    # cannot both send; the sealed blob changes at every notice (a fresh nonce).
    base = contact.marks if contact.marks is not None else contact.email
    claims.append(keys.event_hash(account_id, "notice", hashlib.sha256(base).hexdigest()))
    return Outgoing(
        account_id=account_id,
        email=email,
        language=contact.language,
        kind="notice",
        rooms=changed,
        reminders=reminders,
        events=dict(events),
        claims=claims,
        marks=new_marks,
        previous_marks=contact.marks,
    )


def claim(db: Session, item: Outgoing, today: date) -> None:
    """Record a message as sent (before it leaves) and remember the counts it reports.

    Raises IntegrityError, on flush, when another run has claimed it already."""
    db.add_all(StaffNoticeSent(account_id=item.account_id, event=c, day=today) for c in item.claims)
    contact = db.get(StaffContact, item.account_id)
    if contact is not None:
        contact.marks = item.marks
    db.flush()


def release(db: Session, item: Outgoing) -> None:
    """Undo a claim whose message could not be sent, so the next run tries again."""
    if item.claims:
        db.execute(
            delete(StaffNoticeSent).where(
                StaffNoticeSent.account_id == item.account_id,
                StaffNoticeSent.event.in_(item.claims),
            )
        )
    contact = db.get(StaffContact, item.account_id)
    if contact is not None:
        contact.marks = item.previous_marks
    db.flush()


def prune(db: Session, today: date) -> int:
    """Forget sent events no run will look at again."""
    result = db.execute(
        delete(StaffNoticeSent).where(StaffNoticeSent.day < today - timedelta(days=KEEP_SENT_DAYS))
    )
    return int(getattr(result, "rowcount", 0) or 0)
