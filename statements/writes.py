"""Members' anonymous writes: queued, then committed in shuffled batches at random times.

Why (DESIGN.md, A2): a database keeps traces of the order it wrote things in and of what
it wrote together. PostgreSQL stamps every row with the id of the transaction that wrote
it (`xmin`), and SQLite's `-wal` file keeps recent commits in order. Were a contribution
committed by the request that submitted it, a copy of the running server's files would
place it next to that member's sign-up, sign-in or last contribution. So a request that
contributes, supports, endorses, edits or withdraws does not write that to the database:
it validates it, seals it, and puts a `Write` into a queue that names no account. A
mixer commits the queue as one batch, in random order, at random intervals, in a
transaction that holds nothing else. The database then shows only "these writes were
made during this interval", never by whom, nor in what order.

The queue is shared by every worker and outlives any one of them: Redis when it is
configured (kept in memory only), otherwise a small SQLite spool file beside the
instance's files. Nothing in it is readable: it holds the same ciphertexts and tags the
tables will. A batch is claimed, applied in one transaction and only then removed; a
worker that dies on the way leaves the batch to be applied again, and applying is
idempotent (every write is keyed, and re-applying one changes nothing).

Members see their own queued writes at once (they are theirs by tag: `pending`).
Pure: no flask import; the app wires it in statements/mixing.py.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from statements.models import (
    AuthorAnswer,
    AuthorMessage,
    CommitmentSecret,
    ConsentAnswer,
    ConsentCheck,
    ConsentStatus,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Endorsement,
    EndorsementKind,
    Flag,
    LanguageChoice,
    MemberFeed,
    NewsMarker,
    Objection,
    Reply,
    ReplyFlag,
    ReplyStatus,
    Room,
    RoomState,
    Support,
)

log = logging.getLogger(__name__)

# The batch thread waits for this many writes, for at most this many rounds.
MIN_BATCH = 3
MAX_ROUNDS_WAITING = 4

CONTRIBUTION_PUT = "contribution.put"
# New wording for a stored contribution: it never creates one (a withdrawal may have won).
CONTRIBUTION_EDIT = "contribution.edit"
CONTRIBUTION_DELETE = "contribution.delete"
SUPPORT_PUT = "support.put"
SUPPORT_DELETE = "support.delete"
ENDORSEMENT_PUT = "endorsement.put"
ENDORSEMENT_DELETE = "endorsement.delete"
# A member asks the coordinators for a safety review of a pending contribution.
FLAG_PUT = "flag.put"

# --- agreement (statements/drafting/agreement.py) ---------------------------------------
# A member's objection to a proposal, with its sealed reason. It shares the queue key of
# the member's support of that proposal (support_key), so a later support replaces a
# queued objection and the other way round; applying one removes the other (support XOR
# objection), which is why each write carries the member's tag of the other kind.
OBJECTION_PUT = "objection.put"
OBJECTION_DELETE = "objection.delete"
# A member's answer to a consent check (sealed answer and reason), changeable while open.
CONSENT_ANSWER_PUT = "consent.answer.put"
# A closed check's answers are deleted by the mixer, not by the coordinator's request: an
# anonymous row's deletion must not share a transaction with a login session's write.
CONSENT_PURGE = "consent.purge"
AGREEMENT_ACTIONS = frozenset({OBJECTION_PUT, OBJECTION_DELETE, CONSENT_ANSWER_PUT, CONSENT_PURGE})
# --- end of agreement -------------------------------------------------------------------

ACTIONS = frozenset(
    {
        *AGREEMENT_ACTIONS,
        FLAG_PUT,
        CONTRIBUTION_PUT,
        CONTRIBUTION_EDIT,
        CONTRIBUTION_DELETE,
        SUPPORT_PUT,
        SUPPORT_DELETE,
        ENDORSEMENT_PUT,
        ENDORSEMENT_DELETE,
    }
)

# --- discussion: replies, their flags, and authors' answers (statements/drafting/discussion.py)
# A reply in a contribution's thread, by a member or (marked as the secretariat's) a coordinator.
REPLY_PUT = "reply.put"
# A member asks for a safety review of a reply.
REPLY_FLAG_PUT = "reply_flag.put"
# A contribution's author answers a coordinator's private question (or changes the answer).
AUTHOR_ANSWER_PUT = "author_answer.put"
DISCUSSION_ACTIONS = frozenset({REPLY_PUT, REPLY_FLAG_PUT, AUTHOR_ANSWER_PUT})
ACTIONS = ACTIONS | DISCUSSION_ACTIONS

# --- the multilingual room (statements/drafting/room_languages.py) ----------------------
# A member's choice of the working language they read a room in: a tag and a sealed code.
# Queued under FEED_ROOM, not its room's id, like a news marker (see below).
LANGUAGE_CHOICE_PUT = "language_choice.put"
ACTIONS = ACTIONS | {LANGUAGE_CHOICE_PUT}
# --- members' news (statements/news/) ---------------------------------------------------
# What a member had seen of a room ("since your last visit"): a tag and a sealed snapshot.
# Queued under FEED_ROOM, not its room's id: the queue must not tie the tag to a room.
NEWS_MARKER_PUT = "news.marker.put"
# A member's private feed address: created or replaced, and revoked. Not a room's write:
# its room_id is FEED_ROOM, and it is applied whatever state any room is in.
FEED_PUT = "feed.put"
FEED_DELETE = "feed.delete"
FEED_ROOM = ""
NEWS_ACTIONS = frozenset({NEWS_MARKER_PUT, FEED_PUT, FEED_DELETE})
ACTIONS = ACTIONS | NEWS_ACTIONS
# --- anonymous endorsements each signer can check (statements/publishing/commitments.py)
# The secret behind a member's anonymous endorsement: a tag and the sealed secret. Queued
# under FEED_ROOM like a language choice, so the queue does not tie the tag to its room.
COMMITMENT_KEEP = "commitment.keep"
COMMITMENT_FORGET = "commitment.forget"
COMMITMENT_ACTIONS = frozenset({COMMITMENT_KEEP, COMMITMENT_FORGET})
ACTIONS = ACTIONS | COMMITMENT_ACTIONS


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b": base64.b64encode(value).decode()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "b" in value:
            return base64.b64decode(value["b"])
        if "d" in value:
            return date.fromisoformat(value["d"])
    return value


@dataclass(frozen=True)
class Write:
    """One anonymous write, as it will be applied. It names no account.

    `key` says what it writes to: a later write with the same key replaces a queued one,
    so the queue never needs an order (which would be an order of requests).
    """

    key: str
    room_id: str
    action: str
    row: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Serialise for the queue."""
        body = {"room": self.room_id, "action": self.action}
        body["row"] = {name: _encode(value) for name, value in self.row.items()}  # type: ignore[assignment]
        return json.dumps(body, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, key: str, data: bytes) -> Write:
        """Inverse of to_bytes."""
        body = json.loads(data)
        row = {name: _decode(value) for name, value in body["row"].items()}
        return cls(key=key, room_id=str(body["room"]), action=str(body["action"]), row=row)


def contribution_key(contribution_id: str) -> str:
    """The queue key of a contribution."""
    return f"contribution:{contribution_id}"


def support_key(contribution_id: str, tag: bytes) -> str:
    """The queue key of one member's support for a contribution."""
    return f"support:{contribution_id}:{tag.hex()}"


def flag_key(contribution_id: str, tag: bytes) -> str:
    """The queue key of one member's flag on a contribution."""
    return f"flag:{contribution_id}:{tag.hex()}"


def consent_answer_key(check_id: str, tag: bytes) -> str:
    """The queue key of one member's answer to a consent check."""
    return f"consent:{check_id}:{tag.hex()}"


def consent_purge_key(check_id: str) -> str:
    """The queue key of the deletion of a closed check's answers."""
    return f"consent-purge:{check_id}"


def language_choice_key(tag: bytes) -> str:
    """The queue key of one member's reading language in one room."""
    return f"language:{tag.hex()}"


def news_marker_key(tag: bytes) -> str:
    """The queue key of one member's marker for one room."""
    return f"news-marker:{tag.hex()}"


def feed_key(owner_tag: bytes) -> str:
    """The queue key of one member's feed (a put and a delete replace each other)."""
    return f"feed:{owner_tag.hex()}"


def commitment_secret_key(tag: bytes) -> str:
    """The queue key of the secret behind one member's anonymous endorsement in a room."""
    return f"commitment-secret:{tag.hex()}"


def endorsement_key(room_id: str, tag: bytes) -> str:
    """The queue key of one member's endorsement in a room."""
    return f"endorsement:{room_id}:{tag.hex()}"


class QueueBusy(RuntimeError):
    """The queued writes could not all be committed in time (another worker holds them)."""


def endorsement_withdrawal(room_id: str, tag: bytes) -> Write:
    """The write that takes back one member's endorsement in a room."""
    return Write(
        key=endorsement_key(room_id, tag),
        room_id=room_id,
        action=ENDORSEMENT_DELETE,
        row={"tag": tag},
    )


# --- applying -------------------------------------------------------------------------


def apply_write(db: Session, write: Write) -> None:
    """Apply one write. Idempotent; a write the room no longer allows is dropped.

    Everything a member could be refused was checked when they asked; what is checked
    here is only what may have changed since (a moderation decision, a sealed room).
    """
    row = write.row
    if write.action in NEWS_ACTIONS:
        _apply_news(db, write)
        db.flush()
        return
    if write.action == LANGUAGE_CHOICE_PUT:
        # Queued under no room (room_languages.py): only a tag and a sealed code.
        choice = db.get(LanguageChoice, bytes(row["tag"]))
        if choice is None:
            db.add(LanguageChoice(tag=bytes(row["tag"]), content=row["content"]))
        else:
            choice.content = row["content"]
        db.flush()
        return
    if write.action in COMMITMENT_ACTIONS:
        # Queued under no room: only a tag and a sealed secret, kept after publication
        # (the member checks their endorsement against the signed bundle with it).
        secret = db.get(CommitmentSecret, bytes(row["tag"]))
        if write.action == COMMITMENT_FORGET:
            if secret is not None:
                db.delete(secret)
        elif secret is None:
            db.add(CommitmentSecret(tag=bytes(row["tag"]), sealed=bytes(row["sealed"])))
        else:
            secret.sealed = bytes(row["sealed"])
        db.flush()
        return
    room = db.get(Room, write.room_id)
    if room is None or room.sealed:
        return
    if write.action in (CONTRIBUTION_PUT, CONTRIBUTION_EDIT):
        existing = db.get(Contribution, row["id"])
        if existing is None and write.action == CONTRIBUTION_PUT:
            translates = row.get("translates")
            if translates is not None and not _translatable(db, write.room_id, translates):
                # Its original was withdrawn before it landed: its words went with it.
                return
            db.add(Contribution(status=ContributionStatus.PENDING, **row))
        elif existing is None:
            return
        elif existing.status == ContributionStatus.PENDING and existing.author_tag == bytes(
            row["author_tag"]
        ):
            if existing.content != row["content"] and write.action == CONTRIBUTION_EDIT:
                # Its supporters agreed with other words: new words start with none.
                db.execute(delete(Support).where(Support.contribution_id == existing.id))
                # Nor do objections to other words stand against these.
                db.execute(delete(Objection).where(Objection.contribution_id == existing.id))
                # Nor do translations of the old words keep them (sealed, but kept).
                _delete_translations_of(db, write.room_id, [existing.id])
            existing.content = row["content"]
            existing.key_version = row["key_version"]
    elif write.action == CONTRIBUTION_DELETE:
        existing = db.get(Contribution, row["id"])
        if (
            existing is not None
            and existing.status == ContributionStatus.PENDING
            and existing.author_tag == bytes(row["author_tag"])
        ):
            # Its translations carry its words, and those of the replies going with it.
            replies = db.scalars(select(Reply.id).where(Reply.contribution_id == existing.id))
            _delete_translations_of(db, write.room_id, [existing.id, *replies])
            db.delete(existing)
    elif write.action == SUPPORT_PUT:
        target = db.get(Contribution, row["contribution_id"])
        if target is not None and target.status == ContributionStatus.PENDING:
            if "objection_tag" in row:
                # One stance per member: supporting takes back their objection.
                _delete_objection(db, row["contribution_id"], row["objection_tag"])
            if db.get(Support, (row["contribution_id"], row["tag"])) is None:
                db.add(Support(contribution_id=row["contribution_id"], tag=row["tag"]))
    elif write.action == SUPPORT_DELETE:
        db.execute(
            delete(Support).where(
                Support.contribution_id == row["contribution_id"], Support.tag == row["tag"]
            )
        )
    elif write.action == FLAG_PUT:
        # Only a pending contribution waits for review; a decided one needs no flag.
        target = db.get(Contribution, row["contribution_id"])
        if (
            target is not None
            and target.room_id == write.room_id
            and target.status == ContributionStatus.PENDING
            and db.get(Flag, (row["contribution_id"], row["tag"])) is None
        ):
            db.add(Flag(contribution_id=row["contribution_id"], tag=row["tag"]))
    elif write.action == ENDORSEMENT_PUT:
        if room.state != RoomState.SIGN_ON:
            return
        endorsement = db.scalar(
            select(Endorsement).where(
                Endorsement.room_id == write.room_id, Endorsement.tag == row["tag"]
            )
        )
        if endorsement is not None and endorsement.id != row["id"]:
            db.delete(endorsement)
            db.flush()
            endorsement = None
        commitment = row.get("commitment")
        if commitment is None and row["kind"] == EndorsementKind.ANONYMOUS:
            # Queued before commitments existed: counted, with a secret nobody keeps.
            commitment = secrets.token_bytes(32)
        if endorsement is None:
            db.add(Endorsement(room_id=write.room_id, **{**row, "commitment": commitment}))
        else:
            endorsement.kind = row["kind"]
            endorsement.key_version = row["key_version"]
            endorsement.content = row["content"]
            endorsement.commitment = commitment
    elif write.action == ENDORSEMENT_DELETE:
        if room.state != RoomState.SIGN_ON:
            return
        db.execute(
            delete(Endorsement).where(
                Endorsement.room_id == write.room_id, Endorsement.tag == row["tag"]
            )
        )
    elif write.action in AGREEMENT_ACTIONS:
        _apply_agreement(db, write)
    elif write.action in DISCUSSION_ACTIONS:
        _apply_discussion(db, room, write)
    else:
        raise ValueError("unknown write")
    db.flush()


def _translatable(db: Session, room_id: str, target_id: str) -> bool:
    """Whether the contribution or reply a translation names is still in its room."""
    target = db.get(Contribution, target_id) or db.get(Reply, target_id)
    return target is not None and target.room_id == room_id


def _delete_translations_of(db: Session, room_id: str, target_ids: list[str]) -> None:
    """Delete the translations of these contributions or replies: each carries the words
    it translates (sealed under a room key the anonymous writes do not hold, so they
    cannot be overwritten; deleting them needs no key)."""
    db.execute(
        delete(Contribution).where(
            Contribution.room_id == room_id,
            Contribution.kind == ContributionKind.TRANSLATION,
            Contribution.translates.in_(target_ids),
        )
    )


def _delete_objection(db: Session, contribution_id: str, tag: bytes) -> None:
    db.execute(
        delete(Objection).where(
            Objection.contribution_id == contribution_id, Objection.tag == bytes(tag)
        )
    )


def _apply_agreement(db: Session, write: Write) -> None:
    """Objections and consent answers (see AGREEMENT_ACTIONS)."""
    row = write.row
    if write.action == OBJECTION_PUT:
        target = db.get(Contribution, row["contribution_id"])
        if (
            target is None
            or target.room_id != write.room_id
            or target.status != ContributionStatus.PENDING
        ):
            return
        # One stance per member: objecting takes back their support.
        db.execute(
            delete(Support).where(
                Support.contribution_id == target.id, Support.tag == bytes(row["support_tag"])
            )
        )
        existing = db.get(Objection, (target.id, bytes(row["tag"])))
        if existing is None:
            db.add(
                Objection(
                    contribution_id=target.id,
                    tag=bytes(row["tag"]),
                    key_version=row["key_version"],
                    reason=row["reason"],
                )
            )
        else:
            existing.key_version = row["key_version"]
            existing.reason = row["reason"]
    elif write.action == OBJECTION_DELETE:
        _delete_objection(db, row["contribution_id"], row["tag"])
    elif write.action == CONSENT_ANSWER_PUT:
        room = db.get(Room, write.room_id)
        check = db.get(ConsentCheck, row["check_id"])
        # An answer queued before its check closed still goes in with its batch: closing
        # never forces the queue (statements/mixing.py), and the results are counted only
        # once no answer to the check waits. After they are counted, it is not stored.
        if (
            room is None
            or check is None
            or check.room_id != write.room_id
            or check.results is not None
            or (
                check.status == ConsentStatus.OPEN
                and room.state not in (RoomState.DRAFTING, RoomState.CONSOLIDATING)
            )
        ):
            return
        answer = db.get(ConsentAnswer, (check.id, bytes(row["tag"])))
        if answer is None:
            db.add(
                ConsentAnswer(
                    check_id=check.id,
                    tag=bytes(row["tag"]),
                    key_version=row["key_version"],
                    content=row["content"],
                )
            )
        else:
            answer.key_version = row["key_version"]
            answer.content = row["content"]
    elif write.action == CONSENT_PURGE:
        check = db.get(ConsentCheck, row["check_id"])
        # Only a counted check's: its results are sealed, the answers are no longer needed.
        if check is not None and check.status == ConsentStatus.CLOSED and check.results is not None:
            db.execute(delete(ConsentAnswer).where(ConsentAnswer.check_id == check.id))


def _apply_news(db: Session, write: Write) -> None:
    """Markers and feeds (see NEWS_ACTIONS): keyed by member-only tags, replaced whole."""
    row = write.row
    if write.action == NEWS_MARKER_PUT:
        # Its room is not known here (FEED_ROOM): a marker is only a tag and a sealed
        # snapshot, harmless also when its room was sealed meanwhile.
        marker = db.get(NewsMarker, bytes(row["tag"]))
        if marker is None:
            db.add(NewsMarker(tag=bytes(row["tag"]), sealed=bytes(row["sealed"])))
        else:
            marker.sealed = bytes(row["sealed"])
    elif write.action == FEED_PUT:
        feed = db.get(MemberFeed, bytes(row["owner_tag"]))
        if feed is not None:
            # A replaced address stops working in the same transaction the new one starts.
            db.delete(feed)
            db.flush()
        db.add(
            MemberFeed(
                owner_tag=bytes(row["owner_tag"]),
                address_hash=bytes(row["address_hash"]),
                nonce=bytes(row["nonce"]),
                sealed=bytes(row["sealed"]),
            )
        )
    elif write.action == FEED_DELETE:
        db.execute(delete(MemberFeed).where(MemberFeed.owner_tag == bytes(row["owner_tag"])))


# --- applying discussion writes ---------------------------------------------------------------

# Replies are written while contributions can still change; later, threads are closed.
_DISCUSSION_STATES = (RoomState.DRAFTING, RoomState.CONSOLIDATING)


def _apply_discussion(db: Session, room: Room, write: Write) -> None:
    """Apply a reply, a reply's flag or an author's answer; drop what no longer applies.

    The service checked everything when the member asked; here only what may have
    changed since: the room's stage, a hidden contribution or reply, a withdrawal.
    """
    row = write.row
    if write.action == REPLY_PUT:
        target = db.get(Contribution, row["contribution_id"])
        if (
            room.state not in _DISCUSSION_STATES
            or target is None
            or target.room_id != room.id
            or target.status == ContributionStatus.HIDDEN
            or db.get(Reply, row["id"]) is not None
        ):
            return
        if row.get("parent_id") is not None:
            parent = db.get(Reply, row["parent_id"])
            if (
                parent is None
                or parent.contribution_id != target.id
                or parent.status == ReplyStatus.HIDDEN
            ):
                return
        db.add(Reply(**row))
    elif write.action == REPLY_FLAG_PUT:
        reply = db.get(Reply, row["reply_id"])
        if (
            reply is not None
            and reply.room_id == room.id
            and reply.status != ReplyStatus.HIDDEN
            and db.get(ReplyFlag, (row["reply_id"], row["tag"])) is None
        ):
            db.add(ReplyFlag(reply_id=row["reply_id"], tag=row["tag"]))
    elif write.action == AUTHOR_ANSWER_PUT:
        message = db.get(AuthorMessage, row["message_id"])
        if message is None or message.room_id != room.id:
            return
        asked = db.get(Contribution, message.contribution_id)
        # Only the contribution's author can answer: their tag is its author tag.
        if asked is None or asked.author_tag != bytes(row["author_tag"]):
            return
        answer = db.get(AuthorAnswer, row["message_id"])
        if answer is None:
            db.add(
                AuthorAnswer(
                    message_id=row["message_id"],
                    key_version=row["key_version"],
                    content=row["content"],
                )
            )
        else:
            answer.key_version = row["key_version"]
            answer.content = row["content"]


def apply_batch(db: Session, writes: Iterable[Write], rng: random.Random) -> int:
    """Apply writes in random order; one that conflicts is dropped, not the batch."""
    batch = list(writes)
    rng.shuffle(batch)
    applied = 0
    for write in batch:
        try:
            with db.begin_nested():
                apply_write(db, write)
            applied += 1
        except IntegrityError:
            # Another write got there first (two supports from two tabs): nothing lost.
            log.warning("a queued write conflicted and was dropped")
    return applied


class AnonymousWrites(Protocol):
    """Where services put members' anonymous writes, and find their own queued ones."""

    def put(self, write: Write) -> None:
        """Queue (or apply) a write."""

    def pending(self, room_id: str) -> list[Write]:
        """Writes for a room not yet in the database."""


class DirectWrites:
    """Applies each write at once, in the caller's transaction: for service-level use
    (tests, the command line), where there is no request to hide."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def put(self, write: Write) -> None:
        """Apply now."""
        apply_write(self.db, write)

    def pending(self, room_id: str) -> list[Write]:
        """Nothing waits."""
        return []


# --- queues ---------------------------------------------------------------------------


class Queue(Protocol):
    """A shared, durable queue of writes keyed for coalescing."""

    def put(self, write: Write) -> None:
        """Add a write, replacing a queued one with the same key."""

    def pending(self) -> list[Write]:
        """Every queued write."""

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Claim a batch, apply it (apply commits), then remove it. Returns its size.

        With a room, the batch is only that room's writes: flushing one room before it
        publishes must not commit other rooms' writes in a batch too small to hide them.
        """


class SpoolQueue:
    """A SQLite file of queued writes, shared by the workers of one host.

    Rows are keyed, WITHOUT ROWID and deleted with secure_delete, so the file holds no
    order and nothing once a batch is in; its journal is deleted after each transaction.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS writes ("
                " key TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID"
            )

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA secure_delete=ON")
        return connection

    def put(self, write: Write) -> None:
        """Add or replace."""
        connection = self._connect()
        try:
            connection.execute(
                "INSERT INTO writes (key, body) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET body = excluded.body",
                (write.key, write.to_bytes()),
            )
        finally:
            connection.close()

    def pending(self) -> list[Write]:
        """Everything queued."""
        connection = self._connect()
        try:
            rows = connection.execute("SELECT key, body FROM writes").fetchall()
        finally:
            connection.close()
        return [Write.from_bytes(key, body) for key, body in rows]

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Hold the spool's write lock while the batch is applied, then remove it."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute("SELECT key, body FROM writes").fetchall()
            batch = [Write.from_bytes(key, body) for key, body in rows]
            if room_id is not None:
                batch = [write for write in batch if write.room_id == room_id]
            if not batch:
                connection.execute("ROLLBACK")
                return 0
            apply(batch)
            connection.executemany(
                "DELETE FROM writes WHERE key = ?", [(write.key,) for write in batch]
            )
            connection.execute("COMMIT")
            return len(batch)
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# Removes the applied batch only while its worker still holds the lease: one that
# outlived it may find in flight a later batch that another worker claimed and has not
# applied yet. What it leaves is applied again by the next holder (applying is idempotent).
_DONE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[2]) end
return 0
"""


# Moves one room's queued writes to the in-flight hash, in one step: a write queued
# meanwhile with the same key cannot be lost between reading and removing it.
_CLAIM_ROOM = """
local items = redis.call('hgetall', KEYS[1])
local moved = 0
for i = 1, #items, 2 do
  if cjson.decode(items[i + 1])['room'] == ARGV[1] then
    redis.call('hset', KEYS[2], items[i], items[i + 1])
    redis.call('hdel', KEYS[1], items[i])
    moved = moved + 1
  end
end
return moved
"""


class RedisQueue:
    """A Redis hash of queued writes, shared by every worker and host.

    A batch is renamed to an in-flight hash under a lease; if its worker dies before
    deleting it, the next one to hold the lease applies it again.
    """

    LEASE_SECONDS = 60

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.writes = f"{prefix}:mix:writes"
        self.inflight = f"{prefix}:mix:inflight"
        self.lease = f"{prefix}:mix:lease"

    def put(self, write: Write) -> None:
        """Add or replace."""
        self.client.hset(self.writes, write.key, write.to_bytes())

    def pending(self) -> list[Write]:
        """In-flight writes, then newer queued ones over them."""
        # Both hashes in one transaction: a batch claimed between two separate reads
        # would be in neither, and the member's own queued write would seem not to exist.
        pipeline = self.client.pipeline(transaction=True)
        pipeline.hgetall(self.inflight)
        pipeline.hgetall(self.writes)
        found: dict[str, Write] = {}
        for items in pipeline.execute():
            for key, body in items.items():
                text = key.decode() if isinstance(key, bytes) else str(key)
                found[text] = Write.from_bytes(text, body)
        return list(found.values())

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Take the lease, claim a batch (or a dead worker's), apply it, remove it."""
        token = secrets.token_hex(16)
        if not self.client.set(self.lease, token, nx=True, ex=self.LEASE_SECONDS):
            return 0
        try:
            if not self.client.exists(self.inflight):
                if not self.client.exists(self.writes):
                    return 0
                if room_id is None:
                    self.client.rename(self.writes, self.inflight)
                elif not self.client.eval(_CLAIM_ROOM, 2, self.writes, self.inflight, room_id):
                    return 0
            items = self.client.hgetall(self.inflight)
            writes = []
            for key, body in items.items():
                text = key.decode() if isinstance(key, bytes) else str(key)
                writes.append(Write.from_bytes(text, body))
            if writes:
                apply(writes)
            self.client.eval(_DONE, 2, self.lease, self.inflight, token)
            return len(writes)
        finally:
            self.client.eval(_RELEASE, 1, self.lease, token)


# --- the mixer ------------------------------------------------------------------------


class Mixer:
    """Queues members' anonymous writes and commits them in shuffled batches.

    With an interval, a daemon thread in each process drains the queue at random times
    (exponentially distributed, so the next batch cannot be predicted from the last);
    with 0, the app drains it after each request that queued something (tests only).
    """

    def __init__(
        self,
        queue: Queue,
        sessions: Callable[[], sessionmaker[Session]],
        interval: float,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.sessions = sessions
        self.interval = interval
        self.after_commit = after_commit
        self.rng = random.SystemRandom()
        # False where batches come only from flush() (the command line, tests).
        self.autostart = True
        self._lock = threading.Lock()
        self._thread_pid: int | None = None

    def put(self, write: Write) -> None:
        """Queue a write."""
        if write.action not in ACTIONS:
            raise ValueError("unknown write")
        self.queue.put(write)

    def pending(self, room_id: str) -> list[Write]:
        """Queued writes of one room."""
        return [write for write in self.queue.pending() if write.room_id == room_id]

    def _apply(self, writes: list[Write]) -> None:
        db = self.sessions()()
        try:
            apply_batch(db, writes, self.rng)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()
        self.after_commit()

    def flush(self, room_id: str | None = None) -> int:
        """Commit what is queued now (of one room, if given), as one shuffled batch;
        returns how many writes."""
        with self._lock:
            return self.queue.drain(self._apply, room_id)

    def flush_room(self, room_id: str, timeout: float = 20.0) -> int:
        """Commit every queued write of a room, waiting for another worker's batch.

        Publishing signs what the database holds: an endorsement still queued would be
        left out, then dropped. flush() alone may apply nothing (another worker holds
        the batch) or only a dead worker's batch. Raises QueueBusy if time runs out.
        """
        return self.flush_all(timeout, room_id)

    def flush_all(self, timeout: float = 60.0, room_id: str | None = None) -> int:
        """Commit every queued write (of one room, if given), waiting for another
        worker's batch; raises QueueBusy if time runs out. For the commands that must
        find everything in the database: a backup, the nightly rewrite, flush-writes.
        """
        deadline = time.monotonic() + timeout

        def waiting() -> bool:
            found = self.queue.pending()
            return any(write.room_id == room_id for write in found) if room_id else bool(found)

        applied = 0
        while waiting():
            drained = self.flush(room_id)
            applied += drained
            if waiting() and time.monotonic() >= deadline:
                raise QueueBusy
            if not drained:
                time.sleep(0.05)
        return applied

    def next_delay(self) -> float:
        """Seconds until the next batch: random, with the configured mean."""
        return min(self.rng.expovariate(1 / self.interval), 4 * self.interval)

    def ensure_running(self) -> None:
        """Start this process's batch thread, once per process (workers are forked)."""
        import os

        if not self.autostart or self.interval <= 0 or self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
            threading.Thread(target=self._run, name="mixer", daemon=True).start()

    def _run(self) -> None:
        waited = 0
        while True:
            time.sleep(self.next_delay())
            # A batch of one, right after someone joined, would point at them: a small
            # batch waits for company, a few rounds at most.
            if len(self.queue.pending()) < MIN_BATCH and waited < MAX_ROUNDS_WAITING:
                waited += 1
                continue
            waited = 0
            try:
                self.flush()
            except Exception as exc:
                # The batch stays queued and is tried again; say only what kind of error.
                log.error(
                    "a batch of queued writes failed (%s); it will be retried", type(exc).__name__
                )


# --- rewriting what the batches left ------------------------------------------------------

ANONYMOUS_TABLES = {
    "contributions": "id",
    "supports": "tag",
    "flags": "tag",
    "endorsements": "id",
    "objections": "tag",
    "consent_answers": "tag",
    # discussion
    "replies": "id",
    "reply_flags": "tag",
    "author_answers": "message_id",
    # the multilingual room
    "language_choices": "tag",
    # members' news
    "news_markers": "tag",
    "member_feeds": "owner_tag",
    # anonymous endorsements each signer can check
    "commitment_secrets": "tag",
}


# Tables whose dead rows must not outlive the night in PostgreSQL's files: a cancelled or
# moved embargo's statement and signed bundle; and a log entry and checkpoint a request
# wrote and signed before it failed (rolled back), whose size the log then reached with
# another root.
ERASED_TABLES = ("embargoes", "log_entries", "log_checkpoints")


def rewrite_anonymous_tables(engine: Engine) -> None:
    """Erase the batch boundaries the members' tables still carry.

    Each batch leaves its rows one transaction id (PostgreSQL's xmin) and, on disk, a
    place after the batch before. Rewriting every row in one transaction gives them all
    the same transaction id; CLUSTER then writes each table anew in the order of its
    random primary key, so neither transaction ids nor row order say which rows came in
    which batch. The tables in ERASED_TABLES are written anew too, which leaves their
    deleted rows behind in the old file, unlinked. On SQLite, VACUUM rebuilds the file
    likewise (the tables have no rowid and are stored in key order). Run it from cron,
    e.g. nightly; it locks these tables while it runs.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table, column in ANONYMOUS_TABLES.items():
                connection.exec_driver_sql(f"UPDATE {table} SET {column} = {column}")  # noqa: S608
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (*ANONYMOUS_TABLES, *ERASED_TABLES):
                connection.exec_driver_sql(f"CLUSTER {table} USING pk_{table}")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
