"""Moderation: accepting amendments and additions into new versions, the conflict screen,
rejecting, hiding and incorporating, reasons under the current key, decisions taken once."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import contributions
from statements.drafting import service as drafting
from statements.drafting.errors import EditConflict, InvalidInput, NotPending
from statements.models import ContributionStatus
from tests.support import app_today, join_room, member_identity


def _first_paragraph(session: Session, who: Identity, room_id: str) -> str:
    access = drafting.open_room(session, room_id, who)
    return drafting.version(session, access).sections[1].anchor


def test_accepting_an_amendment_makes_a_new_version(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    member_access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session,
        member_access,
        "amendment",
        anchor,
        "Refugees are denied the right to work.",
        app_today(),
    )
    access = drafting.open_room(session, room_id, coordinator)
    number = drafting.accept(session, access, contribution.id, 1, app_today())
    assert number == 2
    current = drafting.version(session, access)
    assert current.section(anchor).markdown == "Refugees are denied the right to work."
    assert (
        drafting.version(session, access, 1)
        .section(anchor)
        .markdown.startswith("Refugees in the region")
    )
    assert contribution.status == ContributionStatus.ACCEPTED
    with pytest.raises(NotPending):
        drafting.accept(session, access, contribution.id, 2, app_today())


def test_an_addition_goes_after_its_section(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    contribution = drafting.submit_contribution(
        session,
        drafting.open_room(session, room_id, member),
        "addition",
        anchor,
        "Many have waited years.",
        app_today(),
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.accept(session, access, contribution.id, 1, app_today())
    sections = drafting.version(session, access).sections
    position = [s.anchor for s in sections].index(anchor)
    assert sections[position + 1].markdown == "Many have waited years."
    assert len({s.anchor for s in sections}) == len(sections)


def test_a_changed_section_gets_the_conflict_screen_not_an_overwrite(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    member_access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, member_access, "amendment", anchor, "Member's wording.", app_today()
    )
    access = drafting.open_room(session, room_id, coordinator)
    current = drafting.version(session, access)
    edited = current.markdown.replace("Refugees in the region", "Refugees across the region")
    drafting.edit_draft(session, access, edited, "Wording", 1, app_today())
    with pytest.raises(EditConflict) as conflict:
        drafting.accept(session, access, contribution.id, 2, app_today())
    assert conflict.value.current_text.startswith("Refugees across the region")
    assert conflict.value.proposed_text == "Member's wording."
    assert drafting.version(session, access).number == 2
    drafting.accept(session, access, contribution.id, 2, app_today(), merged_text="Merged by hand.")
    assert drafting.version(session, access).section(anchor).markdown == "Merged by hand."


def test_reject_hide_incorporate(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    member_access = drafting.open_room(session, room_id, member)
    rejected, hidden, done = (
        drafting.submit_contribution(
            session, member_access, "comment", None, f"Text {n}.", app_today()
        )
        for n in range(3)
    )
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput):
        drafting.reject(session, access, rejected.id, "", "", app_today())
    drafting.reject(session, access, rejected.id, "unsafe", "It names a village.", app_today())
    drafting.hide(session, access, hidden.id, app_today())
    drafting.mark_incorporated(session, access, done.id, app_today())
    own = {v.id: v for v in drafting.my_contributions(session, member_access)}
    assert own[rejected.id].status == "rejected"
    assert (own[rejected.id].reason, own[rejected.id].note) == ("unsafe", "It names a village.")
    assert own[hidden.id].text == ""
    visible, _ = drafting.contributions_page(session, member_access, 1)
    assert hidden.id not in {v.id for v in visible}
    log = drafting.moderation_log(session, access, 1)
    assert {line.action for line in log} == {"rejected", "hidden", "incorporated"}
    assert all(set(line.details) <= {"reason", "note"} for line in log)


def test_reasons_given_after_a_removal_use_the_new_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    removed = member_identity(app, session)
    join_room(session, coordinator, room_id, removed)
    contribution = drafting.submit_contribution(
        session,
        drafting.open_room(session, room_id, member),
        "comment",
        None,
        "Words.",
        app_today(),
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.remove_member(
        session, access, drafting.member_number(room_id, removed.account.id), app_today()
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, contribution.id, "unsafe", "It names a shelter.", app_today())
    assert contribution.decision_key_version == access.room.key_version
    assert contribution.decision_key_version != contribution.key_version


def test_a_decision_already_taken_cannot_be_taken_again(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    contribution = drafting.submit_contribution(
        session,
        drafting.open_room(session, room_id, member),
        "comment",
        None,
        "Words.",
        app_today(),
    )
    session.commit()
    racing = app.extensions["db"].sessionmaker()
    try:
        # A second coordinator's request read the contribution while it was pending...
        racing_access = drafting.open_room(racing, room_id, coordinator)
        stale = contributions.find_contribution(racing, racing_access, contribution.id)
        assert stale.status == ContributionStatus.PENDING
        # ...then the first one hid it.
        drafting.hide(
            session, drafting.open_room(session, room_id, coordinator), contribution.id, app_today()
        )
        session.commit()
        with pytest.raises(NotPending):
            drafting.reject(racing, racing_access, contribution.id, "other", "", app_today())
    finally:
        racing.rollback()
        racing.close()
