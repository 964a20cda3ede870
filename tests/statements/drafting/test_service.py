"""The drafting service: rooms, invitations, contributions, moderation, keys, sealing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import contributions
from statements.drafting import service as drafting
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    EditConflict,
    InvalidInput,
    InvitationInvalid,
    LastCoordinator,
    NotCoordinator,
    NotEligible,
    NotPending,
    PendingCapReached,
    RoomNotFound,
    RoomSealed,
    SupportRefused,
    TitleMismatch,
    UnknownSection,
    VersionConflict,
    WrongState,
)
from statements.models import (
    Contribution,
    ContributionStatus,
    Invitation,
    RoomKey,
    RoomState,
)
from tests.support import join_room, make_room, member_identity, staff_identity

TODAY = date.today()


@pytest.fixture
def coordinator(app: Flask, session: Session) -> Identity:
    return staff_identity(app, session)


@pytest.fixture
def room_id(session: Session, coordinator: Identity) -> str:
    return make_room(session, coordinator)


@pytest.fixture
def member(app: Flask, session: Session, coordinator: Identity, room_id: str) -> Identity:
    identity = member_identity(app, session)
    join_room(session, coordinator, room_id, identity)
    return identity


def _first_paragraph(session: Session, who: Identity, room_id: str) -> str:
    access = drafting.open_room(session, room_id, who)
    return drafting.version(session, access).sections[1].anchor


def test_a_room_opens_with_its_first_version(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    assert access.is_coordinator
    assert access.details() == {"title": "Right to work", "summary": "What we ask of governments."}
    current = drafting.version(session, access)
    assert current.number == 1
    assert [s.markdown for s in current.sections][:2] == [
        "# Joint statement on the right to work",
        "Refugees in the region are denied the right to work.",
    ]
    assert len({s.anchor for s in current.sections}) == len(current.sections)


def test_members_cannot_open_rooms(app: Flask, session: Session) -> None:
    with pytest.raises(NotEligible):
        make_room(session, member_identity(app, session))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"markdown": "   "}, "markdown"),
        ({"language": "xx"}, "language"),
        ({"contribution_deadline": TODAY - timedelta(days=1)}, "contribution_deadline"),
        ({"signon_deadline": TODAY}, "signon_deadline"),
    ],
)
def test_room_input_is_validated(
    session: Session, coordinator: Identity, changes: dict[str, object], field: str
) -> None:
    data = {
        "title": "T",
        "language": "en",
        "summary": "",
        "markdown": "Text.",
        "contribution_deadline": TODAY + timedelta(days=3),
        "signon_deadline": TODAY + timedelta(days=5),
        **changes,
    }
    with pytest.raises(InvalidInput) as caught:
        drafting.create_room(session, coordinator, drafting.RoomInput(**data), TODAY)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_outsiders_get_the_same_answer_as_for_no_room(
    app: Flask, session: Session, room_id: str
) -> None:
    outsider = member_identity(app, session)
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, outsider)
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, "0" * 32, outsider)


def test_invitations(app: Flask, session: Session, coordinator: Identity, room_id: str) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    _invitation, token = drafting.create_invitation(
        session, access, 2, TODAY + timedelta(days=1), TODAY
    )
    assert drafting.invitation_room_title(session, token, TODAY) == "Right to work"
    first, second, third = (member_identity(app, session) for _ in range(3))
    drafting.accept_invitation(session, token, first, TODAY)
    drafting.accept_invitation(session, token, first, TODAY)  # joining twice uses nothing
    drafting.accept_invitation(session, token, second, TODAY)
    with pytest.raises(InvitationInvalid) as used_up:
        drafting.accept_invitation(session, token, third, TODAY)
    assert used_up.value.reason == "closed"
    assert drafting.open_room(session, room_id, second).details()["title"] == "Right to work"

    _inv, expiring = drafting.create_invitation(session, access, 5, TODAY, TODAY)
    with pytest.raises(InvitationInvalid) as expired:
        drafting.accept_invitation(session, expiring, third, TODAY + timedelta(days=1))
    assert expired.value.reason == "closed"

    revoked_invitation, revoked = drafting.create_invitation(session, access, 5, TODAY, TODAY)
    drafting.revoke_invitation(session, access, revoked_invitation.id)
    with pytest.raises(InvitationInvalid) as was_revoked:
        drafting.accept_invitation(session, revoked, third, TODAY)
    assert was_revoked.value.reason == "closed"
    assert revoked_invitation.wrapped_keys is None

    # The expired invitation lost its keys when it was tried; mistype a live one.
    _live, live = drafting.create_invitation(session, access, 5, TODAY, TODAY)
    invitation_id, secret = live.split(".")
    for mistyped in (
        f"{invitation_id}.{secret[:-2]}AA",
        f"{'f' * 32}.{secret}",
        "nonsense",
        "a.b.c",
    ):
        with pytest.raises(InvitationInvalid) as unknown:
            drafting.accept_invitation(session, mistyped, third, TODAY)
        assert unknown.value.reason == "unknown"


def test_members_cannot_invite(session: Session, member: Identity, room_id: str) -> None:
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(NotCoordinator):
        drafting.create_invitation(session, access, 1, TODAY, TODAY)


def test_contributions_of_every_kind(session: Session, member: Identity, room_id: str) -> None:
    anchor = _first_paragraph(session, member, room_id)
    access = drafting.open_room(session, room_id, member)
    for kind, at in (
        ("amendment", anchor),
        ("addition", anchor),
        ("comment", anchor),
        ("comment", None),
    ):
        drafting.submit_contribution(session, access, kind, at, f"A {kind}.", TODAY)
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
        drafting.submit_contribution(session, access, kind, anchor, text, TODAY)
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_contributions_close_with_the_state_and_the_deadline(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(DeadlinePassed):
        drafting.submit_contribution(
            session, access, "comment", anchor, "Late.", TODAY + timedelta(days=15)
        )
    drafting.change_state(
        session, drafting.open_room(session, room_id, coordinator), RoomState.CONSOLIDATING, TODAY
    )
    access = drafting.open_room(session, room_id, member)
    with pytest.raises(WrongState):
        drafting.submit_contribution(session, access, "comment", anchor, "Closed.", TODAY)
    with pytest.raises(WrongState):
        drafting.change_state(
            session, drafting.open_room(session, room_id, coordinator), RoomState.PUBLISHED, TODAY
        )


def test_pending_cap_per_member(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    access.room.pending_cap = 3
    for n in range(3):
        drafting.submit_contribution(session, access, "comment", None, f"Comment {n}.", TODAY)
    with pytest.raises(PendingCapReached):
        drafting.submit_contribution(session, access, "comment", None, "One too many.", TODAY)
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    drafting.submit_contribution(
        session, drafting.open_room(session, room_id, other), "comment", None, "Mine.", TODAY
    )


def test_only_the_author_edits_or_withdraws_while_pending(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, access, "comment", None, "First words.", TODAY
    )
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    other_access = drafting.open_room(session, room_id, other)
    with pytest.raises(ContributionNotFound):
        drafting.edit_contribution(session, other_access, contribution.id, "Hijacked.", TODAY)
    with pytest.raises(ContributionNotFound):
        drafting.withdraw_contribution(session, other_access, contribution.id)
    drafting.edit_contribution(session, access, contribution.id, "Better words.", TODAY)
    assert [v.text for v in drafting.my_contributions(session, access)] == ["Better words."]
    drafting.withdraw_contribution(session, access, contribution.id)
    assert drafting.my_contributions(session, access) == []


def test_supports(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, access, "comment", None, "Support me.", TODAY
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
    drafting.submit_contribution(session, mine, "comment", None, "From one.", TODAY)
    drafting.submit_contribution(session, theirs, "comment", None, "From another.", TODAY)
    as_member, _ = drafting.contributions_page(session, mine, 1)
    as_other, _ = drafting.contributions_page(session, theirs, 1)
    as_coordinator, _ = drafting.contributions_page(
        session, drafting.open_room(session, room_id, coordinator), 1
    )
    strip = lambda views: [(v.id, v.text, v.status, v.created_on, v.supports) for v in views]  # noqa: E731
    assert strip(as_member) == strip(as_other) == strip(as_coordinator)
    assert [v.mine for v in as_member] != [v.mine for v in as_other]
    assert not any(v.mine for v in as_coordinator)


def test_accepting_an_amendment_makes_a_new_version(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    anchor = _first_paragraph(session, member, room_id)
    member_access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(
        session, member_access, "amendment", anchor, "Refugees are denied the right to work.", TODAY
    )
    access = drafting.open_room(session, room_id, coordinator)
    number = drafting.accept(session, access, contribution.id, 1, TODAY)
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
        drafting.accept(session, access, contribution.id, 2, TODAY)


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
        TODAY,
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.accept(session, access, contribution.id, 1, TODAY)
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
        session, member_access, "amendment", anchor, "Member's wording.", TODAY
    )
    access = drafting.open_room(session, room_id, coordinator)
    current = drafting.version(session, access)
    edited = current.markdown.replace("Refugees in the region", "Refugees across the region")
    drafting.edit_draft(session, access, edited, "Wording", 1, TODAY)
    with pytest.raises(EditConflict) as conflict:
        drafting.accept(session, access, contribution.id, 2, TODAY)
    assert conflict.value.current_text.startswith("Refugees across the region")
    assert conflict.value.proposed_text == "Member's wording."
    assert drafting.version(session, access).number == 2
    drafting.accept(session, access, contribution.id, 2, TODAY, merged_text="Merged by hand.")
    assert drafting.version(session, access).section(anchor).markdown == "Merged by hand."


def test_two_coordinators_never_overwrite_each_other(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    second = staff_identity(app, session, "second")
    drafting.add_coordinator(session, drafting.open_room(session, room_id, coordinator), "second")
    first_access = drafting.open_room(session, room_id, coordinator)
    second_access = drafting.open_room(session, room_id, second)
    base = drafting.version(session, first_access).markdown
    drafting.edit_draft(session, first_access, base + "\nFirst coordinator.\n", "One", 1, TODAY)
    with pytest.raises(VersionConflict) as conflict:
        drafting.edit_draft(
            session, second_access, base + "\nSecond coordinator.\n", "Two", 1, TODAY
        )
    assert conflict.value.current_version == 2
    assert "First coordinator." in drafting.version(session, second_access).markdown


def test_reject_hide_incorporate(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    member_access = drafting.open_room(session, room_id, member)
    rejected, hidden, done = (
        drafting.submit_contribution(session, member_access, "comment", None, f"Text {n}.", TODAY)
        for n in range(3)
    )
    access = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(InvalidInput):
        drafting.reject(session, access, rejected.id, "", "", TODAY)
    drafting.reject(session, access, rejected.id, "unsafe", "It names a village.", TODAY)
    drafting.hide(session, access, hidden.id, TODAY)
    drafting.mark_incorporated(session, access, done.id, TODAY)
    own = {v.id: v for v in drafting.my_contributions(session, member_access)}
    assert own[rejected.id].status == "rejected"
    assert (own[rejected.id].reason, own[rejected.id].note) == ("unsafe", "It names a village.")
    assert own[hidden.id].text == ""
    visible, _ = drafting.contributions_page(session, member_access, 1)
    assert hidden.id not in {v.id for v in visible}
    log = drafting.moderation_log(session, access, 1)
    assert {line.action for line in log} == {"rejected", "hidden", "incorporated"}
    assert all(set(line.details) <= {"reason", "note"} for line in log)


def test_removing_a_member_rotates_the_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    access = drafting.open_room(session, room_id, coordinator)
    invitation, _token = drafting.create_invitation(session, access, 3, TODAY, TODAY)
    number = drafting.member_number(room_id, member.account.id)
    drafting.remove_member(session, access, number, TODAY)
    assert access.room.key_version == 2
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, member)
    assert not session.scalars(select(RoomKey).where(RoomKey.account_id == member.account.id)).all()
    assert session.get(Invitation, invitation.id).wrapped_keys is None  # type: ignore[union-attr]
    # New records use the new version; old ones stay readable through theirs.
    reopened = drafting.open_room(session, room_id, coordinator)
    drafting.edit_draft(session, reopened, "New text.\n", "After removal", 1, TODAY)
    assert drafting.version(session, reopened, 1).number == 1
    assert drafting.version(session, reopened).markdown == "New text.\n"


def test_leaving_rotates_at_the_next_coordinator_visit(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    drafting.leave_room(session, drafting.open_room(session, room_id, member))
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, member)
    access = drafting.open_room(session, room_id, coordinator)
    assert access.room.key_version == 2
    assert not access.room.rotation_due


def test_sealing_destroys_every_key(
    session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    member_access = drafting.open_room(session, room_id, member)
    drafting.submit_contribution(session, member_access, "comment", None, "Before sealing.", TODAY)
    access = drafting.open_room(session, room_id, coordinator)
    drafting.create_invitation(session, access, 3, TODAY, TODAY)
    with pytest.raises(TitleMismatch):
        drafting.seal_room(session, access, "Wrong title")
    drafting.seal_room(session, access, "Right to work")
    assert (
        session.scalar(select(func.count()).select_from(RoomKey).where(RoomKey.room_id == room_id))
        == 0
    )
    assert not session.scalars(select(Invitation).where(Invitation.wrapped_keys.is_not(None))).all()
    assert session.scalar(select(func.count()).select_from(Contribution)) == 1
    for who in (coordinator, member):
        with pytest.raises(RoomSealed):
            drafting.open_room(session, room_id, who)


def test_a_leaver_cannot_read_what_follows_and_their_invitations_close(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    stayer = member_identity(app, session)
    join_room(session, coordinator, room_id, stayer)
    access = drafting.open_room(session, room_id, coordinator)
    invitation, _token = drafting.create_invitation(session, access, 3, TODAY, TODAY)
    leaver_keys = dict(drafting.open_room(session, room_id, member).keyring.keys)
    drafting.leave_room(session, drafting.open_room(session, room_id, member))
    assert session.get(Invitation, invitation.id).wrapped_keys is None  # type: ignore[union-attr]
    # The next member to come in, not only a coordinator, changes the key first.
    staying = drafting.open_room(session, room_id, stayer)
    assert staying.room.key_version == max(leaver_keys) + 1
    written = drafting.submit_contribution(session, staying, "comment", None, "After.", TODAY)
    assert written.key_version not in leaver_keys


def test_the_last_coordinator_cannot_leave(
    session: Session, coordinator: Identity, room_id: str
) -> None:
    with pytest.raises(LastCoordinator):
        drafting.leave_room(session, drafting.open_room(session, room_id, coordinator))


def test_reasons_given_after_a_removal_use_the_new_key(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    removed = member_identity(app, session)
    join_room(session, coordinator, room_id, removed)
    contribution = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, member), "comment", None, "Words.", TODAY
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.remove_member(
        session, access, drafting.member_number(room_id, removed.account.id), TODAY
    )
    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, contribution.id, "unsafe", "It names a shelter.", TODAY)
    assert contribution.decision_key_version == access.room.key_version
    assert contribution.decision_key_version != contribution.key_version


def test_a_decision_already_taken_cannot_be_taken_again(
    app: Flask, session: Session, coordinator: Identity, member: Identity, room_id: str
) -> None:
    contribution = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, member), "comment", None, "Words.", TODAY
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
            session, drafting.open_room(session, room_id, coordinator), contribution.id, TODAY
        )
        session.commit()
        with pytest.raises(NotPending):
            drafting.reject(racing, racing_access, contribution.id, "other", "", TODAY)
    finally:
        racing.rollback()
        racing.close()
