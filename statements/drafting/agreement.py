"""Agreement, counted anonymously: objections to proposals, and consent checks.

An objection is the other stance a member can take on a proposal besides a +1: one
stance per member (support XOR objection), deduplicated by a tag of its own purpose bound
to the room and the proposal, with a reason sealed under the room key that coordinators
read (members too when the room shows reasons).

A consent check asks the room about a section or the whole text: agree, abstain, or
object with a reason. Each member answers once (and may change it while it is open),
deduplicated by their tag for that check, bound to the room: tags of two checks, or of
two rooms, cannot be told to be one member's. Answers are sealed and nobody, coordinators
included, sees them while the check is open; closing it tallies them into the check's
sealed results, counts and reasons without identities, and deletes the answers.

Both go through the member's anonymous channel (statements/writes.py), never the
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
    CONSENT_TAG,
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
from statements.drafting.errors import (
    ConsentCheckClosed,
    ConsentCheckNotFound,
    InvalidInput,
    ObjectionRefused,
    WrongState,
)
from statements.drafting.log import log_action
from statements.drafting.versions import version
from statements.models import (
    ConsentAnswer,
    ConsentCheck,
    ConsentStatus,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Objection,
    RoomState,
    random_id,
)
from statements.text.clean import clean_text
from statements.writes import (
    CONSENT_ANSWER_PUT,
    CONSENT_PURGE,
    OBJECTION_DELETE,
    OBJECTION_PUT,
    SUPPORT_PUT,
    Write,
    consent_answer_key,
    consent_purge_key,
    support_key,
)

# A reason is a sentence or two: enough to say what is wrong, short enough to read many.
MAX_REASON = 500
# What a member may answer to a consent check.
CONSENT_ANSWERS = ("agree", "abstain", "object")
# Consent checks belong to drafting and consolidating: once the text is frozen they close.
CHECK_STATES = (RoomState.DRAFTING, RoomState.CONSOLIDATING)
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
        {"reason": clean},
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
    try:
        data = access.keyring.open(
            "objection", objection_record(contribution_id, tag), version, blob
        )
    except CryptoError:
        # Sealed under a key this member never held: they joined after it was written.
        return ""
    return str(data.get("reason", ""))


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
            text = _open_reason(access, str(cid), bytes(tag), int(key_version), bytes(blob))
            if text:
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


# --- consent checks -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentResults:
    """A closed check's tally: counts and reasons, nobody's identity."""

    agree: int
    abstain: int
    object: int
    reasons: tuple[str, ...]

    @property
    def total(self) -> int:
        """How many members answered."""
        return self.agree + self.abstain + self.object


@dataclass(frozen=True)
class CheckView:
    """A consent check as a page shows it."""

    id: str
    anchor: str | None
    status: str
    question: str
    # The text asked about, as it read when the check opened.
    text: str
    version: int
    opened_on: date
    # This member's own answer while the check is open (only they see it).
    my_answer: str | None = None
    my_reason: str = ""
    results: ConsentResults | None = None

    @property
    def is_open(self) -> bool:
        """Still taking answers."""
        return self.status == ConsentStatus.OPEN


def check_record(check: ConsentCheck) -> str:
    """What a check's ciphertexts are bound to: its row and the section asked about."""
    return f"{check.id}:{check.anchor or ''}"


def answer_record(check_id: str, tag: bytes) -> str:
    """What an answer is bound to: its check and its tag."""
    return f"{check_id}:{tag.hex()}"


def open_check(
    db: Session, access: RoomAccess, anchor: str | None, question: str, today: date
) -> ConsentCheck:
    """Open a consent check on a section (anchor) or on the whole text (None)."""
    access.require_coordinator()
    if access.room.state not in CHECK_STATES:
        raise WrongState(access.room.state)
    current = version(db, access)
    text = current.section(anchor).markdown if anchor is not None else current.markdown
    clean = clean_text(question, "question", MAX_REASON, required=False)
    check = ConsentCheck(
        id=random_id(),
        room_id=access.room.id,
        anchor=anchor,
        status=ConsentStatus.OPEN,
        key_version=access.room.key_version,
        opened_on=today,
    )
    check.content = access.keyring.seal(
        "consent_check",
        check_record(check),
        access.room.key_version,
        {"question": clean, "text": text, "version": current.number},
    )
    db.add(check)
    db.flush()
    log_action(db, access, today, "consent_opened", check=check.id)
    return check


def find_check(db: Session, access: RoomAccess, check_id: str) -> ConsentCheck:
    """A consent check of this room; ConsentCheckNotFound otherwise."""
    check = db.get(ConsentCheck, check_id) if 0 < len(check_id) <= 32 else None
    if check is None or check.room_id != access.room.id:
        raise ConsentCheckNotFound
    return check


def answer_check(db: Session, access: RoomAccess, check_id: str, answer: str, reason: str) -> None:
    """Agree, abstain, or object with a reason; a later answer replaces an earlier one."""
    check = find_check(db, access, check_id)
    if check.status != ConsentStatus.OPEN or access.room.state not in CHECK_STATES:
        raise ConsentCheckClosed
    if answer not in CONSENT_ANSWERS:
        raise InvalidInput("answer", "required")
    # Only an objection needs a reason; a reason typed with another answer is kept too,
    # and shown as the member's own, but the results list the reasons of objections.
    clean = clean_text(reason, "reason", MAX_REASON, required=answer == "object")
    tag = access.room_tag(CONSENT_TAG, check.id)
    content = access.keyring.seal(
        "consent_answer",
        answer_record(check.id, tag),
        access.room.key_version,
        {"answer": answer, "reason": clean},
    )
    access.anonymous(db).put(
        Write(
            key=consent_answer_key(check.id, tag),
            room_id=access.room.id,
            action=CONSENT_ANSWER_PUT,
            row={
                "check_id": check.id,
                "tag": tag,
                "key_version": access.room.key_version,
                "content": content,
            },
        )
    )


def queued_answers(db: Session, access: RoomAccess) -> bool:
    """Whether answers to this room's open checks still wait in the anonymous queue."""
    return any(
        write.action == CONSENT_ANSWER_PUT for write in access.anonymous(db).pending(access.room.id)
    )


def _close(db: Session, access: RoomAccess, check: ConsentCheck, today: date) -> None:
    """Tally the answers into sealed results, delete the answers, log the closing."""
    tally: Counter[str] = Counter()
    reasons: list[str] = []
    for row in db.scalars(select(ConsentAnswer).where(ConsentAnswer.check_id == check.id)):
        try:
            data = access.keyring.open(
                "consent_answer",
                answer_record(check.id, bytes(row.tag)),
                row.key_version,
                row.content,
            )
        except CryptoError:
            # Sealed under a key this coordinator does not hold; counted as nothing.
            continue
        answer = str(data.get("answer"))
        if answer not in CONSENT_ANSWERS:
            continue
        tally[answer] += 1
        if answer == "object" and data.get("reason"):
            reasons.append(str(data["reason"]))
    check.status = ConsentStatus.CLOSED
    check.results_key_version = access.room.key_version
    check.results = access.keyring.seal(
        "consent_results",
        check_record(check),
        access.room.key_version,
        {**{answer: tally[answer] for answer in CONSENT_ANSWERS}, "reasons": sorted(reasons)},
    )
    db.flush()
    # The tally is all that is kept: no tag outlives the check. The answers are deleted
    # in a batch of anonymous writes, not in this request's transaction (writes.py).
    access.anonymous(db).put(
        Write(
            key=consent_purge_key(check.id),
            room_id=access.room.id,
            action=CONSENT_PURGE,
            row={"check_id": check.id},
        )
    )
    log_action(db, access, today, "consent_closed", check=check.id)


def close_check(db: Session, access: RoomAccess, check_id: str, today: date) -> None:
    """Close a consent check: its results are counted and shown to the room."""
    access.require_coordinator()
    check = find_check(db, access, check_id)
    if check.status != ConsentStatus.OPEN:
        raise ConsentCheckClosed
    _close(db, access, check, today)


def close_open_checks(db: Session, access: RoomAccess, today: date) -> int:
    """Close every open check of the room (it is leaving drafting); returns how many."""
    checks = list(
        db.scalars(
            select(ConsentCheck).where(
                ConsentCheck.room_id == access.room.id,
                ConsentCheck.status == ConsentStatus.OPEN,
            )
        )
    )
    for check in checks:
        _close(db, access, check, today)
    return len(checks)


def _my_answers(
    db: Session, access: RoomAccess, checks: Sequence[ConsentCheck]
) -> dict[str, dict[str, str]]:
    """This member's answers to these open checks, queued ones over stored ones."""
    tags = {access.room_tag(CONSENT_TAG, check.id): check.id for check in checks}
    found: dict[str, dict[str, str]] = {}
    rows: list[tuple[str, bytes, int, bytes]] = (
        [
            (str(row.check_id), bytes(row.tag), row.key_version, bytes(row.content))
            for row in db.scalars(
                select(ConsentAnswer).where(
                    ConsentAnswer.check_id.in_(list(tags.values())),
                    ConsentAnswer.tag.in_(list(tags)),
                )
            )
        ]
        if tags
        else []
    )
    for write in access.anonymous(db).pending(access.room.id):
        if write.action == CONSENT_ANSWER_PUT and bytes(write.row["tag"]) in tags:
            rows.append(
                (
                    str(write.row["check_id"]),
                    bytes(write.row["tag"]),
                    int(write.row["key_version"]),
                    bytes(write.row["content"]),
                )
            )
    for check_id, tag, key_version, blob in rows:
        if tags.get(tag) != check_id:
            continue
        try:
            data = access.keyring.open(
                "consent_answer", answer_record(check_id, tag), key_version, blob
            )
        except CryptoError:
            continue
        found[check_id] = {"answer": str(data["answer"]), "reason": str(data.get("reason", ""))}
    return found


def consent_checks(db: Session, access: RoomAccess) -> list[CheckView]:
    """The room's consent checks, open ones first: questions, this member's own answers,
    and the results of the closed ones."""
    checks = list(
        db.scalars(
            select(ConsentCheck)
            .where(ConsentCheck.room_id == access.room.id)
            .order_by(ConsentCheck.status.desc(), ConsentCheck.opened_on.desc(), ConsentCheck.id)
        )
    )
    open_checks = [check for check in checks if check.status == ConsentStatus.OPEN]
    mine = _my_answers(db, access, open_checks)
    views = []
    for check in checks:
        record = check_record(check)
        try:
            data = access.keyring.open("consent_check", record, check.key_version, check.content)
        except CryptoError:
            continue
        results = None
        if check.status == ConsentStatus.CLOSED and check.results is not None:
            tally = access.keyring.open(
                "consent_results", record, check.results_key_version or 0, check.results
            )
            results = ConsentResults(
                agree=int(tally["agree"]),
                abstain=int(tally["abstain"]),
                object=int(tally["object"]),
                reasons=tuple(str(reason) for reason in tally["reasons"]),
            )
        own = mine.get(check.id, {})
        views.append(
            CheckView(
                id=check.id,
                anchor=check.anchor,
                status=check.status,
                question=str(data.get("question", "")),
                text=str(data.get("text", "")),
                version=int(data.get("version", 0)),
                opened_on=check.opened_on,
                my_answer=own.get("answer"),
                my_reason=own.get("reason", ""),
                results=results,
            )
        )
    return views
