"""Contributions and supports: proposing, editing, withdrawing, +1s and flags. The pages that
list them are drafting/contribution_lists.py.

Contributions and supports carry author tags only their author can recompute, never an
account id, and go through the member's anonymous channel; what a member has queued shows
to them at once (the overlays), to others once its batch is in.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from crypto.tags import tags_equal
from statements.drafting.access import (
    CONTRIBUTION_TAG,
    FLAG_TAG,
    OBJECTION_TAG,
    SUPPORT_TAG,
    RoomAccess,
)
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    FlagRefused,
    InvalidInput,
    NotPending,
    PendingCapReached,
    SupportRefused,
    UnknownSection,
    WrongState,
)
from statements.drafting.translations import room_languages
from statements.drafting.versions import Version, version
from statements.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Flag,
    ModerationMode,
    Reply,
    ReplyFlag,
    ReplyStatus,
    RoomState,
    Support,
    random_id,
)
from statements.text.clean import clean_text
from statements.text.merge import has_any_conflict_marker
from statements.writes import (
    CONTRIBUTION_DELETE,
    CONTRIBUTION_EDIT,
    CONTRIBUTION_PUT,
    FLAG_PUT,
    OBJECTION_PUT,
    SUPPORT_DELETE,
    SUPPORT_PUT,
    Write,
    contribution_key,
    flag_key,
    support_key,
)

MAX_CONTRIBUTION = 10_000

# Markdown never passes HTML through, but a contribution that tries to carry markup or
# script is refused outright, so the author learns it will not work and nothing is kept.
MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|img|form|input|link|meta|base)\b"
    r"|javascript\s*:|\bon[a-z]+\s*=",
    re.IGNORECASE,
)


def contribution_record(row: Contribution) -> str:
    """What a contribution's ciphertexts are bound to: its row, kind and section, so a
    database writer cannot turn a comment into an amendment or move it to another section."""
    return f"{row.id}:{row.kind}:{row.anchor or ''}"


def _validate_contribution(
    access: RoomAccess, current: Version, kind: str, anchor: str | None, text: str, today: date
) -> tuple[str, str]:
    room = access.room
    if room.state != RoomState.DRAFTING:
        raise WrongState(room.state)
    if today > room.contribution_deadline:
        raise DeadlinePassed
    if kind not in set(ContributionKind):
        raise InvalidInput("kind", "unknown")
    # A translation keeps the words it translates (translation_offers.py): no base here.
    translation = kind == ContributionKind.TRANSLATION
    if anchor is None and kind != ContributionKind.COMMENT and not translation:
        raise UnknownSection
    base = current.section(anchor).markdown if anchor is not None and not translation else ""
    clean = clean_text(text, "text", MAX_CONTRIBUTION)
    if MARKUP.search(clean):
        raise InvalidInput("text", "markup")
    if has_any_conflict_marker(clean):
        raise InvalidInput("text", "conflict_markers")
    return clean, base


_QUEUED_WORDING = (CONTRIBUTION_PUT, CONTRIBUTION_EDIT)


def queued_wording(access: RoomAccess, db: Session) -> list[Write]:
    """This room's queued contributions and edits."""
    return [w for w in access.anonymous(db).pending(access.room.id) if w.action in _QUEUED_WORDING]


def from_write(write: Write) -> Contribution:
    """A queued contribution as a (transient) row."""
    return Contribution(status=ContributionStatus.PENDING, decision=None, **write.row)


def contribution_write(row: Contribution, action: str = CONTRIBUTION_PUT) -> Write:
    return Write(
        key=contribution_key(row.id),
        room_id=row.room_id,
        action=action,
        row={
            "id": row.id,
            "room_id": row.room_id,
            "anchor": row.anchor,
            "kind": row.kind,
            "author_tag": row.author_tag,
            "key_version": row.key_version,
            "content": row.content,
            "created_on": row.created_on,
            "translates": row.translates,
        },
    )


def submit_contribution(
    db: Session,
    access: RoomAccess,
    kind: str,
    anchor: str | None,
    text: str,
    today: date,
    language: str | None = None,
) -> Contribution:
    """Propose an amendment or an addition to a section, or comment on it or the draft,
    in any of the room's languages (the source language unless one is named).

    The contribution goes through the member's anonymous channel (see
    statements/writes.py): in a request it is queued and committed later in a batch.
    """
    current = version(db, access)
    if kind == ContributionKind.TRANSLATION:
        # Offered through translation_offers.py, which knows what it translates.
        raise InvalidInput("kind", "unknown")
    language = language or access.room.language
    if language not in room_languages(access.room):
        raise InvalidInput("language", "unknown")
    clean, base = _validate_contribution(access, current, kind, anchor, text, today)
    if pending_count(db, access) >= access.room.pending_cap:
        raise PendingCapReached(access.room.pending_cap)
    contribution = Contribution(
        id=random_id(),
        room_id=access.room.id,
        anchor=anchor,
        kind=kind,
        key_version=access.room.key_version,
        created_on=today,
    )
    contribution.author_tag = access.tag(CONTRIBUTION_TAG, contribution.id)
    contribution.content = access.keyring.seal(
        "contribution",
        contribution_record(contribution),
        access.room.key_version,
        {"text": clean, "base": base, "base_version": current.number, "language": language},
    )
    access.anonymous(db).put(contribution_write(contribution))
    return db.get(Contribution, contribution.id) or contribution


def own_ids(db: Session, access: RoomAccess, *, pending_only: bool) -> set[str]:
    """This member's contributions, found by recomputing tags (no author is stored),
    with what they have queued and not yet withdrawn."""
    query = select(Contribution.id, Contribution.author_tag).where(
        Contribution.room_id == access.room.id
    )
    if pending_only:
        query = query.where(Contribution.status == ContributionStatus.PENDING)
    own = {
        cid
        for cid, tag in db.execute(query)
        if tags_equal(bytes(tag), access.tag(CONTRIBUTION_TAG, cid))
    }
    for write in access.anonymous(db).pending(access.room.id):
        if write.action not in (*_QUEUED_WORDING, CONTRIBUTION_DELETE):
            continue
        cid = str(write.row["id"])
        if not tags_equal(bytes(write.row["author_tag"]), access.tag(CONTRIBUTION_TAG, cid)):
            continue
        if write.action in _QUEUED_WORDING:
            own.add(cid)
        else:
            own.discard(cid)
    return own


def pending_count(db: Session, access: RoomAccess) -> int:
    """This member's pending contributions, queued ones included."""
    return len(own_ids(db, access, pending_only=True))


def _own(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    """One of this member's pending contributions, as stored or as queued."""
    if len(contribution_id) > 32:
        raise ContributionNotFound
    contribution = db.get(Contribution, contribution_id)
    queued = next(
        (w for w in queued_wording(access, db) if w.row["id"] == contribution_id),
        None,
    )
    if queued is not None:
        contribution = from_write(queued)
    if contribution is None or contribution.room_id != access.room.id:
        raise ContributionNotFound
    if contribution_id not in own_ids(db, access, pending_only=False):
        raise ContributionNotFound
    if contribution.status != ContributionStatus.PENDING:
        raise NotPending
    return contribution


# What a contribution's content becomes when its words are destroyed (see moderation.py).
REMOVED = {"text": "", "base": "", "base_version": 0, "removed": True}

flagged_condition = exists(
    select(Flag.contribution_id).where(Flag.contribution_id == Contribution.id)
)


def _translated(data: dict[str, Any]) -> tuple[str, str] | None:
    """What a translation's content says it translates: (type, id), None for a section's
    or the title's (the draft's words are never hidden) and for anything else."""
    of = data.get("of")
    if not isinstance(of, dict) or of.get("type") not in ("contribution", "reply"):
        return None
    return str(of["type"]), str(of.get("id", ""))


def _live_texts(db: Session, access: RoomAccess, ids: set[str]) -> dict[str, str]:
    """The words of those of these contributions that still show them: not hidden, not
    gone, not rejected as unsafe (which keeps its status but not its words)."""
    if not ids:
        return {}
    rows = db.scalars(
        select(Contribution).where(
            Contribution.room_id == access.room.id,
            Contribution.id.in_(ids),
            Contribution.status != ContributionStatus.HIDDEN,
        )
    )
    texts = {}
    for row in rows:
        if row.key_version not in access.keyring.keys:
            continue
        data = access.keyring.open(
            "contribution", contribution_record(row), row.key_version, row.content
        )
        if not data.get("removed"):
            texts[row.id] = str(data.get("text", ""))
    return texts


def unshown_translations(
    db: Session, access: RoomAccess, translations: dict[str, dict[str, Any]]
) -> set[str]:
    """Which of these translations (id: opened content) must show nothing: their original
    was hidden, withdrawn, rejected as unsafe, or edited since (the words translated are
    no longer there), or is a reply in a thread whose contribution lost its words (members
    no longer see the others' replies there, which may quote them). Three queries at most."""
    targets = {
        translation_id: target
        for translation_id, data in translations.items()
        if (target := _translated(data)) is not None
    }
    if not targets:
        return set()
    texts = _live_texts(db, access, {i for kind, i in targets.values() if kind == "contribution"})
    replies = {i for kind, i in targets.values() if kind == "reply"}
    live_replies: set[str] = set()
    if replies:
        conditions = [
            Reply.room_id == access.room.id,
            Reply.id.in_(replies),
            Reply.status != ReplyStatus.HIDDEN,
        ]
        if not access.is_coordinator and access.room.moderation == ModerationMode.PRE:
            # As the thread shows them: released, and no flag waiting for review.
            flagged = select(ReplyFlag.reply_id).where(ReplyFlag.reply_id == Reply.id).exists()
            conditions += [Reply.status == ReplyStatus.SHOWN, ~flagged]
        shown = db.execute(select(Reply.id, Reply.contribution_id).where(*conditions)).all()
        heads = _live_texts(db, access, {head for _, head in shown})
        live_replies = {reply_id for reply_id, head in shown if head in heads}
    unshown = set()
    for translation_id, (kind, original_id) in targets.items():
        if kind == "reply":
            gone = original_id not in live_replies
        else:
            base = str(translations[translation_id].get("base", ""))
            gone = texts.get(original_id) != base
        if gone:
            unshown.add(translation_id)
    return unshown


def destroy_translations_of(db: Session, access: RoomAccess, target_id: str) -> None:
    """A coordinator hid a contribution or a reply (or rejected it as unsafe): every
    translation of it is hidden too and its words destroyed in place (a translation
    carries the original's words as well as its own)."""
    access.require_coordinator()
    rows = db.scalars(
        select(Contribution).where(
            Contribution.room_id == access.room.id,
            Contribution.kind == ContributionKind.TRANSLATION,
            Contribution.status != ContributionStatus.HIDDEN,
        )
    )
    for row in rows:
        if row.key_version not in access.keyring.keys:
            continue
        data = access.keyring.open(
            "contribution", contribution_record(row), row.key_version, row.content
        )
        translated = _translated(data)
        if translated is None or translated[1] != target_id:
            continue
        row.status = ContributionStatus.HIDDEN
        row.content = access.keyring.seal(
            "contribution", contribution_record(row), row.key_version, REMOVED
        )
    db.flush()


def visible_condition(db: Session, access: RoomAccess) -> ColumnElement[bool]:
    """Which of the room's contributions this member may see, as an SQL condition.

    Coordinators see every one, and in a post-moderated room members do too (hidden ones
    are left out by the statuses pages ask for). In a pre-moderated room a member sees
    their own, the accepted and incorporated ones, and those a coordinator released,
    except while a member's flag waits for review.
    """
    not_hidden = Contribution.status != ContributionStatus.HIDDEN
    if access.is_coordinator or access.room.moderation != ModerationMode.PRE:
        return true()
    own = own_ids(db, access, pending_only=False)
    flagged_by_me = queued_flags(db, access)
    waiting = and_(Contribution.status == ContributionStatus.PENDING, flagged_condition)
    seen = or_(
        Contribution.status.in_([ContributionStatus.ACCEPTED, ContributionStatus.INCORPORATED]),
        and_(Contribution.released, ~waiting, ~Contribution.id.in_(flagged_by_me)),
    )
    return and_(not_hidden, or_(Contribution.id.in_(own), seen) if own else seen)


def is_visible(db: Session, access: RoomAccess, contribution: Contribution) -> bool:
    return (
        db.scalar(
            select(func.count())
            .select_from(Contribution)
            .where(Contribution.id == contribution.id, visible_condition(db, access))
        )
        == 1
    )


def find_contribution(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    """A stored contribution of this room; ContributionNotFound otherwise."""
    contribution = db.get(Contribution, contribution_id) if len(contribution_id) <= 32 else None
    if contribution is None or contribution.room_id != access.room.id:
        raise ContributionNotFound
    return contribution


def edit_contribution(
    db: Session, access: RoomAccess, contribution_id: str, text: str, today: date
) -> None:
    """Change one's own pending contribution."""
    contribution = _own(db, access, contribution_id)
    current = version(db, access)
    old = access.keyring.open(
        "contribution",
        contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    clean, _base = _validate_contribution(
        access, current, contribution.kind, contribution.anchor, text, today
    )
    edited = Contribution(
        id=contribution.id,
        room_id=contribution.room_id,
        anchor=contribution.anchor,
        kind=contribution.kind,
        author_tag=contribution.author_tag,
        key_version=access.room.key_version,
        created_on=contribution.created_on,
    )
    edited.content = access.keyring.seal(
        "contribution",
        contribution_record(edited),
        access.room.key_version,
        {**old, "text": clean},
    )
    # Stored already: an edit, which never brings back a contribution withdrawn since.
    # Still queued: the submission itself, with its new wording.
    stored = db.get(Contribution, contribution.id) is not None
    access.anonymous(db).put(
        contribution_write(edited, CONTRIBUTION_EDIT if stored else CONTRIBUTION_PUT)
    )


def withdraw_contribution(db: Session, access: RoomAccess, contribution_id: str) -> None:
    """Withdraw one's own pending contribution: it is deleted with its supports."""
    contribution = _own(db, access, contribution_id)
    access.anonymous(db).put(
        Write(
            key=contribution_key(contribution.id),
            room_id=access.room.id,
            action=CONTRIBUTION_DELETE,
            row={"id": contribution.id, "author_tag": contribution.author_tag},
        )
    )


def queued_supports(db: Session, access: RoomAccess) -> dict[str, bool]:
    """This member's queued supports: contribution id -> supported."""
    found: dict[str, bool] = {}
    for write in access.anonymous(db).pending(access.room.id):
        if write.action not in (SUPPORT_PUT, SUPPORT_DELETE, OBJECTION_PUT):
            continue
        cid = str(write.row["contribution_id"])
        # A queued objection carries the support it takes back (agreement.py).
        tag = write.row["support_tag" if write.action == OBJECTION_PUT else "tag"]
        if tags_equal(bytes(tag), access.tag(SUPPORT_TAG, cid)):
            found[cid] = write.action == SUPPORT_PUT
    return found


def support(db: Session, access: RoomAccess, contribution_id: str, supported: bool) -> None:
    """Add or withdraw this member's anonymous +1."""
    contribution = find_contribution(db, access, contribution_id)
    if contribution.status != ContributionStatus.PENDING or not is_visible(
        db, access, contribution
    ):
        raise SupportRefused
    if tags_equal(contribution.author_tag, access.tag(CONTRIBUTION_TAG, contribution.id)):
        raise SupportRefused
    tag = access.tag(SUPPORT_TAG, contribution.id)
    stored = db.get(Support, (contribution.id, tag)) is not None
    current = queued_supports(db, access).get(contribution.id, stored)
    if supported == current:
        return
    row = {"contribution_id": contribution.id, "tag": tag}
    if supported:
        # One stance per member: a support takes back their objection (agreement.py).
        row["objection_tag"] = access.room_tag(OBJECTION_TAG, contribution.id)
    access.anonymous(db).put(
        Write(
            key=support_key(contribution.id, tag),
            room_id=access.room.id,
            action=SUPPORT_PUT if supported else SUPPORT_DELETE,
            row=row,
        )
    )


def queued_flags(db: Session, access: RoomAccess) -> set[str]:
    """The contributions this member has flagged in writes not yet committed."""
    return {
        str(write.row["contribution_id"])
        for write in access.anonymous(db).pending(access.room.id)
        if write.action == FLAG_PUT
        and tags_equal(
            bytes(write.row["tag"]), access.tag(FLAG_TAG, str(write.row["contribution_id"]))
        )
    }


def flag(db: Session, access: RoomAccess, contribution_id: str) -> None:
    """Ask the coordinators, anonymously, to review a pending contribution for safety.

    One flag per member and contribution (deduplicated by tag); it goes through the
    anonymous channel like a support. Refused for one's own contribution (withdraw it).
    """
    contribution = find_contribution(db, access, contribution_id)
    if contribution.status != ContributionStatus.PENDING or not is_visible(
        db, access, contribution
    ):
        raise FlagRefused
    if tags_equal(contribution.author_tag, access.tag(CONTRIBUTION_TAG, contribution.id)):
        raise FlagRefused
    tag = access.tag(FLAG_TAG, contribution.id)
    if db.get(Flag, (contribution.id, tag)) is not None:
        return
    if contribution.id in queued_flags(db, access):
        return
    access.anonymous(db).put(
        Write(
            key=flag_key(contribution.id, tag),
            room_id=access.room.id,
            action=FLAG_PUT,
            row={"contribution_id": contribution.id, "tag": tag},
        )
    )
