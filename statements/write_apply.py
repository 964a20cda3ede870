"""Applying members' anonymous writes (statements/writes.py) to the database: each kind's
rows, idempotently, so a batch applied twice changes nothing the second time.

Pure: no flask import.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
from statements.writes import (
    AGREEMENT_ACTIONS,
    AUTHOR_ANSWER_PUT,
    COMMITMENT_ACTIONS,
    COMMITMENT_FORGET,
    CONSENT_ANSWER_PUT,
    CONSENT_PURGE,
    CONTRIBUTION_DELETE,
    CONTRIBUTION_EDIT,
    CONTRIBUTION_PUT,
    DISCUSSION_ACTIONS,
    ENDORSEMENT_DELETE,
    ENDORSEMENT_PUT,
    FEED_DELETE,
    FEED_PUT,
    FLAG_PUT,
    LANGUAGE_CHOICE_PUT,
    NEWS_ACTIONS,
    NEWS_MARKER_PUT,
    OBJECTION_DELETE,
    OBJECTION_PUT,
    REPLY_FLAG_PUT,
    REPLY_PUT,
    SUPPORT_DELETE,
    SUPPORT_PUT,
    Write,
)

log = logging.getLogger(__name__)


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
