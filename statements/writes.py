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

This module holds what a write is: its kinds, its keys and `Write` itself. Applying one
is statements/write_apply.py, the shared queues statements/write_queues.py, the batches
and the nightly rewrite statements/mixer.py.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

log = logging.getLogger(__name__)


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


class AnonymousWrites(Protocol):
    """Where services put members' anonymous writes, and find their own queued ones."""

    def put(self, write: Write) -> None:
        """Queue (or apply) a write."""

    def pending(self, room_id: str) -> list[Write]:
        """Writes for a room not yet in the database."""
