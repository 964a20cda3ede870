"""Contributions: every kind, what is refused, when they close, the pending cap, editing
and withdrawing one's own, supports, and pages that differ only in what is one's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    InvalidInput,
    PendingCapReached,
    SupportRefused,
    UnknownSection,
    WrongState,
)
from statements.models import Contribution, RoomState
from tests.support import app_today, join_room, member_identity


def _first_paragraph(session: Session, who: Identity, room_id: str) -> str:
    access = drafting.open_room(session, room_id, who)
    return drafting.version(session, access).sections[1].anchor


def test_contributions_of_every_kind(session: Session, member: Identity, room_id: str) -> None:
    anchor = _first_paragraph(session, member, room_id)
    access = drafting.open_room(session, room_id, member)
    for kind, at in (
        ("amendment", anchor),
        ("addition", anchor),
        ("comment", anchor),
        ("comment", None),
    ):
        drafting.submit_contribution(session, access, kind, at, f"A {kind}.", app_today())
    views, total = drafting.contributions_page(session, access, 1)
    assert total == 4
    assert all(view.mine for view in views)
    assert {view.text for view in views} == {"A amendment.", "A addition.", "A comment."}


@pytest.mark.parametrize(
    ("kind", "anchor", "text", "error"),
    [
        ("amendment", "s-00000000", "x", UnknownSection),
        ("amendment", None, "x", UnknownSection),
        ("amendment", "first", "x" * 10_001, InvalidInput),
        ("amendment", "first", "   ", InvalidInput),
        ("vote", "first", "x", InvalidInput),
    ],
)
def test_bad_contributions_are_refused(
    session: Session,
    member: Identity,
    room_id: str,
    kind: str,
    anchor: str | None,
    text: str,
    error: type,
) -> None:
    if anchor == "first":
        anchor = _first_paragraph(session, member, room_id)
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(error):
        drafting.submit_contribution(session, access, kind, anchor, text, app_today())
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_contributions_close_with_the_state_and_the_deadline(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(DeadlinePassed):
        drafting.submit_contribution(
            session, access, "comment", anchor, "Late.", app_today() + timedelta(days=15)
        )
    drafting.change_state(
        session,
        drafting.open_room(session, room_id, coordinator),
        RoomState.CONSOLIDATING,
        app_today(),
    )
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(WrongState):
        drafting.submit_contribution(session, access, "comment", anchor, "Closed.", app_today())
    with pytest.raises(WrongState):
        drafting.change_state(
            session,
            drafting.open_room(session, room_id, coordinator),
            RoomState.PUBLISHED,
            app_today(),
        )


def test_pending_cap_per_member(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    access.room.pending_cap = 3
    for n in range(3):
        drafting.submit_contribution(session, access, "comment", None, f"Comment {n}.", app_today())
    with pytest.raises(PendingCapReached):
        drafting.submit_contribution(session, access, "comment", None, "One too many.", app_today())
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    drafting.submit_contribution(
        session, drafting.open_room(session, room_id, other), "comment", None, "Mine.", app_today()
    )


def test_only_the_author_edits_or_withdraws_while_pending(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, access, "comment", None, "First words.", app_today()
    )
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    other_access = drafting.open_room(session, room_id, other)
    with pytest.raises(ContributionNotFound):
        drafting.edit_contribution(session, other_access, contribution.id, "Hijacked.", app_today())
    with pytest.raises(ContributionNotFound):
        drafting.withdraw_contribution(session, other_access, contribution.id)
    drafting.edit_contribution(session, access, contribution.id, "Better words.", app_today())
    assert [v.text for v in drafting.my_contributions(session, access)] == ["Better words."]
    drafting.withdraw_contribution(session, access, contribution.id)
    assert drafting.my_contributions(session, access) == []


def test_supports(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, access, "comment", None, "Support me.", app_today()
    )
    with pytest.raises(SupportRefused):
        drafting.support(session, access, contribution.id, True)
    supporters = [member_identity(app, session) for _ in range(2)]
    for supporter in supporters:
        join_room(session, coordinator, room_id, supporter)
        supporter_access = drafting.open_room(session, room_id, supporter)
        drafting.support(session, supporter_access, contribution.id, True)
        drafting.support(session, supporter_access, contribution.id, True)  # still one
    views, _ = drafting.contributions_page(session, access, 1)
    assert views[0].supports == 2
    assert drafting.my_contributions(session, access)[0].supports == 2
    first = drafting.open_room(session, room_id, supporters[0])
    assert drafting.contributions_page(session, first, 1)[0][0].supported
    drafting.support(session, first, contribution.id, False)
    assert drafting.contributions_page(session, access, 1)[0][0].supports == 1


def test_pages_for_different_members_differ_only_in_what_is_theirs(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    mine = drafting.open_room(session, room_id, member)
    theirs = drafting.open_room(session, room_id, other)
    drafting.submit_contribution(session, mine, "comment", None, "From one.", app_today())
    drafting.submit_contribution(session, theirs, "comment", None, "From another.", app_today())
    as_member, _ = drafting.contributions_page(session, mine, 1)
    as_other, _ = drafting.contributions_page(session, theirs, 1)
    as_coordinator, _ = drafting.contributions_page(
        session, drafting.open_room(session, room_id, coordinator), 1
    )
    strip = lambda views: [(v.id, v.text, v.status, v.created_on, v.supports) for v in views]  # noqa: E731
    assert strip(as_member) == strip(as_other) == strip(as_coordinator)
    assert [v.mine for v in as_member] != [v.mine for v in as_other]
    assert not any(v.mine for v in as_coordinator)
