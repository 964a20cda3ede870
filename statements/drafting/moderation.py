"""Moderation: accepting changes (merged three ways into a new version), rejecting,
hiding, incorporating, and addressing comments.

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
    InvalidInput,
    MergeNeeded,
    NotAChange,
    NotAComment,
    NotPending,
    UnknownSection,
    VersionConflict,
    VersionNotFound,
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
from statements.text.merge import Labels, Merged, ThreeWay, has_conflict_markers, merge_texts

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


def _proposal(access: RoomAccess, contribution: Contribution) -> tuple[str, str]:
    """A proposed change's text and the section text it was written against."""
    data = access.keyring.open(
        "contribution",
        contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    if data.get("removed"):
        raise NotPending
    return str(data["text"]), str(data["base"])


def _section_then(db: Session, access: RoomAccess, number: int, anchor: str) -> str:
    """A section's text in an earlier version; "" if that version or section is unknown,
    so that a merge against it marks everything both sides hold as a conflict."""
    if not 0 < number <= access.room.current_version:
        return ""
    try:
        return version(db, access, number).section(anchor).markdown
    except (VersionNotFound, UnknownSection):
        return ""


def proposal_merge(
    db: Session,
    access: RoomAccess,
    contribution_id: str,
    labels: Labels | None = None,
    *,
    edited: str | None = None,
    edited_against: int | None = None,
) -> MergeNeeded:
    """What accepting a proposed change would write, for the coordinator to check first.

    An amendment is merged three ways: the section it was written against, the section
    now, and the proposal; parts that do not conflict are merged, conflicts are marked.
    A coordinator's own edited text, made against an older version, is merged the same
    way against that version. Never just the proposal over a section changed since: that
    would undo what was accepted in between.
    """
    contribution = _moderatable(db, access, contribution_id)
    # A comment changes no text; a translation is accepted by translation_offers.py.
    if contribution.kind in (ContributionKind.COMMENT, ContributionKind.TRANSLATION):
        raise NotAChange
    if contribution.anchor is None:
        raise UnknownSection
    current = version(db, access)
    section = current.section(contribution.anchor).markdown
    proposed, base = _proposal(access, contribution)
    if contribution.kind == ContributionKind.ADDITION:
        # An addition is new text after the section: nothing in the section to merge with.
        text = proposed if edited is None else edited
        return MergeNeeded(ThreeWay(base, section, proposed, text, 0), current.number)
    if edited is not None and edited_against != current.number:
        earlier = _section_then(db, access, edited_against or 0, contribution.anchor)
        merged = merge_texts(earlier, section, edited, labels)
    elif edited is not None:
        merged = Merged(edited, 0)
    elif base == section:
        merged = Merged(proposed, 0)
    else:
        merged = merge_texts(base, section, proposed, labels)
    return MergeNeeded(
        ThreeWay(base, section, proposed, merged.text, merged.conflicts), current.number
    )


def accept(
    db: Session,
    access: RoomAccess,
    contribution_id: str,
    expected: int,
    today: date,
    merged_text: str | None = None,
    labels: Labels | None = None,
) -> int:
    """Accept a proposed change, as proposed or with the coordinator's edits: a new version.

    Comments are not accepted (NotAChange): they are addressed. When the section changed
    after the amendment was written, or the draft changed since the coordinator's text
    was made, raises MergeNeeded with the three-way merge: never a silent overwrite.
    Text that still holds conflict markers is refused. Returns the new version number.
    """
    contribution = _moderatable(db, access, contribution_id)
    # A comment changes no text; a translation is accepted by translation_offers.py.
    if contribution.kind in (ContributionKind.COMMENT, ContributionKind.TRANSLATION):
        raise NotAChange
    if contribution.anchor is None:
        raise UnknownSection
    current = version(db, access)
    section = current.section(contribution.anchor)
    if merged_text is not None:
        text = clean_text(merged_text, "text", MAX_DRAFT)
        if has_conflict_markers(text):
            raise InvalidInput("text", "conflict_markers")
        if expected != current.number and contribution.kind == ContributionKind.AMENDMENT:
            raise proposal_merge(
                db, access, contribution_id, labels, edited=text, edited_against=expected
            )
    else:
        proposed, base = _proposal(access, contribution)
        # Stored before proposals were checked for markers, perhaps: never into a version.
        if has_conflict_markers(proposed):
            raise InvalidInput("text", "conflict_markers")
        if expected != current.number:
            raise VersionConflict(current.number)
        if contribution.kind == ContributionKind.AMENDMENT and section.markdown != base:
            raise proposal_merge(db, access, contribution_id, labels)
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
    number = commit_version(db, access, current.number, new_sections, note, today)
    _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)
    return number


def address(db: Session, access: RoomAccess, contribution_id: str, note: str, today: date) -> None:
    """Mark a comment as addressed, with an optional note sealed like a decision's."""
    contribution = _moderatable(db, access, contribution_id)
    if contribution.kind != ContributionKind.COMMENT:
        raise NotAComment
    note = clean_text(note, "note", MAX_NOTE, required=False)
    if note:
        _decide(db, access, contribution, ContributionStatus.ADDRESSED, today, note=note)
    else:
        _decide(db, access, contribution, ContributionStatus.ADDRESSED, today)
    db.flush()


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
