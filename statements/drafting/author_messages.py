"""Ask the author: a coordinator's private question to the anonymous author of a contribution.

A question is addressed to a contribution, never to an account: only whoever can
recompute the contribution's author tag (its author) finds it, at their next visit, and
can answer. The question is a ciphertext under the room key, like the contribution
itself. The answer is the author's anonymous write (through the mixer, like a
contribution), carries no tag of its own, and is read only by the coordinators and the
author. Nothing at rest links either to an account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crypto.tags import tags_equal
from statements.drafting.access import CONTRIBUTION_TAG, PAGE_SIZE, RoomAccess
from statements.drafting.contributions import contribution_record, find_contribution
from statements.drafting.errors import MessageNotFound, ThreadClosed, WrongState
from statements.drafting.log import log_action
from statements.models import (
    AuthorAnswer,
    AuthorMessage,
    Contribution,
    ContributionStatus,
    RoomState,
    random_id,
)
from statements.text.clean import MAX_NOTE, clean_text
from statements.writes import AUTHOR_ANSWER_PUT, Write

# While contributions can still change, threads take replies and authors are asked.
DISCUSSION_STATES = (RoomState.DRAFTING, RoomState.CONSOLIDATING)
MAX_QUESTION = MAX_NOTE
MAX_ANSWER = MAX_NOTE
# How a contribution is named to its author and in the log: enough to tell it apart.
SHORT_ID = 6


@dataclass(frozen=True)
class MessageView:
    """A question to an author and its answer, as a coordinator or that author reads it."""

    id: str
    contribution_id: str
    question: str
    answer: str | None
    # Addressed to this member: they wrote the contribution.
    mine: bool

    @property
    def short_id(self) -> str:
        """The contribution's short id, as the page names it ("proposal 8b611a")."""
        return self.contribution_id[:SHORT_ID]


def message_record(row: AuthorMessage) -> str:
    """What a question's ciphertext is bound to: its row and its contribution."""
    return f"{row.id}:{row.contribution_id}"


def ask_author(
    db: Session, access: RoomAccess, contribution_id: str, question: str, today: date
) -> AuthorMessage:
    """Send a private question to the author of a contribution (coordinators only)."""
    access.require_coordinator()
    if access.room.state not in DISCUSSION_STATES:
        raise WrongState(access.room.state)
    contribution = find_contribution(db, access, contribution_id)
    if contribution.status == ContributionStatus.HIDDEN or _removed(access, contribution):
        raise ThreadClosed
    clean = clean_text(question, "question", MAX_QUESTION)
    message = AuthorMessage(
        id=random_id(),
        room_id=access.room.id,
        contribution_id=contribution.id,
        key_version=access.room.key_version,
    )
    message.content = access.keyring.seal(
        "author-message", message_record(message), access.room.key_version, {"question": clean}
    )
    db.add(message)
    log_action(db, access, today, "asked_author", contribution=contribution.id)
    db.flush()
    return message


def _removed(access: RoomAccess, contribution: Contribution) -> bool:
    data = access.keyring.open(
        "contribution",
        contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    return bool(data.get("removed"))


def addressed_to_me(db: Session, access: RoomAccess, message_id: str) -> AuthorMessage:
    """A question addressed to this member (they wrote its contribution); MessageNotFound
    otherwise, for coordinators too, whether or not it exists."""
    message = db.get(AuthorMessage, message_id) if len(message_id) <= 32 else None
    if message is None or message.room_id != access.room.id:
        raise MessageNotFound
    contribution = db.get(Contribution, message.contribution_id)
    own_tag = access.tag(CONTRIBUTION_TAG, message.contribution_id)
    if contribution is None or not tags_equal(contribution.author_tag, own_tag):
        raise MessageNotFound
    return message


def answer_author(db: Session, access: RoomAccess, message_id: str, text: str) -> None:
    """The author answers a question addressed to them (or changes their answer).

    Anyone else, coordinators included, is told there is no such question: the same
    answer whether it exists or not, so no one learns whose it is by trying.
    """
    message = addressed_to_me(db, access, message_id)
    own_tag = access.tag(CONTRIBUTION_TAG, message.contribution_id)
    if access.room.state not in DISCUSSION_STATES:
        raise WrongState(access.room.state)
    clean = clean_text(text, "answer", MAX_ANSWER)
    sealed = access.keyring.seal(
        "author-answer", message_record(message), access.room.key_version, {"answer": clean}
    )
    access.anonymous(db).put(
        Write(
            key=f"author-answer:{message.id}",
            room_id=access.room.id,
            action=AUTHOR_ANSWER_PUT,
            row={
                "message_id": message.id,
                "author_tag": own_tag,
                "key_version": access.room.key_version,
                "content": sealed,
            },
        )
    )


def _queued_answers(db: Session, access: RoomAccess) -> dict[str, tuple[int, bytes]]:
    """This member's answers not yet committed: message id -> (key version, ciphertext)."""
    return {
        str(w.row["message_id"]): (int(w.row["key_version"]), bytes(w.row["content"]))
        for w in access.anonymous(db).pending(access.room.id)
        if w.action == AUTHOR_ANSWER_PUT
    }


def messages(
    db: Session, access: RoomAccess, contribution_id: str | None = None, page: int = 1
) -> list[MessageView]:
    """The questions this member may read, with their answers, unanswered ones first.

    Coordinators read every question of the room; a member only those addressed to
    them, found by recomputing the contributions' tags. Optionally one contribution's.
    """
    query = (
        select(AuthorMessage, Contribution.author_tag, AuthorAnswer)
        .join(Contribution, Contribution.id == AuthorMessage.contribution_id)
        .outerjoin(AuthorAnswer, AuthorAnswer.message_id == AuthorMessage.id)
        .where(AuthorMessage.room_id == access.room.id)
    )
    if contribution_id is not None:
        query = query.where(AuthorMessage.contribution_id == contribution_id)
    query = query.order_by(AuthorAnswer.message_id.is_not(None), AuthorMessage.id)
    if access.is_coordinator:
        query = query.limit(PAGE_SIZE).offset(max(page - 1, 0) * PAGE_SIZE)
    queued = _queued_answers(db, access)
    found = []
    for message, author_tag, answer in db.execute(query):
        mine = tags_equal(bytes(author_tag), access.tag(CONTRIBUTION_TAG, message.contribution_id))
        if not (mine or access.is_coordinator):
            continue
        record = message_record(message)
        question = access.keyring.open(
            "author-message", record, message.key_version, message.content
        )
        sealed: tuple[int, bytes] | None = (
            (answer.key_version, answer.content) if answer is not None else None
        )
        if mine and message.id in queued:
            sealed = queued[message.id]
        text = None
        if sealed is not None:
            text = str(access.keyring.open("author-answer", record, *sealed)["answer"])
        found.append(
            MessageView(message.id, message.contribution_id, str(question["question"]), text, mine)
        )
    return found


def unanswered_for_me(db: Session, access: RoomAccess) -> int:
    """How many questions addressed to this member wait for their answer (for a notice)."""
    rows = db.execute(
        select(AuthorMessage.id, AuthorMessage.contribution_id, Contribution.author_tag)
        .join(Contribution, Contribution.id == AuthorMessage.contribution_id)
        .outerjoin(AuthorAnswer, AuthorAnswer.message_id == AuthorMessage.id)
        .where(AuthorMessage.room_id == access.room.id, AuthorAnswer.message_id.is_(None))
    )
    queued = _queued_answers(db, access)
    return sum(
        1
        for message_id, contribution_id, tag in rows
        if message_id not in queued
        and tags_equal(bytes(tag), access.tag(CONTRIBUTION_TAG, contribution_id))
    )


def unanswered_author_messages(
    db: Session, room_ids: Iterable[str] | Select[str]
) -> dict[str, int]:
    """How many questions to authors wait for an answer, per room (every room asked for,
    with 0 where none wait; only rooms with some when given a query of room ids, as the
    coordinators' overview does). One query; reads no ciphertext and needs no key."""
    counts: dict[str, int] = {}
    wanted: list[str] | Select[str]
    if isinstance(room_ids, Select):
        wanted = room_ids
    else:
        wanted = list(room_ids)
        counts = dict.fromkeys(wanted, 0)
        if not wanted:
            return counts
    rows = db.execute(
        select(AuthorMessage.room_id, func.count())
        .outerjoin(AuthorAnswer, AuthorAnswer.message_id == AuthorMessage.id)
        .where(AuthorMessage.room_id.in_(wanted), AuthorAnswer.message_id.is_(None))
        .group_by(AuthorMessage.room_id)
    )
    counts.update({room_id: int(n) for room_id, n in rows})
    return counts
