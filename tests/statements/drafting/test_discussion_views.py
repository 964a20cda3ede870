"""Discussion over HTTP: threads, replies, resolving, asking the author; bad input gets a
clear message and a 4xx, and nothing is saved."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.models import (
    AuthorAnswer,
    AuthorMessage,
    Contribution,
    ModerationMode,
    Reply,
    ThreadResolution,
)
from tests.support import csrf_token, make_room, signed_in_member, signed_in_staff


def _count(session: Session, model: type) -> int:
    session.commit()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _post(client: FlaskClient, path: str, page: str, data: dict[str, str]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, page), **data})
    return response.status_code, response.get_data(as_text=True)


def _setup(
    app: Flask, session: Session, mode: str = ModerationMode.POST
) -> tuple[str, str, Identity, FlaskClient, FlaskClient, FlaskClient]:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=mode)
    session.commit()
    author, author_client = signed_in_member(app, session, coordinator, room_id)
    _other, other_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/contribute?kind=comment"
    status, _body = _post(author_client, page, page, {"text": "Name the 2019 law."})
    assert status == 302
    session.commit()
    [cid] = session.scalars(select(Contribution.id).where(Contribution.room_id == room_id))
    if mode == ModerationMode.PRE:
        _post(
            coordinator_client,
            f"/rooms/{room_id}/moderation/{cid}",
            f"/rooms/{room_id}/moderation",
            {"action": "release"},
        )
    return room_id, cid, author, author_client, other_client, coordinator_client


def test_reply_and_the_secretariats_reply_over_http(app: Flask, session: Session) -> None:
    room_id, cid, _author, author_client, other_client, coordinator_client = _setup(app, session)
    thread = f"/rooms/{room_id}/contributions/{cid}/thread"
    replies = f"/rooms/{room_id}/contributions/{cid}/replies"
    # The contributions page links each thread.
    listing = other_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert thread in listing
    assert "0 replies" in listing
    status, _body = _post(other_client, replies, thread, {"text": "Which article?"})
    assert status == 302
    page = other_client.get(thread).get_data(as_text=True)
    assert "Which article?" in page
    assert 'class="yours"' in page
    author_page = author_client.get(thread).get_data(as_text=True)
    assert "Which article?" in author_page
    assert "A member" in author_page
    # Theirs is the contribution, not the reply: one "yours", on the contribution.
    assert author_page.count('class="yours"') == 1
    session.commit()
    [reply_id] = session.scalars(select(Reply.id))
    status, _body = _post(
        coordinator_client, replies, thread, {"text": "Article 12.", "parent": reply_id}
    )
    assert status == 302
    page = author_client.get(thread).get_data(as_text=True)
    assert "The secretariat" in page
    assert "Article 12." in page
    listing = author_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert "2 replies" in listing
    assert _count(session, Reply) == 2


def test_bad_replies_are_refused_with_a_message_and_nothing_is_saved(
    app: Flask, session: Session
) -> None:
    room_id, cid, _author, _author_client, other_client, coordinator_client = _setup(app, session)
    thread = f"/rooms/{room_id}/contributions/{cid}/thread"
    replies = f"/rooms/{room_id}/contributions/{cid}/replies"
    status, body = _post(other_client, replies, thread, {"text": "  "})
    assert status == 400
    assert "Write something first" in body
    status, body = _post(other_client, replies, thread, {"text": "x" * 4001})
    assert status == 400
    assert "too long" in body
    # What they typed is still there.
    assert "x" * 4001 in body
    status, body = _post(other_client, replies, thread, {"text": "Hi", "parent": "f" * 32})
    assert status == 404
    status, _body = _post(
        other_client, f"/rooms/{room_id}/contributions/{'0' * 32}/replies", thread, {"text": "Hi"}
    )
    assert status == 404
    assert _count(session, Reply) == 0
    # Replying to a hidden contribution.
    _post(
        coordinator_client,
        f"/rooms/{room_id}/moderation/{cid}",
        f"/rooms/{room_id}/moderation",
        {"action": "hide"},
    )
    status, body = _post(other_client, replies, f"/rooms/{room_id}", {"text": "Why hidden?"})
    assert status == 409
    assert "words were removed" in body
    assert _count(session, Reply) == 0


def test_only_coordinators_resolve_and_ask(app: Flask, session: Session) -> None:
    room_id, cid, _author, author_client, other_client, coordinator_client = _setup(app, session)
    thread = f"/rooms/{room_id}/contributions/{cid}/thread"
    resolve = f"/rooms/{room_id}/contributions/{cid}/resolve"
    ask = f"/rooms/{room_id}/contributions/{cid}/ask"
    for client in (author_client, other_client):
        assert _post(client, resolve, thread, {"summary": "Done."})[0] == 403
        assert _post(client, ask, thread, {"question": "Who?"})[0] == 403
    assert "Mark resolved" not in other_client.get(thread).get_data(as_text=True)
    assert _count(session, ThreadResolution) == 0
    assert _count(session, AuthorMessage) == 0
    status, body = _post(coordinator_client, resolve, thread, {"summary": "One\nline"})
    assert status == 400
    assert "one line" in body
    status, body = _post(coordinator_client, resolve, thread, {"summary": ""})
    assert status == 400
    status, body = _post(coordinator_client, ask, thread, {"question": ""})
    assert status == 400
    assert "Write something first" in body
    assert _count(session, ThreadResolution) == 0
    assert _count(session, AuthorMessage) == 0
    status, _body = _post(coordinator_client, resolve, thread, {"summary": "Kept as written."})
    assert status == 302
    for client in (author_client, other_client):
        assert "Kept as written." in client.get(thread).get_data(as_text=True)
        assert "Kept as written." in client.get(f"/rooms/{room_id}/contributions").get_data(
            as_text=True
        )


def test_ask_the_author_and_the_author_answers(app: Flask, session: Session) -> None:
    room_id, cid, _author, author_client, other_client, coordinator_client = _setup(app, session)
    thread = f"/rooms/{room_id}/contributions/{cid}/thread"
    ask = f"/rooms/{room_id}/contributions/{cid}/ask"
    assert f"Ask the author of contribution {cid[:6]}" in coordinator_client.get(thread).get_data(
        as_text=True
    )
    status, _body = _post(coordinator_client, ask, thread, {"question": "Which law exactly?"})
    assert status == 302
    # The author is told on the room page and their own page; nobody else is.
    for path in (f"/rooms/{room_id}", f"/rooms/{room_id}/mine"):
        assert "1 question about something you wrote" in author_client.get(path).get_data(
            as_text=True
        )
        assert "question about" not in other_client.get(path).get_data(as_text=True)
    questions = f"/rooms/{room_id}/questions"
    assert "Which law exactly?" in author_client.get(questions).get_data(as_text=True)
    assert "Which law exactly?" in author_client.get(thread).get_data(as_text=True)
    assert "Which law exactly?" not in other_client.get(questions).get_data(as_text=True)
    assert "Which law exactly?" not in other_client.get(thread).get_data(as_text=True)
    session.commit()
    [message_id] = session.scalars(select(AuthorMessage.id))
    answer = f"/rooms/{room_id}/questions/{message_id}/answer"
    # Someone else cannot answer it, and learns nothing from trying.
    assert _post(other_client, answer, questions, {"answer": "Me."})[0] == 404
    assert _post(coordinator_client, answer, questions, {"answer": "Me."})[0] == 404
    assert _post(other_client, answer, questions, {"answer": ""})[0] == 404
    status, body = _post(author_client, answer, questions, {"answer": " "})
    assert status == 400
    assert "Write something first" in body
    assert _count(session, AuthorAnswer) == 0
    status, _body = _post(author_client, answer, questions, {"answer": "The 2019 labour act."})
    assert status == 302
    assert _count(session, AuthorAnswer) == 1
    assert "1 question about something you wrote" not in author_client.get(
        f"/rooms/{room_id}"
    ).get_data(as_text=True)
    assert "The 2019 labour act." in coordinator_client.get(questions).get_data(as_text=True)
    assert "The 2019 labour act." in coordinator_client.get(thread).get_data(as_text=True)
    assert "The 2019 labour act." not in other_client.get(thread).get_data(as_text=True)
    discussion_page = coordinator_client.get(f"/rooms/{room_id}/discussion")
    assert discussion_page.status_code == 200
    assert "0 wait for an answer" in discussion_page.get_data(as_text=True)
    assert other_client.get(f"/rooms/{room_id}/discussion").status_code == 403


def test_replies_wait_for_release_in_a_pre_moderated_room(app: Flask, session: Session) -> None:
    room_id, cid, _author, author_client, other_client, coordinator_client = _setup(
        app, session, ModerationMode.PRE
    )
    thread = f"/rooms/{room_id}/contributions/{cid}/thread"
    replies = f"/rooms/{room_id}/contributions/{cid}/replies"
    assert _post(other_client, replies, thread, {"text": "A careful point."})[0] == 302
    assert "A careful point." not in author_client.get(thread).get_data(as_text=True)
    queue = coordinator_client.get(f"/rooms/{room_id}/discussion").get_data(as_text=True)
    assert "A careful point." in queue
    session.commit()
    [reply_id] = session.scalars(select(Reply.id))
    status, _body = _post(
        coordinator_client,
        f"/rooms/{room_id}/replies/{reply_id}/moderate",
        f"/rooms/{room_id}/discussion",
        {"action": "release", "back": "queue"},
    )
    assert status == 302
    assert "A careful point." in author_client.get(thread).get_data(as_text=True)
    # Flagged: back under review, hidden from others; hiding destroys it.
    status, _body = _post(
        author_client,
        f"/rooms/{room_id}/replies/{reply_id}/flag",
        thread,
        {},
    )
    assert status == 302
    assert "A careful point." not in author_client.get(thread).get_data(as_text=True)
    assert "Review first" in coordinator_client.get(f"/rooms/{room_id}/discussion").get_data(
        as_text=True
    )
    assert (
        _post(
            other_client,
            f"/rooms/{room_id}/replies/{reply_id}/moderate",
            thread,
            {"action": "hide"},
        )[0]
        == 403
    )
    status, _body = _post(
        coordinator_client,
        f"/rooms/{room_id}/replies/{reply_id}/moderate",
        thread,
        {"action": "hide"},
    )
    assert status == 302
    assert "A careful point." not in coordinator_client.get(thread).get_data(as_text=True)
    assert "A careful point." not in other_client.get(thread).get_data(as_text=True)
    assert re.search(r"Removed for safety", other_client.get(thread).get_data(as_text=True))
