"""Proposals as changes: three-way merges of a proposal with the section as it is now, of
two coordinators' edits of the draft, and comments that are addressed, not accepted."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.errors import (
    InvalidInput,
    MergeNeeded,
    NotAChange,
    NotAComment,
    VersionConflict,
)
from statements.drafting.versions import MAX_DRAFT
from statements.models import ContributionStatus
from statements.text.changes import rendered_diff_html
from statements.text.merge import has_conflict_markers, merge_drafts, merge_texts
from tests.support import DRAFT, app_today, staff_identity

SECTION = "Refugees in the region are denied the right to work."


# --- the text tool ----------------------------------------------------------------------


def test_changes_to_different_words_merge_without_a_conflict() -> None:
    merged = merge_texts(
        SECTION,
        "Refugees across the region are denied the right to work.",
        "Refugees in the region are denied the right to lawful work.",
    )
    assert merged.conflicts == 0
    assert merged.text == "Refugees across the region are denied the right to lawful work."


def test_changes_to_the_same_words_are_marked_as_a_conflict_keeping_both() -> None:
    merged = merge_texts(
        SECTION,
        "Refugees across the region are denied the right to work.",
        "Refugees throughout the region are denied the right to work.",
    )
    assert merged.conflicts == 1
    assert has_conflict_markers(merged.text)
    assert "across" in merged.text
    assert "throughout" in merged.text
    assert merged.text.startswith("Refugees \n<<<<<<< now\nacross\n=======\nthroughout\n>>>>>>>")


def test_a_setext_heading_is_not_taken_for_a_conflict() -> None:
    assert not has_conflict_markers("Title\n=======\n\nText.")
    assert has_conflict_markers("Text.\n<<<<<<< now\nA\n=======\nB\n>>>>>>> proposed\n")


def test_two_edits_of_different_sections_merge_and_of_one_section_do_not() -> None:
    theirs = DRAFT.replace("in the region", "across the region")
    mine = DRAFT.replace("without delay", "within three months")
    apart = merge_drafts(DRAFT, theirs, mine)
    assert not apart.overlapping
    assert "across the region" in apart.text
    assert "within three months" in apart.text
    together = merge_drafts(DRAFT, theirs, DRAFT.replace("in the region", "in this region"))
    assert together.overlapping
    assert together.conflicts == 1
    assert "across" in together.text


def test_a_merge_too_costly_to_compare_finely_still_keeps_every_word() -> None:
    # Thousands of repeated words: the matcher runs out of budget and matches coarsely.
    base = " ".join(f"w{n % 7}" for n in range(6000))
    current = base.replace("w3", "three", 1)
    proposed = base + " end"
    merged = merge_texts(base, current, proposed)
    assert "three" in merged.text
    assert "end" in merged.text


def test_a_rendered_diff_shows_formatting_not_markdown_and_announces_changes() -> None:
    html = rendered_diff_html(
        "# Title\n\nThe **cat** sat.\n\n- one",
        "# New title\n\nThe **cat** sat down.\n\n- one\n- two",
    )
    assert "<h1>" in html
    assert "<strong>cat</strong>" in html
    assert "**" not in html
    assert "#" not in html
    assert '<ins><span class="visually-hidden">inserted: </span>two</ins>' in html
    assert '<del><span class="visually-hidden">deleted: </span>Title</del>' in html
    assert "<li>" in html


def test_a_rendered_diff_escapes_what_was_typed() -> None:
    html = rendered_diff_html("Text.", "Text. <script>alert(1)</script> \ue002x\ue003")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # Marks typed by someone are not taken for changes.
    assert html.count("<ins>") == 1


# --- accepting a proposed change ----------------------------------------------------------


def _propose(session: Session, who: Identity, room_id: str, kind: str, text: str) -> str:
    access = drafting.open_room(session, room_id, who)
    anchor = drafting.version(session, access).sections[1].anchor
    return drafting.submit_contribution(session, access, kind, anchor, text, app_today()).id


def _section(session: Session, coordinator: Identity, room_id: str) -> str:
    access = drafting.open_room(session, room_id, coordinator)
    return drafting.version(session, access).sections[1].markdown


def test_a_second_change_to_a_changed_section_is_merged_with_the_first(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    first = _propose(session, member, room_id, "amendment", SECTION.replace("in the", "across the"))
    second = _propose(
        session, member, room_id, "amendment", SECTION.replace("to work", "to lawful work")
    )
    access = drafting.open_room(session, room_id, coordinator)
    assert drafting.accept(session, access, first, 1, app_today()) == 2
    with pytest.raises(MergeNeeded) as needed:
        drafting.accept(session, access, second, 2, app_today())
    merge = needed.value.merge
    assert merge.conflicts == 0
    assert merge.merged == "Refugees across the region are denied the right to lawful work."
    assert (merge.base, merge.current) == (SECTION, SECTION.replace("in the", "across the"))
    assert drafting.version(session, access).number == 2
    drafting.accept(session, access, second, 2, app_today(), merged_text=merge.merged)
    assert _section(session, coordinator, room_id) == merge.merged


def test_the_box_never_holds_text_that_would_revert_an_accepted_change(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    accepted = _propose(
        session, member, room_id, "amendment", SECTION.replace("in the", "across the")
    )
    rival = _propose(session, member, room_id, "amendment", "Refugees in this region cannot work.")
    access = drafting.open_room(session, room_id, coordinator)
    drafting.accept(session, access, accepted, 1, app_today())
    # Whether the coordinator presses Accept or opens Accept with edits, the text offered
    # keeps the accepted change: saving it as offered must not undo it.
    with pytest.raises(MergeNeeded) as needed:
        drafting.accept(session, access, rival, 2, app_today())
    offered = [
        needed.value.merge.merged,
        drafting.proposal_merge(session, access, rival).merge.merged,
    ]
    for text in offered:
        # The accepted word is there (inside the marked conflict, beside the rival's).
        assert "across" in text
        assert text != "Refugees in this region cannot work."
    assert needed.value.merge.conflicts == 1
    # As offered it still holds the conflict: refused, with nothing saved.
    with pytest.raises(InvalidInput) as refused:
        drafting.accept(session, access, rival, 2, app_today(), merged_text=offered[0])
    assert refused.value.reason == "conflict_markers"
    assert drafting.version(session, access).number == 2


def test_text_edited_against_an_older_version_is_merged_again_not_saved(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    first = _propose(session, member, room_id, "amendment", SECTION.replace("in the", "across the"))
    second = _propose(
        session, member, room_id, "amendment", SECTION.replace("work.", "work legally.")
    )
    access = drafting.open_room(session, room_id, coordinator)
    # The coordinator opens "Accept with edits" for the second while the draft is at 1...
    edited = drafting.proposal_merge(session, access, second).merge.merged + " Now."
    # ...and someone accepts the first meanwhile.
    drafting.accept(session, access, first, 1, app_today())
    with pytest.raises(MergeNeeded) as needed:
        drafting.accept(session, access, second, 1, app_today(), merged_text=edited)
    assert needed.value.number == 2
    assert needed.value.merge.merged == (
        "Refugees across the region are denied the right to work legally. Now."
    )
    # An unknown base version (a tampered form) merges against nothing: all conflict.
    with pytest.raises(MergeNeeded) as unknown:
        drafting.accept(session, access, second, 99, app_today(), merged_text=edited)
    assert unknown.value.merge.conflicts == 1
    assert "across the region" in unknown.value.merge.merged
    assert drafting.version(session, access).number == 2


def test_accept_with_edits_and_the_limits(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    change = _propose(session, member, room_id, "amendment", "Refugees cannot work.")
    addition = _propose(session, member, room_id, "addition", "Many have waited years.")
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput) as huge:
        drafting.accept(session, access, change, 1, app_today(), merged_text="x" * (MAX_DRAFT + 1))
    assert huge.value.reason == "too_long"
    with pytest.raises(InvalidInput):
        drafting.accept(session, access, change, 1, app_today(), merged_text="   ")
    # A plain accept from a page older than the draft is refused, not applied.
    with pytest.raises(VersionConflict):
        drafting.accept(session, access, change, 0, app_today())
    assert drafting.version(session, access).number == 1
    drafting.accept(
        session, access, change, 1, app_today(), merged_text="Refugees can **not** work."
    )
    assert _section(session, coordinator, room_id) == "Refugees can **not** work."
    # An addition is new text after its section: it never conflicts with the section.
    assert drafting.accept(session, access, addition, 2, app_today()) == 3
    sections = [s.markdown for s in drafting.version(session, access).sections]
    assert sections[1:3] == ["Refugees can **not** work.", "Many have waited years."]


# --- comments -------------------------------------------------------------------------------


def test_a_comment_is_addressed_with_a_note_never_accepted(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    member_access = drafting.open_room(session, room_id, member)
    comment = drafting.submit_contribution(
        session, member_access, "comment", None, "Cite the survey?", app_today()
    ).id
    change = _propose(session, member, room_id, "amendment", "Other words.")
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(NotAChange):
        drafting.accept(session, access, comment, 1, app_today())
    with pytest.raises(NotAChange):
        drafting.proposal_merge(session, access, comment)
    with pytest.raises(NotAComment):
        drafting.address(session, access, change, "", app_today())
    with pytest.raises(InvalidInput):
        drafting.address(session, access, comment, "n" * 2001, app_today())
    drafting.address(session, access, comment, "Cited in §2.", app_today())
    own = {view.id: view for view in drafting.my_contributions(session, member_access)}
    assert own[comment].status == ContributionStatus.ADDRESSED
    assert own[comment].note == "Cited in §2."
    assert [line.action for line in drafting.moderation_log(session, access, 1)] == ["addressed"]
    assert drafting.version(session, access).number == 1


# --- two coordinators editing the whole draft ---------------------------------------------


def test_edits_of_different_sections_by_two_coordinators_are_merged(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    second = staff_identity(app, session, "second")
    drafting.add_coordinator(session, drafting.open_room(session, room_id, coordinator), "second")
    first_access = drafting.open_room(session, room_id, coordinator)
    second_access = drafting.open_room(session, room_id, second)
    base = drafting.version(session, first_access).markdown
    drafting.edit_draft(
        session,
        first_access,
        base.replace("in the region", "across the region"),
        "One",
        1,
        app_today(),
    )
    number = drafting.edit_draft(
        session, second_access, base.replace("without delay", "at once"), "Two", 1, app_today()
    )
    assert number == 3
    text = drafting.version(session, first_access).markdown
    assert "across the region" in text
    assert "at once" in text
    # The same section: the merge comes back to be checked, and markers are refused.
    with pytest.raises(MergeNeeded) as needed:
        drafting.edit_draft(
            session, second_access, base.replace("in the region", "here"), "Three", 1, app_today()
        )
    assert needed.value.number == 3
    assert "across" in needed.value.merge.merged
    assert "at once" in needed.value.merge.merged
    with pytest.raises(InvalidInput) as refused:
        drafting.edit_draft(
            session, second_access, needed.value.merge.merged, "Three", 3, app_today()
        )
    assert refused.value.reason == "conflict_markers"
    assert drafting.version(session, first_access).number == 3
