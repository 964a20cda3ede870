"""Discussion: threaded replies under a contribution, their moderation, and resolving a thread.

A reply is an anonymous write like a contribution (statements/writes.py): it is queued,
never written in its writer's request, and carries only an author tag its writer can
recompute. Coordinators' replies go the same way and are marked as the secretariat's,
never as a person's. Replies have no day and no sequence: a thread is ordered by who
answered whom (a reply names its parent), siblings by their random ids.

Replies follow the room's moderation rules: in a pre-moderated room a member's reply is
seen by its writer and the coordinators until a coordinator releases it, and a flag
takes a released one back for review; hiding one destroys its words at rest.
The private line to a contribution's author is in author_messages.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from crypto.tags import tags_equal
from statements.drafting.access import CONTRIBUTION_TAG, PAGE_SIZE, RoomAccess

# The coordinators' overview counts unanswered questions to authors through this module.
from statements.drafting.author_messages import DISCUSSION_STATES
from statements.drafting.author_messages import (
    unanswered_author_messages as unanswered_author_messages,
)
from statements.drafting.contributions import (
    MARKUP,
    contribution_record,
    destroy_translations_of,
    find_contribution,
    visible_condition,
)
from statements.drafting.errors import (
    ContributionNotFound,
    InvalidInput,
    ReplyFlagRefused,
    ReplyNotFound,
    ThreadClosed,
    ThreadFull,
    WrongState,
)
from statements.drafting.log import log_action
from statements.drafting.translations import room_languages
from statements.models import (
    Contribution,
    ContributionStatus,
    ModerationMode,
    Reply,
    ReplyFlag,
    ReplyStatus,
    ThreadResolution,
    random_id,
)
from statements.text.clean import clean_line, clean_text
from statements.writes import REPLY_FLAG_PUT, REPLY_PUT, Write

# Purposes of the tags on replies and their flags: distinct from every other purpose, so
# a reply's tag says nothing of who wrote a contribution or flagged anything.
REPLY_TAG = "reply"
REPLY_FLAG_TAG = "reply-flag"
MAX_REPLY = 4_000
MAX_RESOLUTION = 200
# A thread is a conversation, not a second draft: past this, start a new comment.
MAX_REPLIES = 200
# Deeper replies are shown at this depth: a phone screen has no room for more indents.
MAX_DEPTH = 4
REMOVED_REPLY = {"text": "", "removed": True}


@dataclass(frozen=True)
class ReplyView:
    """A reply as a page shows it: the secretariat's, or nobody's; "yours" only to its writer."""

    id: str
    parent_id: str | None
    text: str
    secretariat: bool
    mine: bool
    status: str
    removed: bool = False
    # This member asked for a safety review of it.
    flagged: bool = False
    # How many members asked for one: for the coordinators only.
    flags: int = 0
    depth: int = 0
    # Still in the member's queue: shown to them only until its batch is in.
    queued: bool = False
    # The language it is written in (sealed in its content; "" before rooms had languages).
    language: str = ""


@dataclass(frozen=True)
class Head:
    """The contribution a thread is about, as its thread page shows it."""

    id: str
    anchor: str | None
    kind: str
    status: str
    text: str
    removed: bool
    mine: bool
    language: str = ""


@dataclass(frozen=True)
class Thread:
    """A contribution's thread as one member sees it."""

    head: Head
    replies: list[ReplyView]
    resolution: str | None
    # Whether replies (and questions) are still taken.
    open: bool


@dataclass(frozen=True)
class ThreadSummary:
    """What a list of contributions shows of each one's thread."""

    replies: int = 0
    resolution: str | None = None


@dataclass(frozen=True)
class ReviewItem:
    """A reply waiting for a coordinator: pending in a pre-moderated room, or flagged."""

    reply: ReplyView
    contribution_id: str


def reply_record(row: Reply) -> str:
    """What a reply's ciphertext is bound to: its row, thread, parent and whether it is the
    secretariat's, so a database writer can neither move it nor make it the secretariat's."""
    return f"{row.id}:{row.contribution_id}:{row.parent_id or ''}:{int(bool(row.secretariat))}"


def resolution_record(contribution_id: str) -> str:
    """What a resolution's summary is bound to."""
    return f"resolution:{contribution_id}"


def _thread_contribution(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    """A contribution of this room this member may see; ContributionNotFound otherwise."""
    contribution = find_contribution(db, access, contribution_id)
    seen = db.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(Contribution.id == contribution.id, visible_condition(db, access))
    )
    if seen != 1:
        raise ContributionNotFound
    return contribution


def _head(access: RoomAccess, contribution: Contribution) -> Head:
    data = access.keyring.open(
        "contribution",
        contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    removed = bool(data.get("removed"))
    hidden = contribution.status == ContributionStatus.HIDDEN
    return Head(
        id=contribution.id,
        anchor=contribution.anchor,
        kind=contribution.kind,
        status=contribution.status,
        text="" if removed or (hidden and not access.is_coordinator) else str(data["text"]),
        removed=removed or hidden,
        mine=tags_equal(contribution.author_tag, access.tag(CONTRIBUTION_TAG, contribution.id)),
        language=str(data.get("language") or access.room.language),
    )


def _queued(db: Session, access: RoomAccess, action: str) -> list[Write]:
    return [w for w in access.anonymous(db).pending(access.room.id) if w.action == action]


def _queued_flags(db: Session, access: RoomAccess) -> set[str]:
    """The replies this member has flagged in writes not yet committed."""
    return {
        str(w.row["reply_id"])
        for w in _queued(db, access, REPLY_FLAG_PUT)
        if tags_equal(bytes(w.row["tag"]), access.tag(REPLY_FLAG_TAG, str(w.row["reply_id"])))
    }


def _rows(db: Session, access: RoomAccess, contribution_id: str) -> list[tuple[Reply, bool]]:
    """The thread's stored replies with this member's queued ones, each with whether queued."""
    rows = [
        (row, False)
        for row in db.scalars(
            select(Reply)
            .where(Reply.contribution_id == contribution_id, Reply.room_id == access.room.id)
            .order_by(Reply.id)
            .limit(MAX_REPLIES + 1)
        )
    ]
    stored = {row.id for row, _queued_row in rows}
    for write in _queued(db, access, REPLY_PUT):
        if write.row["contribution_id"] != contribution_id or write.row["id"] in stored:
            continue
        row = Reply(**write.row)
        if tags_equal(row.author_tag, access.tag(REPLY_TAG, row.id)):
            rows.append((row, True))
    return rows


def _replies(
    db: Session, access: RoomAccess, contribution_id: str, head_removed: bool = False
) -> list[ReplyView]:
    """The thread's replies this member may see, in thread order, each decrypted once.

    Under a contribution whose words were removed, members see only their own replies:
    the others may quote what was removed, or answer it in a way that repeats it.
    """
    rows = _rows(db, access, contribution_id)
    ids = [row.id for row, _queued_row in rows]
    flag_counts: dict[str, int] = {}
    flagged_by_me: set[str] = _queued_flags(db, access)
    if ids:
        flag_counts = {
            rid: int(n)
            for rid, n in db.execute(
                select(ReplyFlag.reply_id, func.count())
                .where(ReplyFlag.reply_id.in_(ids))
                .group_by(ReplyFlag.reply_id)
            )
        }
        flagged_by_me |= set(
            db.scalars(
                select(ReplyFlag.reply_id).where(
                    ReplyFlag.reply_id.in_(ids),
                    ReplyFlag.tag.in_([access.tag(REPLY_FLAG_TAG, rid) for rid in ids]),
                )
            )
        )
    pre = access.room.moderation == ModerationMode.PRE
    views: list[ReplyView] = []
    for row, queued in rows:
        mine = tags_equal(row.author_tag, access.tag(REPLY_TAG, row.id))
        hidden = row.status == ReplyStatus.HIDDEN
        if not (access.is_coordinator or mine):
            if hidden or head_removed:
                continue
            # Pre-moderation: released ones only, and not while a flag waits for review.
            waiting = bool(flag_counts.get(row.id)) or row.id in flagged_by_me
            if pre and (row.status != ReplyStatus.SHOWN or waiting):
                continue
        data = access.keyring.open("reply", reply_record(row), row.key_version, row.content)
        removed = bool(data.get("removed")) or hidden
        views.append(
            ReplyView(
                id=row.id,
                parent_id=row.parent_id,
                text="" if removed else str(data["text"]),
                secretariat=bool(row.secretariat),
                mine=mine,
                status=row.status,
                removed=removed,
                flagged=row.id in flagged_by_me,
                flags=flag_counts.get(row.id, 0) if access.is_coordinator else 0,
                queued=queued,
                language=str(data.get("language") or access.room.language),
            )
        )
    return _thread_order(views)


def _thread_order(views: Sequence[ReplyView]) -> list[ReplyView]:
    """Depth first: each reply under the one it answers; one whose parent this member
    cannot see stands at the top."""
    known = {view.id for view in views}
    children: dict[str | None, list[ReplyView]] = defaultdict(list)
    for view in views:
        children[view.parent_id if view.parent_id in known else None].append(view)
    ordered: list[ReplyView] = []

    def walk(parent: str | None, depth: int) -> None:
        for view in sorted(children.get(parent, []), key=lambda v: (not v.secretariat, v.id)):
            ordered.append(replace(view, depth=min(depth, MAX_DEPTH)))
            walk(view.id, depth + 1)

    walk(None, 0)
    return ordered


def _resolution(access: RoomAccess, row: ThreadResolution | None) -> str | None:
    if row is None:
        return None
    data = access.keyring.open(
        "resolution", resolution_record(row.contribution_id), row.key_version, row.summary
    )
    return str(data["summary"])


def thread(db: Session, access: RoomAccess, contribution_id: str) -> Thread:
    """A contribution, its replies as this member may see them, and its resolution."""
    contribution = _thread_contribution(db, access, contribution_id)
    head = _head(access, contribution)
    return Thread(
        head=head,
        replies=_replies(db, access, contribution.id, head.removed),
        resolution=_resolution(access, db.get(ThreadResolution, contribution.id)),
        open=access.room.state in DISCUSSION_STATES and not head.removed,
    )


def submit_reply(
    db: Session,
    access: RoomAccess,
    contribution_id: str,
    parent_id: str | None,
    text: str,
    language: str | None = None,
) -> Reply:
    """Reply to a contribution, or to a reply in its thread, through the anonymous channel,
    in any of the room's languages (the source language unless one is named)."""
    if access.room.state not in DISCUSSION_STATES:
        raise WrongState(access.room.state)
    language = language or access.room.language
    if language not in room_languages(access.room):
        raise InvalidInput("language", "unknown")
    contribution = _thread_contribution(db, access, contribution_id)
    if _head(access, contribution).removed:
        raise ThreadClosed
    clean = clean_text(text, "text", MAX_REPLY)
    if MARKUP.search(clean):
        raise InvalidInput("text", "markup")
    if parent_id:
        parent = next(
            (view for view in _replies(db, access, contribution.id) if view.id == parent_id), None
        )
        if parent is None or parent.removed:
            raise ReplyNotFound
    stored = db.scalar(
        select(func.count()).select_from(Reply).where(Reply.contribution_id == contribution.id)
    )
    if (stored or 0) >= MAX_REPLIES:
        raise ThreadFull
    secretariat = access.is_coordinator
    shown = secretariat or access.room.moderation != ModerationMode.PRE
    reply = Reply(
        id=random_id(),
        room_id=access.room.id,
        contribution_id=contribution.id,
        parent_id=parent_id or None,
        secretariat=secretariat,
        status=ReplyStatus.SHOWN if shown else ReplyStatus.PENDING,
        key_version=access.room.key_version,
    )
    reply.author_tag = access.tag(REPLY_TAG, reply.id)
    reply.content = access.keyring.seal(
        "reply",
        reply_record(reply),
        access.room.key_version,
        {"text": clean, "language": language},
    )
    access.anonymous(db).put(
        Write(
            key=f"reply:{reply.id}",
            room_id=access.room.id,
            action=REPLY_PUT,
            row={
                "id": reply.id,
                "room_id": reply.room_id,
                "contribution_id": reply.contribution_id,
                "parent_id": reply.parent_id,
                "author_tag": reply.author_tag,
                "secretariat": reply.secretariat,
                "status": reply.status,
                "key_version": reply.key_version,
                "content": reply.content,
            },
        )
    )
    return reply


def _find_reply(db: Session, access: RoomAccess, reply_id: str) -> Reply:
    reply = db.get(Reply, reply_id) if len(reply_id) <= 32 else None
    if reply is None or reply.room_id != access.room.id:
        raise ReplyNotFound
    return reply


def flag_reply(db: Session, access: RoomAccess, reply_id: str) -> str:
    """Ask the coordinators, anonymously, to review someone else's reply for safety.
    Returns its contribution's id."""
    reply = _find_reply(db, access, reply_id)
    tag = access.tag(REPLY_FLAG_TAG, reply.id)
    # Flagged already (a flagged reply may no longer show to its flagger): nothing to do.
    if db.get(ReplyFlag, (reply.id, tag)) is not None or reply.id in _queued_flags(db, access):
        return reply.contribution_id
    view = next((v for v in _replies(db, access, reply.contribution_id) if v.id == reply.id), None)
    if view is None:
        raise ReplyNotFound
    if view.mine or view.removed:
        raise ReplyFlagRefused
    access.anonymous(db).put(
        Write(
            key=f"reply-flag:{reply.id}:{tag.hex()}",
            room_id=access.room.id,
            action=REPLY_FLAG_PUT,
            row={"reply_id": reply.id, "tag": tag},
        )
    )
    return reply.contribution_id


def release_reply(db: Session, access: RoomAccess, reply_id: str, today: date) -> str:
    """Let members see a reply (pre-moderation), or end a safety review that found nothing.
    Returns its contribution's id."""
    access.require_coordinator()
    if access.room.state not in DISCUSSION_STATES:
        raise WrongState(access.room.state)
    reply = _find_reply(db, access, reply_id)
    if reply.status == ReplyStatus.HIDDEN:
        raise ReplyNotFound
    reply.status = ReplyStatus.SHOWN
    db.execute(delete(ReplyFlag).where(ReplyFlag.reply_id == reply.id))
    log_action(db, access, today, "reply_released", contribution=reply.contribution_id)
    return reply.contribution_id


def hide_reply(db: Session, access: RoomAccess, reply_id: str, today: date) -> str:
    """Hide a reply: its words are destroyed, for everyone and at rest (as for a
    contribution, moderation.hide). Returns its contribution's id."""
    access.require_coordinator()
    reply = _find_reply(db, access, reply_id)
    reply.status = ReplyStatus.HIDDEN
    # A fresh ciphertext of an empty placeholder overwrites the words in place; the key
    # does not matter, it keeps the row's own version where this coordinator holds it.
    if reply.key_version not in access.keyring.keys:
        reply.key_version = access.room.key_version
    reply.content = access.keyring.seal(
        "reply", reply_record(reply), reply.key_version, REMOVED_REPLY
    )
    db.execute(delete(ReplyFlag).where(ReplyFlag.reply_id == reply.id))
    # A translation carries the hidden words too (its own and the reply's).
    destroy_translations_of(db, access, reply.id)
    log_action(db, access, today, "reply_hidden", contribution=reply.contribution_id)
    db.flush()
    return reply.contribution_id


def review_queue(db: Session, access: RoomAccess, page: int) -> tuple[list[ReviewItem], int]:
    """Replies waiting for a coordinator, flagged ones first: a page of them, and the total."""
    access.require_coordinator()
    flagged = select(ReplyFlag.reply_id).where(ReplyFlag.reply_id == Reply.id).exists()
    conditions = [
        Reply.room_id == access.room.id,
        Reply.status != ReplyStatus.HIDDEN,
        or_(Reply.status == ReplyStatus.PENDING, flagged),
    ]
    total = db.scalar(select(func.count()).select_from(Reply).where(*conditions)) or 0
    rows = list(
        db.scalars(
            select(Reply)
            .where(*conditions)
            .order_by(flagged.desc(), Reply.contribution_id, Reply.id)
            .limit(PAGE_SIZE)
            .offset(max(page - 1, 0) * PAGE_SIZE)
        )
    )
    counts: dict[str, int] = {}
    if rows:
        counts = {
            rid: int(n)
            for rid, n in db.execute(
                select(ReplyFlag.reply_id, func.count())
                .where(ReplyFlag.reply_id.in_([row.id for row in rows]))
                .group_by(ReplyFlag.reply_id)
            )
        }
    items = []
    for row in rows:
        data = access.keyring.open("reply", reply_record(row), row.key_version, row.content)
        items.append(
            ReviewItem(
                reply=ReplyView(
                    id=row.id,
                    parent_id=row.parent_id,
                    text=str(data["text"]),
                    secretariat=bool(row.secretariat),
                    mine=tags_equal(row.author_tag, access.tag(REPLY_TAG, row.id)),
                    status=row.status,
                    flags=counts.get(row.id, 0),
                ),
                contribution_id=row.contribution_id,
            )
        )
    return items, int(total)


def resolve_thread(
    db: Session, access: RoomAccess, contribution_id: str, summary: str, today: date
) -> None:
    """Mark a thread resolved with a one-line summary (encrypted), or change the summary."""
    access.require_coordinator()
    contribution = find_contribution(db, access, contribution_id)
    clean = clean_line(summary, "summary", MAX_RESOLUTION)
    row = db.get(ThreadResolution, contribution.id)
    if row is None:
        row = ThreadResolution(contribution_id=contribution.id, key_version=0, summary=b"")
        db.add(row)
    row.key_version = access.room.key_version
    row.summary = access.keyring.seal(
        "resolution",
        resolution_record(contribution.id),
        access.room.key_version,
        {"summary": clean},
    )
    log_action(db, access, today, "resolved", contribution=contribution.id)
    db.flush()


def reopen_thread(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Take a thread's resolution back."""
    access.require_coordinator()
    contribution = find_contribution(db, access, contribution_id)
    db.execute(delete(ThreadResolution).where(ThreadResolution.contribution_id == contribution.id))
    log_action(db, access, today, "reopened", contribution=contribution.id)


def thread_summaries(
    db: Session, access: RoomAccess, contribution_ids: Sequence[str]
) -> dict[str, ThreadSummary]:
    """For a page of contributions, how many replies each shows and its resolution: two
    queries whatever the number of contributions or replies."""
    ids = list(contribution_ids)
    if not ids:
        return {}
    shown = [Reply.status != ReplyStatus.HIDDEN]
    if not access.is_coordinator and access.room.moderation == ModerationMode.PRE:
        flagged = select(ReplyFlag.reply_id).where(ReplyFlag.reply_id == Reply.id).exists()
        shown = [Reply.status == ReplyStatus.SHOWN, ~flagged]
    counts = {
        cid: int(n)
        for cid, n in db.execute(
            select(Reply.contribution_id, func.count())
            .where(and_(Reply.contribution_id.in_(ids), *shown))
            .group_by(Reply.contribution_id)
        )
    }
    resolutions = {
        row.contribution_id: _resolution(access, row)
        for row in db.scalars(
            select(ThreadResolution).where(ThreadResolution.contribution_id.in_(ids))
        )
    }
    return {
        cid: ThreadSummary(counts.get(cid, 0), resolutions.get(cid))
        for cid in ids
        if cid in counts or cid in resolutions
    }
