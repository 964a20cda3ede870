"""Since your last visit: what changed in a room for one member, and what they have seen.

What a member has seen is kept as a snapshot, never as a time: the draft's version
number, the room's stage, the ids of their own contributions already decided, of the
replies and coordinators' questions to them, of the consent checks opened and closed,
and the deadline reminders shown. It is sealed under a key derived from the member's own
author secret, padded to a fixed block size, and stored under a tag only they can
recompute (HMAC of the room id under that secret): no account id, no room id, no time.
It goes through the anonymous write mixer like every member write, queued under no
room (FEED_ROOM, like a feed), and only when it changes, so a copy of the running
server cannot tell whose it is nor when they looked.

Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.aead import decrypt, encode_fields, encrypt
from crypto.errors import CryptoError
from crypto.tags import author_tag, tags_equal
from statements.drafting.access import CONTRIBUTION_TAG, RoomAccess
from statements.drafting.contributions import contribution_record
from statements.models import (
    AuthorMessage,
    ConsentCheck,
    ConsentStatus,
    Contribution,
    ContributionStatus,
    NewsMarker,
    Reply,
    ReplyStatus,
    Room,
    RoomState,
)
from statements.writes import FEED_ROOM, NEWS_MARKER_PUT, AnonymousWrites, Write, news_marker_key

MARKER_TAG = "news-marker"
# Same purpose as statements/drafting/discussion.py's REPLY_TAG (not imported: that
# module's import graph reaches views' helpers; the string is the contract).
REPLY_TAG = "reply"
# A sealed snapshot is padded to a multiple of this, so its length says little about
# how much the member has seen.
PAD_BLOCK = 512
# Reminders: three days and one day before each deadline.
REMINDER_DAYS = (3, 1)
_KEY_SALT = b"statements/news-marker/v1"
# Ids are kept shortened: enough to tell a member's own items apart, and smaller.
_ID_CHARS = 16


def _short(ids: Iterable[str]) -> frozenset[str]:
    return frozenset(item[:_ID_CHARS] for item in ids)


@dataclass(frozen=True)
class Seen:
    """What a member had seen of a room when they last looked. Holds no time."""

    version: int
    state: str
    decided: frozenset[str] = frozenset()
    replies: frozenset[str] = frozenset()
    messages: frozenset[str] = frozenset()
    checks_open: frozenset[str] = frozenset()
    checks_closed: frozenset[str] = frozenset()
    reminders: frozenset[str] = frozenset()

    def to_bytes(self) -> bytes:
        """Canonical JSON, padded to a multiple of PAD_BLOCK with spaces."""
        body = json.dumps(
            {
                "v": self.version,
                "s": self.state,
                "d": sorted(self.decided),
                "r": sorted(self.replies),
                "m": sorted(self.messages),
                "o": sorted(self.checks_open),
                "c": sorted(self.checks_closed),
                "n": sorted(self.reminders),
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        return body + b" " * (-len(body) % PAD_BLOCK)

    @classmethod
    def from_bytes(cls, data: bytes) -> Seen:
        """Inverse of to_bytes."""
        body = json.loads(data)
        return cls(
            version=int(body["v"]),
            state=str(body["s"]),
            decided=frozenset(body["d"]),
            replies=frozenset(body["r"]),
            messages=frozenset(body["m"]),
            checks_open=frozenset(body["o"]),
            checks_closed=frozenset(body["c"]),
            reminders=frozenset(body["n"]),
        )


@dataclass(frozen=True)
class Decision:
    """One of the member's own contributions, decided since they last looked."""

    contribution_id: str
    anchor: str | None
    kind: str
    status: str
    # For a rejection, the coordinators' reason and note (only on the room page, which
    # has the room key).
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Reminder:
    """A deadline within three days: which one, and when."""

    kind: str  # "contributions" or "signon"
    deadline: date
    days: int


@dataclass
class News:
    """What changed for a member since they last looked at a room."""

    # True when there was no snapshot yet: nothing to compare with, so nothing is news.
    first: bool = False
    decisions: list[Decision] = field(default_factory=list)
    versions: int = 0
    replies: int = 0
    messages: int = 0
    checks_opened: int = 0
    checks_closed: int = 0
    signon_opened: bool = False
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to tell."""
        return not (
            self.decisions
            or self.versions
            or self.replies
            or self.messages
            or self.checks_opened
            or self.checks_closed
            or self.signon_opened
            or self.reminders
        )


# --- sealing ------------------------------------------------------------------------------


def marker_tag(author_secret: bytes, room_id: str) -> bytes:
    """The member's tag for their marker in a room: only their author secret makes it."""
    return author_tag(author_secret, MARKER_TAG, room_id)


def _marker_key(author_secret: bytes) -> bytes:
    # HKDF of the author secret, with a label of its own: the key never doubles as a tag.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_KEY_SALT, info=b"seal").derive(
        author_secret
    )


def seal_seen(author_secret: bytes, tag: bytes, seen: Seen) -> bytes:
    """Encrypt a snapshot under the member's marker key, bound to its tag."""
    return encrypt(_marker_key(author_secret), seen.to_bytes(), encode_fields(MARKER_TAG, tag))


def open_seen(author_secret: bytes, tag: bytes, sealed: bytes) -> Seen | None:
    """The snapshot, or None if it cannot be opened (another key, a swapped row)."""
    try:
        data = decrypt(_marker_key(author_secret), sealed, encode_fields(MARKER_TAG, tag))
        return Seen.from_bytes(data)
    except (CryptoError, ValueError, KeyError, TypeError):
        return None


def stored_seen(
    db: Session, author_secret: bytes, room_id: str, writes: AnonymousWrites
) -> Seen | None:
    """What the member had seen: their queued marker if one waits, else the stored one."""
    tag = marker_tag(author_secret, room_id)
    key = news_marker_key(tag)
    # Queued under no room (see room_news): the queue must not say whose room it is.
    for write in writes.pending(FEED_ROOM):
        if write.key == key and write.action == NEWS_MARKER_PUT:
            return open_seen(author_secret, tag, bytes(write.row["sealed"]))
    row = db.get(NewsMarker, tag)
    return open_seen(author_secret, tag, row.sealed) if row is not None else None


# --- what is there now --------------------------------------------------------------------


@dataclass(frozen=True)
class _Now:
    room: Room
    # (id, anchor, kind, status) of the member's own decided contributions.
    own_decided: list[tuple[str, str | None, str, str]]
    replies: frozenset[str]
    messages: frozenset[str]
    checks_open: frozenset[str]
    checks_closed: frozenset[str]
    reminders: list[tuple[str, Reminder]]


def reminders_for(room: Room, today: date) -> list[tuple[str, Reminder]]:
    """The deadline reminders due in a room today, each with the key that marks it seen."""
    due: list[tuple[str, Reminder]] = []
    deadlines = []
    if room.state == RoomState.DRAFTING:
        deadlines.append(("contributions", room.contribution_deadline))
    if room.state in (RoomState.DRAFTING, RoomState.CONSOLIDATING, RoomState.SIGN_ON):
        deadlines.append(("signon", room.signon_deadline))
    for kind, deadline in deadlines:
        days = (deadline - today).days
        if days < 0:
            continue
        # The nearest reminder reached: one day before, else three days before.
        stage = next((d for d in sorted(REMINDER_DAYS) if days <= d), None)
        if stage is not None:
            due.append((f"{kind}:{deadline.isoformat()}:{stage}", Reminder(kind, deadline, days)))
    return due


def _now(db: Session, author_secret: bytes, room: Room, today: date) -> _Now:
    """The room as it stands, as far as this member's news goes: a few queries."""
    own: list[tuple[str, str | None, str, str]] = []
    own_ids: set[str] = set()
    # Not the ciphertexts: only what finds the member's own, and what the news names.
    for cid, tag, anchor, kind, status in db.execute(
        select(
            Contribution.id,
            Contribution.author_tag,
            Contribution.anchor,
            Contribution.kind,
            Contribution.status,
        ).where(Contribution.room_id == room.id)
    ):
        if tags_equal(bytes(tag), author_tag(author_secret, CONTRIBUTION_TAG, cid)):
            own_ids.add(cid)
            if status != ContributionStatus.PENDING:
                own.append((cid, anchor, kind, status))
    replies: set[str] = set()
    mine_replies: set[str] = set()
    shown: list[Reply] = []
    for reply in db.scalars(
        select(Reply).where(Reply.room_id == room.id, Reply.status != ReplyStatus.HIDDEN)
    ):
        if tags_equal(reply.author_tag, author_tag(author_secret, REPLY_TAG, reply.id)):
            mine_replies.add(reply.id)
        elif reply.status == ReplyStatus.SHOWN:
            shown.append(reply)
    for reply in shown:
        to_me = reply.parent_id in mine_replies if reply.parent_id else False
        if to_me or (reply.parent_id is None and reply.contribution_id in own_ids):
            replies.add(reply.id)
    messages = set()
    if own_ids:
        messages = set(
            db.scalars(
                select(AuthorMessage.id).where(
                    AuthorMessage.room_id == room.id,
                    AuthorMessage.contribution_id.in_(own_ids),
                )
            )
        )
    checks_open: set[str] = set()
    checks_closed: set[str] = set()
    for check_id, status in db.execute(
        select(ConsentCheck.id, ConsentCheck.status).where(ConsentCheck.room_id == room.id)
    ):
        (checks_open if status == ConsentStatus.OPEN else checks_closed).add(check_id)
    return _Now(
        room=room,
        own_decided=own,
        replies=_short(replies),
        messages=_short(messages),
        checks_open=_short(checks_open),
        checks_closed=_short(checks_closed),
        reminders=reminders_for(room, today),
    )


def _snapshot(now: _Now, before: Seen | None) -> Seen:
    # Reminders already shown stay seen while their deadline stands.
    shown = {key for key, _ in now.reminders}
    if before is not None:
        # Only while the deadline they were for stands: a moved deadline reminds anew.
        current = {
            f"contributions:{now.room.contribution_deadline.isoformat()}",
            f"signon:{now.room.signon_deadline.isoformat()}",
        }
        shown |= {key for key in before.reminders if key.rsplit(":", 1)[0] in current}
    return Seen(
        version=now.room.current_version,
        state=now.room.state,
        decided=_short(cid for cid, *_rest in now.own_decided),
        replies=now.replies,
        messages=now.messages,
        checks_open=now.checks_open,
        checks_closed=now.checks_closed,
        reminders=frozenset(shown),
    )


def _news(now: _Now, before: Seen | None) -> News:
    if before is None:
        # Nothing to compare with: only a deadline that is near is news.
        return News(first=True, reminders=[r for _, r in now.reminders])
    news = News()
    news.decisions = [
        Decision(cid, anchor, kind, status)
        for cid, anchor, kind, status in now.own_decided
        if cid[:_ID_CHARS] not in before.decided
    ]
    news.versions = max(0, now.room.current_version - before.version)
    news.replies = len(now.replies - before.replies)
    news.messages = len(now.messages - before.messages)
    news.checks_opened = len(now.checks_open - before.checks_open - before.checks_closed)
    news.checks_closed = len(now.checks_closed - before.checks_closed)
    news.signon_opened = now.room.state == RoomState.SIGN_ON and before.state != RoomState.SIGN_ON
    news.reminders = [r for key, r in now.reminders if key not in before.reminders]
    return news


# --- for pages ----------------------------------------------------------------------------


def room_news(db: Session, access: RoomAccess, today: date, *, mark_seen: bool = True) -> News:
    """What changed in this room for this member since they last looked, with the reasons
    of rejections; then, if asked, records what they have now seen (only if it changed)."""
    secret = access.identity.keys.author_secret
    writes = access.anonymous(db)
    before = stored_seen(db, secret, access.room.id, writes)
    now = _now(db, secret, access.room, today)
    news = _news(now, before)
    if news.decisions:
        # Only the newly decided are read whole, for their reasons.
        ids = [d.contribution_id for d in news.decisions]
        rows = {
            row.id: row for row in db.scalars(select(Contribution).where(Contribution.id.in_(ids)))
        }
        news.decisions = [
            _with_reason(access, rows[d.contribution_id], d) if d.contribution_id in rows else d
            for d in news.decisions
        ]
    if mark_seen:
        after = _snapshot(now, before)
        if after != before:
            tag = marker_tag(secret, access.room.id)
            writes.put(
                Write(
                    key=news_marker_key(tag),
                    # Not the room's id: a copy of the queue (Redis, the spool file) would
                    # tie the tag to the room, and a flush of the room's writes before
                    # publishing would commit its markers in a batch of that room alone.
                    room_id=FEED_ROOM,
                    action=NEWS_MARKER_PUT,
                    row={"tag": tag, "sealed": seal_seen(secret, tag, after)},
                )
            )
    return news


def _with_reason(access: RoomAccess, row: Contribution, decision: Decision) -> Decision:
    if row.status != ContributionStatus.REJECTED or not row.decision:
        return decision
    try:
        opened = access.keyring.open(
            "decision", contribution_record(row), row.decision_key_version or 0, row.decision
        )
    except CryptoError:
        return decision
    reason, note = opened.get("reason"), opened.get("note")
    return Decision(
        decision.contribution_id,
        decision.anchor,
        decision.kind,
        decision.status,
        str(reason) if reason else None,
        str(note) if note else None,
    )


def rooms_news(
    db: Session,
    author_secret: bytes,
    rooms: Sequence[Room],
    today: date,
    writes: AnonymousWrites,
) -> dict[str, News]:
    """News of each room for the room list: counts only (no room key needed), and
    nothing marked seen: the member sees the details on the room page."""
    result: dict[str, News] = {}
    for room in rooms:
        if room.sealed:
            continue
        before = stored_seen(db, author_secret, room.id, writes)
        result[room.id] = _news(_now(db, author_secret, room, today), before)
    return result
