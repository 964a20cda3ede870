"""Ask the author: only the author of a contribution reads a coordinator's question and can
answer; the answer goes through the mixer; nothing at rest names the author."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import author_messages as messages
from statements.drafting import discussion
from statements.drafting import service as drafting
from statements.drafting.errors import (
    InvalidInput,
    MessageNotFound,
    NotCoordinator,
    RoomNotFound,
    ThreadClosed,
)
from statements.models import AuthorAnswer, AuthorMessage, RoomKey
from statements.write_apply import apply_write
from statements.writes import AUTHOR_ANSWER_PUT, Write
from tests.support import app_today, dump_database, join_room, make_room, member_identity


class Recorder:
    """An anonymous channel that only keeps what it is given, as a request's mixer would."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def put(self, write: Write) -> None:
        self.writes.append(write)

    def pending(self, room_id: str) -> list[Write]:
        return [write for write in self.writes if write.room_id == room_id]


def _room(
    app: Flask, session: Session, coordinator: Identity
) -> tuple[str, Identity, Identity, str]:
    room_id = make_room(session, coordinator)
    author, other = member_identity(app, session), member_identity(app, session)
    for who in (author, other):
        join_room(session, coordinator, room_id, who)
    access = drafting.open_room(session, room_id, author)
    anchor = drafting.version(session, access).sections[1].anchor
    cid = drafting.submit_contribution(
        session, access, "amendment", anchor, "Refugees may work.", app_today()
    ).id
    return room_id, author, other, cid


def _read(session: Session, who: Identity, room_id: str) -> list[tuple[str, str | None]]:
    access = drafting.open_room(session, room_id, who)
    return [(m.question, m.answer) for m in messages.messages(session, access)]


def test_only_the_author_reads_the_question_and_answers_through_the_mixer(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    message = messages.ask_author(
        session, coordinating, cid, "Which permits do you mean?", app_today()
    )
    assert _read(session, author, room_id) == [("Which permits do you mean?", None)]
    assert _read(session, other, room_id) == []
    assert _read(session, coordinator, room_id) == [("Which permits do you mean?", None)]
    assert messages.unanswered_for_me(session, drafting.open_room(session, room_id, author)) == 1
    assert messages.unanswered_for_me(session, drafting.open_room(session, room_id, other)) == 0
    assert messages.unanswered_author_messages(session, [room_id, "f" * 32]) == {
        room_id: 1,
        "f" * 32: 0,
    }

    # Another member, and the coordinator who asked, cannot answer: not theirs.
    for who in (other, coordinator):
        with pytest.raises(MessageNotFound):
            messages.answer_author(
                session, drafting.open_room(session, room_id, who), message.id, "Me!"
            )
    recorder = Recorder()
    answering = drafting.open_room(session, room_id, author, recorder)
    with pytest.raises(InvalidInput):
        messages.answer_author(session, answering, message.id, "  ")
    with pytest.raises(InvalidInput):
        messages.answer_author(session, answering, message.id, "x" * (messages.MAX_ANSWER + 1))
    assert recorder.writes == []
    messages.answer_author(session, answering, message.id, "Work permits.")
    [write] = recorder.writes
    assert write.action == AUTHOR_ANSWER_PUT
    assert author.account.id not in write.to_bytes().decode()
    assert session.get(AuthorAnswer, message.id) is None
    # The author sees their answer at once; nobody else until it is applied.
    assert [(m.answer) for m in messages.messages(session, answering)] == ["Work permits."]
    assert messages.unanswered_for_me(session, answering) == 0
    apply_write(session, write)
    apply_write(session, write)
    assert _read(session, coordinator, room_id) == [("Which permits do you mean?", "Work permits.")]
    assert _read(session, other, room_id) == []
    assert messages.unanswered_author_messages(session, [room_id]) == {room_id: 0}
    # The coordinators' overview finds the count beside the rest of the discussion.
    assert discussion.unanswered_author_messages(session, [room_id]) == {room_id: 0}


def test_a_forged_answer_is_not_applied(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, _author, other, cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    message = messages.ask_author(session, coordinating, cid, "Why?", app_today())
    access = drafting.open_room(session, room_id, other)
    forged = Write(
        key=f"author-answer:{message.id}",
        room_id=room_id,
        action=AUTHOR_ANSWER_PUT,
        row={
            "message_id": message.id,
            "author_tag": access.tag(drafting.CONTRIBUTION_TAG, cid),
            "key_version": 1,
            "content": b"x",
        },
    )
    apply_write(session, forged)
    assert session.get(AuthorAnswer, message.id) is None


def test_a_removed_member_cannot_read_or_answer(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, _other, cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    message = messages.ask_author(session, coordinating, cid, "Still there?", app_today())
    number = drafting.member_number(room_id, author.account.id)
    drafting.remove_member(session, coordinating, number, app_today())
    with pytest.raises(RoomNotFound):
        drafting.open_room(session, room_id, author)
    # The room key was rotated: what is asked from now on is sealed under a key they never had.
    coordinating = drafting.open_room(session, room_id, coordinator)
    later = messages.ask_author(session, coordinating, cid, "Anyone?", app_today())
    assert later.key_version > message.key_version
    held = session.scalars(
        select(RoomKey.key_version).where(
            RoomKey.room_id == room_id, RoomKey.account_id == author.account.id
        )
    )
    assert list(held) == []


def test_only_coordinators_ask_and_never_about_removed_words(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, other, cid = _room(app, session, coordinator)
    with pytest.raises(NotCoordinator):
        messages.ask_author(
            session, drafting.open_room(session, room_id, other), cid, "?", app_today()
        )
    coordinating = drafting.open_room(session, room_id, coordinator)
    for text, reason in (("", "required"), ("x" * (messages.MAX_QUESTION + 1), "too_long")):
        with pytest.raises(InvalidInput) as raised:
            messages.ask_author(session, coordinating, cid, text, app_today())
        assert raised.value.reason == reason
    drafting.hide(session, coordinating, cid, app_today())
    with pytest.raises(ThreadClosed):
        messages.ask_author(session, coordinating, cid, "Why?", app_today())
    assert session.scalar(select(func.count()).select_from(AuthorMessage)) == 0
    assert _read(session, author, room_id) == []


def test_nothing_at_rest_names_the_author(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, _other, cid = _room(app, session, coordinator)
    coordinating = drafting.open_room(session, room_id, coordinator)
    message = messages.ask_author(session, coordinating, cid, "Which permits?", app_today())
    messages.answer_author(
        session, drafting.open_room(session, room_id, author), message.id, "Work permits."
    )
    session.flush()
    blob = b"\x00".join(dump_database(session))
    row = session.get(AuthorMessage, message.id)
    answer = session.get(AuthorAnswer, message.id)
    assert row is not None
    assert answer is not None
    # Positive control: the rows are in the dump.
    assert row.content in blob
    assert answer.content in blob
    for secret in (b"Which permits?", b"Work permits.", author.keys.author_secret):
        assert secret not in blob
    # The question and the answer rows name no account, only the contribution.
    for values in (
        [row.id, row.room_id, row.contribution_id, row.content],
        [answer.message_id, answer.content],
    ):
        for value in values:
            raw = value if isinstance(value, bytes) else str(value).encode()
            assert author.account.id.encode() not in raw
