"""Agreement, counted anonymously: objections to proposals (one stance per member, a reason
the coordinators read, members too when the room shows reasons) and consent checks (one
answer per member by a tag for that check, hidden until closed, then counts and reasons)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.tags import author_tag
from statements.auth.service import Identity
from statements.drafting import agreement, consent, contribution_lists, contributions, moderation
from statements.drafting import service as drafting
from statements.drafting.access import CONSENT_TAG, OBJECTION_TAG, SUPPORT_TAG
from statements.drafting.errors import (
    ConsentCheckClosed,
    ConsentCheckNotFound,
    ContributionNotFound,
    InvalidInput,
    NotCoordinator,
    ObjectionRefused,
    UnknownSection,
    WrongState,
)
from statements.drafting.log import moderation_log
from statements.models import (
    ConsentAnswer,
    ConsentCheck,
    Objection,
    Support,
)
from statements.write_apply import apply_write
from statements.writes import CONSENT_ANSWER_PUT, OBJECTION_PUT, SUPPORT_PUT, Write
from tests.support import app_today, join_room, make_room, member_identity


class Recorder:
    """An anonymous channel that only keeps what it is given, as a request's mixer would:
    the newest write of a key replaces the queued one."""

    def __init__(self) -> None:
        self.queued: dict[str, Write] = {}

    def put(self, write: Write) -> None:
        self.queued[write.key] = write

    def pending(self, room_id: str) -> list[Write]:
        return [write for write in self.queued.values() if write.room_id == room_id]


def _count(session: Session, model: type[Objection] | type[Support] | type[ConsentAnswer]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _room(
    app: Flask, session: Session, coordinator: Identity, members: int = 3
) -> tuple[str, list[Identity], str]:
    """A room, its members, and a proposal by the first of them."""
    room_id = make_room(session, coordinator)
    people = [member_identity(app, session) for _ in range(members)]
    for who in people:
        join_room(session, coordinator, room_id, who)
    access = drafting.open_room(session, room_id, people[0])
    anchor = drafting.version(session, access).sections[1].anchor
    cid = drafting.submit_contribution(
        session, access, "amendment", anchor, "Refugees may work.", app_today()
    ).id
    return room_id, people, cid


def _objections(session: Session, room_id: str, who: Identity, cid: str) -> agreement.Objections:
    access = drafting.open_room(session, room_id, who)
    return agreement.objections(session, access, [cid])[cid]


# --- objections ---------------------------------------------------------------------------


def test_an_objection_is_a_tag_and_a_sealed_reason_and_one_stance_with_support(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (_author, objector, _other), cid = _room(app, session, coordinator)
    access = drafting.open_room(session, room_id, objector)
    contributions.support(session, access, cid, True)
    assert _count(session, Support) == 1

    agreement.object_to(session, access, cid, "It drops the word 'lawful'.")
    # One stance: the objection took the support's place.
    assert _count(session, Support) == 0
    [row] = session.scalars(select(Objection)).all()
    secret = objector.keys.author_secret
    assert row.tag == author_tag(secret, OBJECTION_TAG, f"{room_id}:{cid}")
    # Its own purpose, bound to the room: not the support tag, nor one without the room.
    assert row.tag != author_tag(secret, SUPPORT_TAG, cid)
    assert row.tag != author_tag(secret, OBJECTION_TAG, cid)
    assert b"lawful" not in row.reason
    assert set(Objection.__table__.columns.keys()) == {
        "contribution_id",
        "tag",
        "key_version",
        "reason",
    }

    # Changing the reason keeps one objection.
    agreement.object_to(session, access, cid, "It drops 'lawful' and 'region'.")
    assert _count(session, Objection) == 1
    assert _objections(session, room_id, objector, cid).my_reason == (
        "It drops 'lawful' and 'region'."
    )

    # Supporting again takes the objection back.
    contributions.support(session, access, cid, True)
    assert (_count(session, Support), _count(session, Objection)) == (1, 0)

    # Objecting, then withdrawing: neither stance is left.
    agreement.object_to(session, access, cid, "On reflection, no.")
    agreement.withdraw_objection(session, access, cid)
    assert (_count(session, Support), _count(session, Objection)) == (0, 0)
    # Withdrawing what is not there changes nothing.
    agreement.withdraw_objection(session, access, cid)
    assert _count(session, Objection) == 0


def test_objections_are_counted_once_per_member(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (author, first, second), cid = _room(app, session, coordinator)
    for who in (first, first, second):
        agreement.object_to(session, drafting.open_room(session, room_id, who), cid, "No.")
    assert _count(session, Objection) == 2
    seen = _objections(session, room_id, author, cid)
    assert (seen.count, seen.mine) == (2, False)
    assert _objections(session, room_id, first, cid).mine


def test_a_queued_objection_shows_to_its_member_at_once_and_replaces_a_queued_support(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (_author, objector, _other), cid = _room(app, session, coordinator)
    contributions.support(session, drafting.open_room(session, room_id, objector), cid, True)
    recorder = Recorder()
    access = drafting.open_room(session, room_id, objector, recorder)
    agreement.object_to(session, access, cid, "Too vague.")
    # Nothing written in the request: one keyed write that names no account.
    assert _count(session, Objection) == 0
    [write] = recorder.pending(room_id)
    assert write.action == OBJECTION_PUT
    assert objector.account.id not in write.to_bytes().decode()
    seen = agreement.objections(session, access, [cid])[cid]
    assert (seen.count, seen.mine, seen.my_reason) == (1, True, "Too vague.")
    [view] = [
        v for v in contribution_lists.contributions_page(session, access, 1)[0] if v.id == cid
    ]
    assert (view.supports, view.supported) == (0, False)

    # Supporting again before the batch: the same queue place, the objection is gone.
    contributions.support(session, access, cid, True)
    [write] = recorder.pending(room_id)
    assert write.action == SUPPORT_PUT
    assert not agreement.objections(session, access, [cid])[cid].mine
    apply_write(session, write)
    assert (_count(session, Support), _count(session, Objection)) == (1, 0)


def test_reasons_are_for_coordinators_and_for_members_when_the_room_shows_them(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (author, objector, other), cid = _room(app, session, coordinator)
    agreement.object_to(
        session, drafting.open_room(session, room_id, objector), cid, "It names a town."
    )
    assert _objections(session, room_id, coordinator, cid).reasons == ("It names a town.",)
    for who in (author, other):
        assert _objections(session, room_id, who, cid).reasons == ()
        assert _objections(session, room_id, who, cid).count == 1
    # The objector always reads their own reason.
    assert _objections(session, room_id, objector, cid).my_reason == "It names a town."

    with pytest.raises(NotCoordinator):
        agreement.show_reasons(
            session, drafting.open_room(session, room_id, other), True, app_today()
        )
    coordinating = drafting.open_room(session, room_id, coordinator)
    agreement.show_reasons(session, coordinating, True, app_today())
    # Written while reasons were for coordinators only: turning the setting on later
    # does not reveal it to members.
    for who in (author, other):
        assert _objections(session, room_id, who, cid).reasons == ()
    assert _objections(session, room_id, coordinator, cid).reasons == ("It names a town.",)
    # Written (or rewritten) while the room shows reasons: members read it.
    agreement.object_to(
        session, drafting.open_room(session, room_id, objector), cid, "It names the town."
    )
    agreement.object_to(session, drafting.open_room(session, room_id, other), cid, "Too vague.")
    for who in (author, other):
        assert _objections(session, room_id, who, cid).reasons == (
            "It names the town.",
            "Too vague.",
        )
    agreement.show_reasons(session, coordinating, False, app_today())
    assert _objections(session, room_id, other, cid).reasons == ()
    assert _objections(session, room_id, coordinator, cid).count == 2
    actions = [line.action for line in moderation_log(session, coordinating, 1)]
    assert {"reasons_shown", "reasons_hidden"} <= set(actions)


def test_bad_objections_are_refused_and_nothing_is_written(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (author, objector, _other), cid = _room(app, session, coordinator)
    access = drafting.open_room(session, room_id, objector)
    with pytest.raises(InvalidInput) as no_reason:
        agreement.object_to(session, access, cid, "   \n ")
    assert (no_reason.value.field, no_reason.value.reason) == ("reason", "required")
    with pytest.raises(InvalidInput) as too_long:
        agreement.object_to(session, access, cid, "x" * (agreement.MAX_REASON + 1))
    assert too_long.value.reason == "too_long"
    # One's own proposal: withdraw or edit it instead.
    with pytest.raises(ObjectionRefused):
        agreement.object_to(session, drafting.open_room(session, room_id, author), cid, "No.")
    # A comment is discussed, not objected to.
    comment = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, author), "comment", None, "Hm.", app_today()
    ).id
    with pytest.raises(ObjectionRefused):
        agreement.object_to(session, access, comment, "No.")
    # Another room's proposal is not found from here.
    other_room, _people, elsewhere = _room(app, session, coordinator, members=1)
    with pytest.raises(ContributionNotFound):
        agreement.object_to(session, access, elsewhere, "No.")
    # A decided proposal takes no new stance.
    moderation.reject(
        session,
        drafting.open_room(session, room_id, coordinator),
        cid,
        "duplicate",
        "",
        app_today(),
    )
    with pytest.raises(ObjectionRefused):
        agreement.object_to(session, access, cid, "No.")
    assert _count(session, Objection) == 0
    assert other_room != room_id


def test_an_edit_of_the_words_clears_their_objections(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (author, objector, _other), cid = _room(app, session, coordinator)
    agreement.object_to(session, drafting.open_room(session, room_id, objector), cid, "No.")
    contributions.edit_contribution(
        session,
        drafting.open_room(session, room_id, author),
        cid,
        "Refugees may work.\n\nNow.",
        app_today(),
    )
    assert _count(session, Objection) == 0


# --- consent checks -----------------------------------------------------------------------


def _answers(session: Session, check_id: str) -> list[ConsentAnswer]:
    return list(session.scalars(select(ConsentAnswer).where(ConsentAnswer.check_id == check_id)))


def _check(session: Session, room_id: str, who: Identity, check_id: str) -> consent.CheckView:
    access = drafting.open_room(session, room_id, who)
    [view] = [v for v in consent.consent_checks(session, access) if v.id == check_id]
    return view


def test_a_consent_check_is_answered_once_per_member_and_hidden_until_it_closes(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (first, second, third), _cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    anchor = drafting.version(session, coordinating).sections[2].anchor
    check = consent.open_check(session, coordinating, anchor, "Can we live with §3?", app_today())

    def answer(who: Identity, what: str, reason: str = "") -> None:
        consent.answer_check(
            session, drafting.open_room(session, room_id, who), check.id, what, reason
        )

    answer(first, "object", "It forgets families.")
    answer(first, "agree")  # changed: one answer per member, the latest
    answer(second, "object", "Too weak on permits.")
    answer(third, "abstain")
    answers = _answers(session, check.id)
    assert len(answers) == 3
    secrets = {who.keys.author_secret for who in (first, second, third)}
    assert {row.tag for row in answers} == {
        author_tag(secret, CONSENT_TAG, f"{room_id}:{check.id}") for secret in secrets
    }
    # Sealed: a copy of the database cannot count answers before the check closes.
    for row in answers:
        assert b"agree" not in row.content
        assert b"object" not in row.content
        assert b"permits" not in row.content

    # Hidden from everyone, coordinators included, while open; a member sees their own.
    for who in (coordinator, first, second):
        assert _check(session, room_id, who, check.id).results is None
    assert _check(session, room_id, first, check.id).my_answer == "agree"
    assert _check(session, room_id, second, check.id).my_reason == "Too weak on permits."
    assert _check(session, room_id, coordinator, check.id).my_answer is None

    consent.close_check(session, coordinating, check.id, app_today())
    with pytest.raises(ConsentCheckClosed):
        answer(third, "agree")
    # Closed: the first view with nothing queued counts; counts and reasons, and no tag
    # outlives the check.
    for who in (coordinator, first, third):
        results = _check(session, room_id, who, check.id).results
        assert results is not None
        assert (results.agree, results.abstain, results.object) == (1, 1, 1)
        assert results.reasons == ("Too weak on permits.",)
        assert results.total == 3
        assert not results.withheld
    assert _answers(session, check.id) == []
    row = session.get(ConsentCheck, check.id)
    assert row is not None
    assert row.results is not None
    assert b"permits" not in row.results
    actions = [line.action for line in moderation_log(session, coordinating, 1)]
    assert {"consent_opened", "consent_closed"} <= set(actions)


def test_consent_tags_are_unlinkable_across_checks_and_rooms(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (member, _second, _third), _cid = _room(app, session, coordinator)
    other_room = make_room(session, coordinator, title="Healthcare")
    join_room(session, coordinator, other_room, member)
    checks = []
    for room in (room_id, room_id, other_room):
        coordinating = drafting.open_room(session, room, coordinator)
        check = consent.open_check(session, coordinating, None, "", app_today())
        consent.answer_check(
            session, drafting.open_room(session, room, member), check.id, "agree", ""
        )
        checks.append(check.id)
    tags = [answer.tag for check_id in checks for answer in _answers(session, check_id)]
    assert len(tags) == 3
    assert len(set(tags)) == 3
    # Nor any of the member's other tags.
    secret = member.keys.author_secret
    assert author_tag(secret, CONSENT_TAG, checks[0]) not in tags


def test_bad_consent_inputs_are_refused(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (member, _second, _third), _cid = _room(app, session, coordinator)
    member_access = drafting.open_room(session, room_id, member)
    with pytest.raises(NotCoordinator):
        consent.open_check(session, member_access, None, "", app_today())
    coordinating = drafting.open_room(session, room_id, coordinator)
    with pytest.raises(UnknownSection):
        consent.open_check(session, coordinating, "s-00000000", "", app_today())
    with pytest.raises(InvalidInput):
        consent.open_check(session, coordinating, None, "q" * 501, app_today())
    check = consent.open_check(session, coordinating, None, "", app_today())

    with pytest.raises(InvalidInput) as no_reason:
        consent.answer_check(session, member_access, check.id, "object", " ")
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidInput) as too_long:
        consent.answer_check(session, member_access, check.id, "object", "x" * 501)
    assert too_long.value.reason == "too_long"
    with pytest.raises(InvalidInput):
        consent.answer_check(session, member_access, check.id, "maybe", "")
    with pytest.raises(NotCoordinator):
        consent.close_check(session, member_access, check.id, app_today())
    assert _answers(session, check.id) == []

    # Another room's check is not found from this room.
    other_room = make_room(session, coordinator, title="Healthcare")
    other = consent.open_check(
        session, drafting.open_room(session, other_room, coordinator), None, "", app_today()
    )
    with pytest.raises(ConsentCheckNotFound):
        consent.answer_check(session, member_access, other.id, "agree", "")
    with pytest.raises(ConsentCheckNotFound):
        consent.close_check(session, coordinating, other.id, app_today())

    consent.close_check(session, coordinating, check.id, app_today())
    with pytest.raises(ConsentCheckClosed):
        consent.answer_check(session, member_access, check.id, "agree", "")
    with pytest.raises(ConsentCheckClosed):
        consent.close_check(session, coordinating, check.id, app_today())


def test_closing_never_forces_queued_answers_in_and_counts_them_once_they_are(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, members, _cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    check = consent.open_check(session, coordinating, None, "", app_today())
    recorder = Recorder()
    writes = []
    for who, what in zip(members, ("object", "agree", "agree"), strict=True):
        access = drafting.open_room(session, room_id, who, recorder)
        consent.answer_check(session, access, check.id, what, "No." if what == "object" else "")
    writes = recorder.pending(room_id)
    assert len(writes) == 3
    assert all(write.action == CONSENT_ANSWER_PUT for write in writes)
    assert members[0].account.id not in writes[0].to_bytes().decode()
    assert _check(session, room_id, members[0], check.id).my_answer is None
    assert consent.consent_checks(session, access)[0].my_answer == "agree"

    consent.close_check(session, coordinating, check.id, app_today())
    # Still queued: nothing was forced in, and no result is shown or sealed yet.
    assert _answers(session, check.id) == []
    view = consent.consent_checks(
        session, drafting.open_room(session, room_id, coordinator, recorder)
    )[0]
    assert view.counting
    assert view.results is None
    row = session.get(ConsentCheck, check.id)
    assert row is not None
    assert row.results is None

    # The queue's own batch takes them in (the check is closed, not yet counted).
    for write in writes:
        apply_write(session, write)
    recorder.queued.clear()
    assert len(_answers(session, check.id)) == 3
    results = _check(session, room_id, coordinator, check.id).results
    assert results is not None
    assert (results.agree, results.object, results.total) == (2, 1, 3)
    assert results.reasons == ("No.",)
    assert _answers(session, check.id) == []
    # Once counted, a late answer is not stored.
    apply_write(session, writes[0])
    assert _answers(session, check.id) == []
    assert _check(session, room_id, coordinator, check.id).results == results


def test_results_of_fewer_than_three_answers_are_withheld(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (member, _second, _third), _cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    check = consent.open_check(session, coordinating, None, "", app_today())
    consent.answer_check(
        session, drafting.open_room(session, room_id, member), check.id, "object", "Mine."
    )
    consent.close_check(session, coordinating, check.id, app_today())
    results = _check(session, room_id, coordinator, check.id).results
    assert results is not None
    assert results.total == 1
    assert results.withheld


def test_leaving_drafting_closes_the_checks_and_no_new_one_opens(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, (member, _second, _third), _cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    check = consent.open_check(session, coordinating, None, "", app_today())
    consent.answer_check(
        session, drafting.open_room(session, room_id, member), check.id, "agree", ""
    )
    drafting.change_state(session, coordinating, "consolidating", app_today(), leave_undecided=True)
    assert _check(session, room_id, member, check.id).is_open
    drafting.change_state(session, coordinating, "sign-on", app_today(), leave_undecided=True)
    view = _check(session, room_id, member, check.id)
    assert not view.is_open
    assert view.results is not None
    assert view.results.agree == 1
    with pytest.raises(WrongState):
        consent.open_check(session, coordinating, None, "", app_today())


def test_an_answer_that_cannot_be_opened_is_counted_not_skipped(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, members, _cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    check = consent.open_check(session, coordinating, None, "", app_today())
    for who in members[:2]:
        consent.answer_check(
            session, drafting.open_room(session, room_id, who), check.id, "agree", ""
        )
    # Sealed under a key nobody counting holds (or damaged at rest).
    session.add(
        ConsentAnswer(check_id=check.id, tag=b"\x01" * 32, key_version=1, content=b"\x01" * 64)
    )
    session.flush()
    consent.close_check(session, coordinating, check.id, app_today())
    results = _check(session, room_id, coordinator, check.id).results
    assert results is not None
    assert (results.agree, results.unreadable, results.total) == (2, 1, 3)
    assert not results.withheld
