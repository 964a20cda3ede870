"""Threads under contributions: replies are anonymous writes, moderated by the room's rules;
coordinators' replies are the secretariat's; a thread can be resolved with a summary."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import discussion, moderation
from statements.drafting import service as drafting
from statements.drafting.errors import (
    ContributionNotFound,
    InvalidInput,
    NotCoordinator,
    ReplyFlagRefused,
    ReplyNotFound,
    ThreadClosed,
    ThreadFull,
    WrongState,
)
from statements.models import ModerationMode, Reply, ReplyFlag, ReplyStatus, ThreadResolution
from statements.write_apply import apply_write
from statements.writes import REPLY_FLAG_PUT, REPLY_PUT, Write
from tests.support import app_today, join_room, make_room, member_identity


class Recorder:
    """An anonymous channel that only keeps what it is given, as a request's mixer would."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def put(self, write: Write) -> None:
        self.writes.append(write)

    def pending(self, room_id: str) -> list[Write]:
        return [write for write in self.writes if write.room_id == room_id]


def _room(
    app: Flask, session: Session, coordinator: Identity, mode: str = ModerationMode.POST
) -> tuple[str, Identity, Identity, str]:
    """A room with an author, another member, and the author's comment (released)."""
    room_id = make_room(session, coordinator, moderation=mode)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    access = drafting.open_room(session, room_id, author)
    cid = drafting.submit_contribution(
        session, access, "comment", None, "Name the law.", app_today()
    ).id
    if mode == ModerationMode.PRE:
        moderation.release(
            session, drafting.open_room(session, room_id, coordinator), cid, app_today()
        )
    return room_id, author, other, cid


def _seen(session: Session, who: Identity, room_id: str, cid: str) -> list[str]:
    access = drafting.open_room(session, room_id, who)
    return [reply.text for reply in discussion.thread(session, access, cid).replies]


def test_a_reply_is_an_anonymous_write_and_only_its_writer_sees_it_is_theirs(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator)
    recorder = Recorder()
    access = drafting.open_room(session, room_id, other, recorder)
    reply = discussion.submit_reply(session, access, cid, None, "Which law?")
    # Nothing written in the request: one keyed write that names no account.
    assert session.scalar(select(func.count()).select_from(Reply)) == 0
    [write] = recorder.writes
    assert write.action == REPLY_PUT
    assert other.account.id not in write.to_bytes().decode()
    assert author.account.id not in write.to_bytes().decode()
    # The writer sees it at once, as theirs and as still on its way.
    [view] = discussion.thread(session, access, cid).replies
    assert (view.text, view.mine, view.queued, view.secretariat) == (
        "Which law?",
        True,
        True,
        False,
    )
    # Applied (twice: idempotent): others see it, not as theirs, and with no identity.
    apply_write(session, write)
    apply_write(session, write)
    assert session.scalar(select(func.count()).select_from(Reply)) == 1
    row = session.get(Reply, reply.id)
    assert row is not None
    assert b"Which law?" not in row.content
    for who in (author, coordinator):
        [seen] = discussion.thread(session, drafting.open_room(session, room_id, who), cid).replies
        assert (seen.text, seen.mine, seen.secretariat) == ("Which law?", False, False)
    [mine] = discussion.thread(session, drafting.open_room(session, room_id, other), cid).replies
    assert mine.mine
    assert not mine.queued


def test_a_coordinators_reply_is_the_secretariats_and_threads_nest(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator, ModerationMode.PRE)
    question = discussion.submit_reply(
        session, drafting.open_room(session, room_id, other), cid, None, "Which law?"
    )
    coordinating = drafting.open_room(session, room_id, coordinator)
    discussion.release_reply(session, coordinating, question.id, app_today())
    answer = discussion.submit_reply(session, coordinating, cid, question.id, "The 2019 act.")
    discussion.submit_reply(session, coordinating, cid, None, "Thanks, all.")
    stored = session.get(Reply, answer.id)
    assert stored is not None
    assert stored.secretariat
    # A coordinator's reply needs no release, even in a pre-moderated room.
    assert stored.status == ReplyStatus.SHOWN
    replies = discussion.thread(session, drafting.open_room(session, room_id, author), cid).replies
    # The secretariat's top-level reply first; the answer under the question it answers.
    assert [(r.text, r.secretariat, r.depth) for r in replies] == [
        ("Thanks, all.", True, 0),
        ("Which law?", False, 0),
        ("The 2019 act.", True, 1),
    ]


def test_pre_moderation_shows_a_members_reply_only_to_its_writer_and_coordinators(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator, ModerationMode.PRE)
    reply = discussion.submit_reply(
        session, drafting.open_room(session, room_id, other), cid, None, "Too vague."
    )
    assert _seen(session, other, room_id, cid) == ["Too vague."]
    assert _seen(session, coordinator, room_id, cid) == ["Too vague."]
    assert _seen(session, author, room_id, cid) == []
    coordinating = drafting.open_room(session, room_id, coordinator)
    items, total = discussion.review_queue(session, coordinating, 1)
    assert total == 1
    assert [item.reply.id for item in items] == [reply.id]
    discussion.release_reply(session, coordinating, reply.id, app_today())
    assert _seen(session, author, room_id, cid) == ["Too vague."]
    assert discussion.review_queue(session, coordinating, 1)[1] == 0


def test_a_flag_takes_a_reply_back_for_review_and_hiding_destroys_its_words(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator, ModerationMode.PRE)
    coordinating = drafting.open_room(session, room_id, coordinator)
    reply = discussion.submit_reply(
        session, drafting.open_room(session, room_id, other), cid, None, "She lives at 4 Elm St."
    )
    discussion.release_reply(session, coordinating, reply.id, app_today())
    recorder = Recorder()
    flagging = drafting.open_room(session, room_id, author, recorder)
    discussion.flag_reply(session, flagging, reply.id)
    discussion.flag_reply(session, flagging, reply.id)
    [write] = recorder.writes
    assert write.action == REPLY_FLAG_PUT
    # The flagger stops seeing it at once; once applied, so does everyone but its writer.
    assert discussion.thread(session, flagging, cid).replies == []
    apply_write(session, write)
    apply_write(session, write)
    assert session.scalar(select(func.count()).select_from(ReplyFlag)) == 1
    assert _seen(session, author, room_id, cid) == []
    assert _seen(session, other, room_id, cid) == ["She lives at 4 Elm St."]
    items, _total = discussion.review_queue(session, coordinating, 1)
    assert items[0].reply.flags == 1
    # One's own reply cannot be flagged.
    with pytest.raises(ReplyFlagRefused):
        discussion.flag_reply(session, drafting.open_room(session, room_id, other), reply.id)
    discussion.hide_reply(session, coordinating, reply.id, app_today())
    row = session.get(Reply, reply.id)
    assert row is not None
    assert row.status == ReplyStatus.HIDDEN
    assert session.scalar(select(func.count()).select_from(ReplyFlag)) == 0
    # The words are gone at rest: even the coordinators' key opens only a placeholder.
    data = coordinating.keyring.open(
        "reply", discussion.reply_record(row), row.key_version, row.content
    )
    assert data == discussion.REMOVED_REPLY
    assert _seen(session, author, room_id, cid) == []
    [placeholder] = discussion.thread(session, coordinating, cid).replies
    assert placeholder.removed
    assert placeholder.text == ""
    # A hidden reply takes no replies.
    with pytest.raises(ReplyNotFound):
        discussion.submit_reply(session, coordinating, cid, reply.id, "Noted.")


def test_post_moderation_shows_replies_at_once(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator)
    discussion.submit_reply(
        session, drafting.open_room(session, room_id, other), cid, None, "Agreed."
    )
    assert _seen(session, author, room_id, cid) == ["Agreed."]
    assert discussion.review_queue(
        session, drafting.open_room(session, room_id, coordinator), 1
    ) == ([], 0)


def test_bad_replies_are_refused_and_nothing_is_queued(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, _author, other, cid = _room(app, session, coordinator)
    recorder = Recorder()
    access = drafting.open_room(session, room_id, other, recorder)
    for text, reason in (
        ("   ", "required"),
        ("x" * (discussion.MAX_REPLY + 1), "too_long"),
        ("<script>alert(1)</script>", "markup"),
    ):
        with pytest.raises(InvalidInput) as raised:
            discussion.submit_reply(session, access, cid, None, text)
        assert raised.value.reason == reason
    with pytest.raises(ReplyNotFound):
        discussion.submit_reply(session, access, cid, "f" * 32, "To nobody.")
    with pytest.raises(ContributionNotFound):
        discussion.submit_reply(session, access, "0" * 32, None, "On nothing.")
    assert recorder.writes == []


def test_a_hidden_contribution_takes_no_replies(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, _author, other, cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    drafting.hide(session, coordinating, cid, app_today())
    with pytest.raises(ThreadClosed):
        discussion.submit_reply(session, coordinating, cid, None, "Why?")
    with pytest.raises(ThreadClosed):
        discussion.submit_reply(
            session, drafting.open_room(session, room_id, other), cid, None, "?"
        )
    # A reply queued before the contribution was hidden is dropped when applied.
    recorder = Recorder()
    room2, _a, other2, cid2 = _room(app, session, coordinator)
    discussion.submit_reply(
        session, drafting.open_room(session, room2, other2, recorder), cid2, None, "Late."
    )
    drafting.hide(session, drafting.open_room(session, room2, coordinator), cid2, app_today())
    apply_write(session, recorder.writes[0])
    assert session.scalar(select(func.count()).select_from(Reply)) == 0


def test_hiding_a_contribution_takes_its_replies_from_other_members(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    """Replies may quote the words a coordinator removed: once the contribution is
    hidden, members see only their own replies under it; coordinators still see all."""
    room_id, author, other, cid = _room(app, session, coordinator)
    recorder = Recorder()
    discussion.submit_reply(
        session, drafting.open_room(session, room_id, other, recorder), cid, None, "You said X."
    )
    apply_write(session, recorder.writes[0])
    assert _seen(session, author, room_id, cid) == ["You said X."]

    drafting.hide(session, drafting.open_room(session, room_id, coordinator), cid, app_today())
    assert _seen(session, author, room_id, cid) == []
    assert _seen(session, other, room_id, cid) == ["You said X."]
    assert _seen(session, coordinator, room_id, cid) == ["You said X."]


def test_a_member_cannot_open_the_thread_of_a_contribution_they_cannot_see(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id = make_room(session, coordinator, moderation=ModerationMode.PRE)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    cid = drafting.submit_contribution(
        session,
        drafting.open_room(session, room_id, author),
        "comment",
        None,
        "Draft.",
        app_today(),
    ).id
    with pytest.raises(ContributionNotFound):
        discussion.thread(session, drafting.open_room(session, room_id, other), cid)
    with pytest.raises(ContributionNotFound):
        discussion.submit_reply(
            session, drafting.open_room(session, room_id, other), cid, None, "Hm."
        )
    assert discussion.thread(session, drafting.open_room(session, room_id, author), cid).open


def test_threads_close_with_contributions_and_have_a_limit(
    app: Flask, session: Session, coordinator: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id, _author, other, cid = _room(app, session, coordinator)
    access = drafting.open_room(session, room_id, other)
    monkeypatch.setattr(discussion, "MAX_REPLIES", 2)
    discussion.submit_reply(session, access, cid, None, "One.")
    discussion.submit_reply(session, access, cid, None, "Two.")
    with pytest.raises(ThreadFull):
        discussion.submit_reply(session, access, cid, None, "Three.")
    coordinating = drafting.open_room(session, room_id, coordinator)
    drafting.change_state(session, coordinating, "consolidating", app_today(), leave_undecided=True)
    drafting.change_state(session, coordinating, "sign-on", app_today(), leave_undecided=True)
    with pytest.raises(WrongState):
        discussion.submit_reply(
            session, drafting.open_room(session, room_id, other), cid, None, "."
        )


def test_a_coordinator_resolves_a_thread_with_a_sealed_one_line_summary(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, _author, other, cid = _room(app, session, coordinator)
    with pytest.raises(NotCoordinator):
        discussion.resolve_thread(
            session, drafting.open_room(session, room_id, other), cid, "Done.", app_today()
        )
    coordinating = drafting.open_room(session, room_id, coordinator)
    for summary, reason in (("", "required"), ("Two\nlines", "one_line"), ("x" * 201, "too_long")):
        with pytest.raises(InvalidInput) as raised:
            discussion.resolve_thread(session, coordinating, cid, summary, app_today())
        assert raised.value.reason == reason
    assert session.get(ThreadResolution, cid) is None
    discussion.resolve_thread(
        session, coordinating, cid, "Kept: the law is named in §2.", app_today()
    )
    row = session.get(ThreadResolution, cid)
    assert row is not None
    assert b"the law is named" not in row.summary
    # A late joiner sees why.
    late = member_identity(app, session)
    join_room(session, coordinator, room_id, late)
    late_access = drafting.open_room(session, room_id, late)
    assert (
        discussion.thread(session, late_access, cid).resolution == "Kept: the law is named in §2."
    )
    summaries = discussion.thread_summaries(session, late_access, [cid])
    assert summaries[cid].resolution == "Kept: the law is named in §2."
    discussion.reopen_thread(session, coordinating, cid, app_today())
    assert discussion.thread(session, late_access, cid).resolution is None
    actions = {line.action for line in drafting.moderation_log(session, coordinating, 1)}
    assert {"resolved", "reopened"} <= actions


def test_thread_summaries_count_what_each_member_may_see(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator, ModerationMode.PRE)
    discussion.submit_reply(
        session, drafting.open_room(session, room_id, other), cid, None, "Pending."
    )
    by_author = discussion.thread_summaries(
        session, drafting.open_room(session, room_id, author), [cid]
    )
    assert cid not in by_author
    by_coordinator = discussion.thread_summaries(
        session, drafting.open_room(session, room_id, coordinator), [cid]
    )
    assert by_coordinator[cid].replies == 1
