"""Moderation: accepting (merging into a new version), rejecting, hiding, incorporating.

Each decision is a compare-and-swap on the contribution's status, sealed under the current
key, and logged without saying who wrote what was decided on.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from statements.drafting.access import RoomAccess
from statements.drafting.contributions import REMOVED, contribution_record, find_contribution
from statements.drafting.errors import (
    EditConflict,
    InvalidInput,
    NotPending,
    UnknownSection,
    VersionConflict,
    WrongState,
)
from statements.drafting.log import log_action
from statements.drafting.versions import MAX_DRAFT, check_draft_size, commit_version, version
from statements.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Flag,
    RoomState,
)
from statements.text.clean import MAX_NOTE, clean_text
from statements.text.markdown import Section, sections_from_markdown

REJECT_REASONS = ("duplicate", "out_of_scope", "offensive", "unsafe", "other")


def _moderatable(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    access.require_coordinator()
    if access.room.state not in (RoomState.DRAFTING, RoomState.CONSOLIDATING):
        raise WrongState(access.room.state)
    contribution = find_contribution(db, access, contribution_id)
    if contribution.status != ContributionStatus.PENDING:
        raise NotPending
    return contribution


def _decide(
    db: Session,
    access: RoomAccess,
    contribution: Contribution,
    status: str,
    today: date,
    **decision: str,
) -> None:
    # Compare-and-swap on the status: an accept and a reject racing cannot both win.
    result = db.execute(
        update(Contribution)
        .where(
            Contribution.id == contribution.id, Contribution.status == ContributionStatus.PENDING
        )
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise NotPending
    set_committed_value(contribution, "status", status)
    if decision:
        # Under the current key: a member removed earlier must not read the reason.
        contribution.decision_key_version = access.room.key_version
        contribution.decision = access.keyring.seal(
            "decision", contribution_record(contribution), access.room.key_version, decision
        )
    # Decided: no longer waiting for a safety review.
    db.execute(delete(Flag).where(Flag.contribution_id == contribution.id))
    log_action(db, access, today, status, contribution=contribution.id, **decision)


def _destroy_words(access: RoomAccess, contribution: Contribution) -> None:
    """Overwrite the contribution's ciphertext with a fresh one of an empty placeholder.

    Hiding the text is not enough for words that could get someone detained: a copy of
    the database with any member's keys would still read them. The row keeps its kind,
    section, status and the decision (reason and note, which the author is shown); the
    old ciphertext is overwritten in place (secure_delete; the view checkpoints SQLite's
    write-ahead log after the commit, as after sealing).
    """
    # The placeholder says nothing, so the key it was sealed under does not matter; it
    # keeps the row's own version where this coordinator holds it.
    if contribution.key_version not in access.keyring.keys:
        contribution.key_version = access.room.key_version
    contribution.content = access.keyring.seal(
        "contribution", contribution_record(contribution), contribution.key_version, REMOVED
    )


def reject(
    db: Session, access: RoomAccess, contribution_id: str, reason: str, note: str, today: date
) -> None:
    """Reject with a required reason and an optional note the author will see."""
    contribution = _moderatable(db, access, contribution_id)
    if reason not in REJECT_REASONS:
        raise InvalidInput("reason", "required")
    note = clean_text(note, "note", MAX_NOTE, required=False)
    _decide(db, access, contribution, ContributionStatus.REJECTED, today, reason=reason, note=note)
    if reason == "unsafe":
        _destroy_words(access, contribution)
    db.flush()


def destroys_words(action: str, reason: str | None = None) -> bool:
    """Whether a moderation action destroys the contribution's words at rest."""
    return action == "hide" or (action == "reject" and reason == "unsafe")


def hide(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Hide an abusive contribution: its words are destroyed, for members and at rest."""
    contribution = _moderatable(db, access, contribution_id)
    _decide(db, access, contribution, ContributionStatus.HIDDEN, today)
    _destroy_words(access, contribution)
    db.flush()


def release(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Let members see a pending contribution without accepting it; its flags are cleared.

    In a pre-moderated room this is how a contribution becomes visible while it is
    still open for support; in either mode it ends a safety review that found nothing.
    """
    contribution = _moderatable(db, access, contribution_id)
    contribution.released = True
    db.execute(delete(Flag).where(Flag.contribution_id == contribution.id))
    log_action(db, access, today, "released", contribution=contribution.id)


def mark_incorporated(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Mark a contribution as worked into the draft by hand."""
    contribution = _moderatable(db, access, contribution_id)
    _decide(db, access, contribution, ContributionStatus.INCORPORATED, today)


def accept(
    db: Session,
    access: RoomAccess,
    contribution_id: str,
    expected: int,
    today: date,
    merged_text: str | None = None,
) -> int | None:
    """Accept a contribution; an amendment or addition becomes a new draft version.

    When the section changed after the contribution was written, and no hand-merged
    text is given, raises EditConflict: never a silent overwrite. Returns the new
    version number, or None for a comment.
    """
    contribution = _moderatable(db, access, contribution_id)
    current = version(db, access)
    if expected != current.number:
        raise VersionConflict(current.number)
    data = access.keyring.open(
        "contribution",
        contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    if contribution.kind == ContributionKind.COMMENT:
        _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)
        return None
    if contribution.anchor is None:
        raise UnknownSection
    section = current.section(contribution.anchor)
    proposed = str(data["text"])
    if merged_text is not None:
        text = clean_text(merged_text, "text", MAX_DRAFT)
    elif section.markdown != data["base"]:
        raise EditConflict(section.markdown, proposed, str(data["base"]))
    else:
        text = proposed
    new_sections: list[Section] = []
    for existing in current.sections:
        if existing.anchor != section.anchor:
            new_sections.append(existing)
        elif contribution.kind == ContributionKind.AMENDMENT:
            new_sections.extend(_reanchor(text, existing, current.sections))
        else:
            new_sections.append(existing)
            new_sections.extend(_reanchor(text, None, current.sections))
    # Accepted additions add up: every version stays within the limits, or it could not
    # be edited again.
    check_draft_size(new_sections, "text")
    note = f"Accepted a proposed {contribution.kind}"
    number = commit_version(db, access, expected, new_sections, note, today)
    _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)
    return number


def _reanchor(text: str, keep: Section | None, existing: Sequence[Section]) -> list[Section]:
    """Sections for new text: the first keeps `keep`'s anchor; the rest get fresh ones."""
    blocks = sections_from_markdown(text, list(existing))
    fresh: list[Section] = []
    taken = {section.anchor for section in existing}
    for index, block in enumerate(blocks):
        if index == 0 and keep is not None:
            fresh.append(Section(keep.anchor, block.markdown))
        elif block.anchor in taken:
            fresh.append(Section(_fresh_anchor(taken), block.markdown))
        else:
            fresh.append(block)
        taken.add(fresh[-1].anchor)
    return fresh


def _fresh_anchor(taken: set[str]) -> str:
    while True:
        anchor = f"s-{secrets.token_hex(4)}"
        if anchor not in taken:
            return anchor
