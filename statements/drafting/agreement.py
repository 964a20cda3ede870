"""Agreement, counted anonymously: objections to proposals (consent checks: consent.py).

An objection is the other stance a member can take on a proposal besides a +1: one
stance per member (support XOR objection), deduplicated by a tag of its own purpose bound
to the room and the proposal, with a reason sealed under the room key that coordinators
read (members too when the room shows reasons, and showed them when it was written: the
form promised the member nothing else, so turning the setting on later reveals only
reasons written under it).

It goes through the member's anonymous channel (statements/writes.py), never the
member's own transaction. Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.tags import tags_equal
from statements.drafting.access import (
    CONTRIBUTION_TAG,
    OBJECTION_TAG,
    SUPPORT_TAG,
    RoomAccess,
)
from statements.drafting.contributions import (
    contribution_record,
    find_contribution,
    visible_condition,
)
from statements.drafting.errors import ObjectionRefused, WrongState
from statements.drafting.log import log_action
from statements.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Objection,
    RoomState,
)
from statements.text.clean import clean_text
from statements.writes import OBJECTION_DELETE, OBJECTION_PUT, SUPPORT_PUT, Write, support_key

# A reason is a sentence or two: enough to say what is wrong, short enough to read many.
MAX_REASON = 500
# Proposals change the text; a comment is discussed, not objected to.
OBJECTABLE = (ContributionKind.AMENDMENT, ContributionKind.ADDITION)


# --- objections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Objections:
    """The objections to one proposal, as this member may see them."""

    count: int = 0
    # This member objects, and why (their own reason, shown only to them).
    mine: bool = False
    my_reason: str = ""
    # Every objection's reason, in no order but the words': for coordinators, and for
    # members when the room shows reasons; empty otherwise.
    reasons: tuple[str, ...] = ()


def objection_record(contribution_id: str, tag: bytes) -> str:
    """What an objection's reason is bound to: its proposal and its tag."""
    return f"{contribution_id}:{tag.hex()}"


def _queued_stances(db: Session, access: RoomAccess) -> dict[str, Write | None]:
    """This member's queued objections: contribution id -> the objection, or None where a
    queued support or withdrawal takes it back."""
    found: dict[str, Write | None] = {}
    for write in access.anonymous(db).pending(access.room.id):
        cid = str(write.row.get("contribution_id", ""))
        if write.action in (OBJECTION_PUT, OBJECTION_DELETE):
            mine = tags_equal(bytes(write.row["tag"]), access.room_tag(OBJECTION_TAG, cid))
        elif write.action == SUPPORT_PUT and "objection_tag" in write.row:
            mine = tags_equal(
                bytes(write.row["objection_tag"]), access.room_tag(OBJECTION_TAG, cid)
            )
        else:
            continue
        if mine:
            found[cid] = write if write.action == OBJECTION_PUT else None
    return found


def _objectable(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    """Another member's pending proposal this member can see; ObjectionRefused otherwise."""
    contribution = find_contribution(db, access, contribution_id)
    visible = db.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(Contribution.id == contribution.id, visible_condition(db, access))
    )
    if (
        contribution.status != ContributionStatus.PENDING
        or contribution.kind not in OBJECTABLE
        or not visible
        or tags_equal(contribution.author_tag, access.tag(CONTRIBUTION_TAG, contribution.id))
    ):
        raise ObjectionRefused
    return contribution


def object_to(db: Session, access: RoomAccess, contribution_id: str, reason: str) -> None:
    """Object to another member's pending proposal, with a required short reason.

    Replaces this member's support of it, or their earlier objection (a new reason).
    """
    contribution = _objectable(db, access, contribution_id)
    clean = clean_text(reason, "reason", MAX_REASON)
    tag = access.room_tag(OBJECTION_TAG, contribution.id)
    support_tag = access.tag(SUPPORT_TAG, contribution.id)
    sealed = access.keyring.seal(
        "objection",
        objection_record(contribution.id, tag),
        access.room.key_version,
        # Sealed with the reason: whether members could read it when it was written.
        {"reason": clean, "shown": bool(access.room.show_reasons)},
    )
    access.anonymous(db).put(
        Write(
            # The support's queue key: a member's one stance has one place in the queue.
            key=support_key(contribution.id, support_tag),
            room_id=access.room.id,
            action=OBJECTION_PUT,
            row={
                "contribution_id": contribution.id,
                "tag": tag,
                "support_tag": support_tag,
                "key_version": access.room.key_version,
                "reason": sealed,
            },
        )
    )


def withdraw_objection(db: Session, access: RoomAccess, contribution_id: str) -> None:
    """Take back this member's objection (nothing happens if they have none)."""
    contribution = _objectable(db, access, contribution_id)
    tag = access.room_tag(OBJECTION_TAG, contribution.id)
    stored = db.get(Objection, (contribution.id, tag)) is not None
    queued = _queued_stances(db, access)
    objecting = queued[contribution.id] is not None if contribution.id in queued else stored
    if not objecting:
        return
    access.anonymous(db).put(
        Write(
            key=support_key(contribution.id, access.tag(SUPPORT_TAG, contribution.id)),
            room_id=access.room.id,
            action=OBJECTION_DELETE,
            row={"contribution_id": contribution.id, "tag": tag},
        )
    )


def _open_reason(
    access: RoomAccess, contribution_id: str, tag: bytes, version: int, blob: bytes
) -> str:
    return _open_objection(access, contribution_id, tag, version, blob)[0]


def _open_objection(
    access: RoomAccess, contribution_id: str, tag: bytes, version: int, blob: bytes
) -> tuple[str, bool]:
    """An objection's reason, and whether members could read it when it was written."""
    try:
        data = access.keyring.open(
            "objection", objection_record(contribution_id, tag), version, blob
        )
    except CryptoError:
        # Sealed under a key this member never held: they joined after it was written.
        return "", False
    # A reason sealed without the mark was written before members could be told: hidden.
    return str(data.get("reason", "")), data.get("shown") is True


def objections(db: Session, access: RoomAccess, ids: Sequence[str]) -> dict[str, Objections]:
    """The objections to these proposals: counts, this member's own, and the reasons they
    may read. A fixed number of queries, however many proposals and objections."""
    wanted = list(ids)
    if not wanted:
        return {}
    counts: Counter[str] = Counter(
        {
            str(cid): int(n)
            for cid, n in db.execute(
                select(Objection.contribution_id, func.count())
                .where(Objection.contribution_id.in_(wanted))
                .group_by(Objection.contribution_id)
            )
        }
    )
    my_tags = {access.room_tag(OBJECTION_TAG, cid): cid for cid in wanted}
    mine: dict[str, str] = {}
    for cid, tag, key_version, blob in db.execute(
        select(
            Objection.contribution_id, Objection.tag, Objection.key_version, Objection.reason
        ).where(Objection.contribution_id.in_(wanted), Objection.tag.in_(list(my_tags)))
    ):
        mine[str(cid)] = _open_reason(access, str(cid), bytes(tag), int(key_version), bytes(blob))
    reasons: dict[str, list[str]] = {}
    if access.is_coordinator or access.room.show_reasons:
        for cid, tag, key_version, blob in db.execute(
            select(
                Objection.contribution_id, Objection.tag, Objection.key_version, Objection.reason
            ).where(Objection.contribution_id.in_(wanted))
        ):
            text, shown = _open_objection(
                access, str(cid), bytes(tag), int(key_version), bytes(blob)
            )
            # Members read only reasons written while the room showed them.
            if text and (access.is_coordinator or shown):
                reasons.setdefault(str(cid), []).append(text)
    # This member's own queued stance shows to them at once, in the count too.
    for cid, write in _queued_stances(db, access).items():
        if cid not in wanted:
            continue
        was = cid in mine
        if write is None:
            mine.pop(cid, None)
        else:
            mine[cid] = _open_reason(
                access,
                cid,
                bytes(write.row["tag"]),
                int(write.row["key_version"]),
                bytes(write.row["reason"]),
            )
        counts[cid] += (cid in mine) - was
    return {
        cid: Objections(
            count=max(counts[cid], 0),
            mine=cid in mine,
            my_reason=mine.get(cid, ""),
            reasons=tuple(sorted(reasons.get(cid, []))),
        )
        for cid in wanted
    }


@dataclass(frozen=True)
class Proposal:
    """A proposal as the objection page shows it."""

    id: str
    kind: str
    anchor: str | None
    text: str
    created_on: date
    objections: Objections


def proposal(db: Session, access: RoomAccess, contribution_id: str) -> Proposal:
    """A proposal this member may object to, its words and its objections."""
    row = _objectable(db, access, contribution_id)
    data = access.keyring.open(
        "contribution", contribution_record(row), row.key_version, row.content
    )
    return Proposal(
        id=row.id,
        kind=row.kind,
        anchor=row.anchor,
        text=str(data["text"]),
        created_on=row.created_on,
        objections=objections(db, access, [row.id])[row.id],
    )


def show_reasons(db: Session, access: RoomAccess, shown: bool, today: date) -> None:
    """Let members read the reasons of objections (or no longer); coordinators always do."""
    access.require_coordinator()
    if access.room.state == RoomState.PUBLISHED:
        raise WrongState(access.room.state)
    if bool(access.room.show_reasons) == shown:
        return
    access.room.show_reasons = shown
    log_action(db, access, today, "reasons_shown" if shown else "reasons_hidden")
