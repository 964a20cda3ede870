"""Consent checks: does the room consent to a section, or to the whole text?

A coordinator opens a check; each member agrees, abstains, or objects with a reason, once
(and may change it while it is open), deduplicated by their tag for that check, bound to
the room: tags of two checks, or of two rooms, cannot be told to be one member's. Answers
are sealed and go through the member's anonymous channel (statements/writes.py). Nobody,
coordinators included, sees them while the check is open. Closing it only stops new
answers: answers still waiting in the anonymous queue must go in with an ordinary batch,
never be forced in by the closing request (statements/mixing.py), so the tally into the
check's sealed results (counts and reasons without identities) is made by the first page
view after none of that check's answers is queued any more; the answers are then deleted.
Leaving drafting closes every open check the same way (rooms.change_state).
Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from statements.drafting.access import CONSENT_TAG, RoomAccess
from statements.drafting.agreement import MAX_REASON
from statements.drafting.errors import (
    ConsentCheckClosed,
    ConsentCheckNotFound,
    InvalidInput,
    WrongState,
)
from statements.drafting.log import log_action
from statements.drafting.versions import version
from statements.models import (
    ConsentAnswer,
    ConsentCheck,
    ConsentStatus,
    RoomState,
    random_id,
)
from statements.text.clean import clean_text
from statements.writes import (
    CONSENT_ANSWER_PUT,
    CONSENT_PURGE,
    Write,
    consent_answer_key,
    consent_purge_key,
)

# What a member may answer to a consent check.
CONSENT_ANSWERS = ("agree", "abstain", "object")
# Consent checks belong to drafting and consolidating: once the text is frozen they close.
CHECK_STATES = (RoomState.DRAFTING, RoomState.CONSOLIDATING)
# Below this many answers the counts and reasons are withheld: a coordinator could
# otherwise ask one member to answer and read what that one member said.
MIN_ANSWERS_SHOWN = 3


@dataclass(frozen=True)
class ConsentResults:
    """A closed check's tally: counts and reasons, nobody's identity."""

    agree: int
    abstain: int
    object: int
    reasons: tuple[str, ...]
    # Answers sealed under a key the counting member did not hold: counted, not read.
    unreadable: int = 0

    @property
    def total(self) -> int:
        """How many members answered."""
        return self.agree + self.abstain + self.object + self.unreadable

    @property
    def withheld(self) -> bool:
        """Too few answers to show counts or reasons without revealing who said what."""
        return self.total < MIN_ANSWERS_SHOWN


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

    @property
    def counting(self) -> bool:
        """Closed, but some answers still wait in the queue: no results yet."""
        return self.status == ConsentStatus.CLOSED and self.results is None


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


def _queued_checks(db: Session, access: RoomAccess) -> set[str]:
    """The checks of this room that have answers still waiting in the anonymous queue."""
    return {
        str(write.row["check_id"])
        for write in access.anonymous(db).pending(access.room.id)
        if write.action == CONSENT_ANSWER_PUT
    }


def _close(db: Session, access: RoomAccess, check: ConsentCheck, today: date) -> None:
    """Stop taking answers and log the closing; the tally comes later (_tally)."""
    check.status = ConsentStatus.CLOSED
    db.flush()
    log_action(db, access, today, "consent_closed", check=check.id)


def _tally(db: Session, access: RoomAccess, check: ConsentCheck) -> dict[str, object] | None:
    """Count a closed check's answers into its sealed results and queue their deletion.

    Called only once none of its answers is queued. Returns the results, or None if
    another request counted them first (they are then read from the row).
    """
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
            # Sealed under a key this member does not hold: counted, its content unread.
            tally["unreadable"] += 1
            continue
        answer = str(data.get("answer"))
        if answer not in CONSENT_ANSWERS:
            tally["unreadable"] += 1
            continue
        tally[answer] += 1
        if answer == "object" and data.get("reason"):
            reasons.append(str(data["reason"]))
    results: dict[str, object] = {
        **{answer: tally[answer] for answer in CONSENT_ANSWERS},
        "unreadable": tally["unreadable"],
        "reasons": sorted(reasons),
    }
    sealed = access.keyring.seal(
        "consent_results", check_record(check), access.room.key_version, results
    )
    # Only if nobody counted first: two members viewing at once must not both count,
    # the second after the answers were already deleted.
    done = db.execute(
        update(ConsentCheck)
        .where(ConsentCheck.id == check.id, ConsentCheck.results.is_(None))
        .values(results=sealed, results_key_version=access.room.key_version)
        .execution_options(synchronize_session=False)
    )
    db.expire(check)
    if getattr(done, "rowcount", 0) != 1:
        return None
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
    return results


def close_check(db: Session, access: RoomAccess, check_id: str, today: date) -> None:
    """Close a consent check: it takes no more answers; its results are counted once
    its queued answers are in."""
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


def _count(tally: dict[str, object], name: str) -> int:
    value = tally.get(name, 0)
    return value if isinstance(value, int) else 0


def _items(tally: dict[str, object], name: str) -> list[object]:
    value = tally.get(name, [])
    return list(value) if isinstance(value, list | tuple) else []


def consent_checks(db: Session, access: RoomAccess) -> list[CheckView]:
    """The room's consent checks, open ones first: questions, this member's own answers,
    and the results of the closed ones, counted here once none of their answers is queued."""
    checks = list(
        db.scalars(
            select(ConsentCheck)
            .where(ConsentCheck.room_id == access.room.id)
            .order_by(ConsentCheck.status.desc(), ConsentCheck.opened_on.desc(), ConsentCheck.id)
        )
    )
    open_checks = [check for check in checks if check.status == ConsentStatus.OPEN]
    mine = _my_answers(db, access, open_checks)
    uncounted = [c for c in checks if c.status == ConsentStatus.CLOSED and c.results is None]
    queued = _queued_checks(db, access) if uncounted else set()
    counted: dict[str, dict[str, object]] = {}
    for check in uncounted:
        if check.id not in queued:
            fresh = _tally(db, access, check)
            if fresh is not None:
                counted[check.id] = fresh
    views = []
    for check in checks:
        record = check_record(check)
        try:
            data = access.keyring.open("consent_check", record, check.key_version, check.content)
        except CryptoError:
            continue
        results = None
        tally: dict[str, object] | None = counted.get(check.id)
        if tally is None and check.status == ConsentStatus.CLOSED and check.results is not None:
            tally = access.keyring.open(
                "consent_results", record, check.results_key_version or 0, check.results
            )
        if tally is not None:
            results = ConsentResults(
                agree=_count(tally, "agree"),
                abstain=_count(tally, "abstain"),
                object=_count(tally, "object"),
                reasons=tuple(str(reason) for reason in _items(tally, "reasons")),
                unreadable=_count(tally, "unreadable"),
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
