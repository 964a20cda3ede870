"""The queue of anonymous writes (Redis, or the spool file) is part of a running server's
files: while a member's marker waits in it, it must not say which room the marker is for,
since the row it becomes keeps only a tag (README, threat model, Members' news)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.models import LanguageChoice, NewsMarker
from statements.news import markers
from statements.writes import LANGUAGE_CHOICE_PUT, NEWS_MARKER_PUT
from tests.support import csrf_token, make_room, signed_in_member, signed_in_staff


def test_a_queued_marker_does_not_name_its_room(batching: Flask, session: Session) -> None:
    coordinator, _staff = signed_in_staff(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    member, client = signed_in_member(batching, session, coordinator, room_id)
    assert client.get(f"/rooms/{room_id}").status_code == 200

    mixer = batching.extensions["mixer"]
    queued = [write for write in mixer.queue.pending() if write.action == NEWS_MARKER_PUT]
    assert len(queued) == 1  # positive control: the marker is waiting
    tag = markers.marker_tag(member.keys.author_secret, room_id)
    assert bytes(queued[0].row["tag"]) == tag
    # What the queue holds, as a copy of Redis or of the spool file shows it.
    raw = queued[0].to_bytes()
    assert room_id.encode() not in raw
    assert room_id not in queued[0].key

    # Still the member's own: their next look finds it waiting, and a batch writes it.
    assert client.get(f"/rooms/{room_id}").status_code == 200
    assert len([w for w in mixer.queue.pending() if w.action == NEWS_MARKER_PUT]) == 1
    assert mixer.flush() == 1
    assert session.scalar(select(func.count()).select_from(NewsMarker)) == 1


def test_a_queued_reading_language_does_not_name_its_room(
    batching: Flask, session: Session
) -> None:
    """The same for a member's reading language (statements/drafting/room_languages.py)."""
    coordinator, _staff = signed_in_staff(batching, session)
    room_id = make_room(session, coordinator, working_languages=("fa",))
    session.commit()
    _member, client = signed_in_member(batching, session, coordinator, room_id)
    page = f"/rooms/{room_id}"
    token = csrf_token(client, page)
    answer = client.post(f"{page}/reading-language", data={"csrf_token": token, "language": "fa"})
    assert answer.status_code == 302

    mixer = batching.extensions["mixer"]
    queued = [w for w in mixer.queue.pending() if w.action == LANGUAGE_CHOICE_PUT]
    assert len(queued) == 1  # positive control: the choice is waiting
    assert room_id.encode() not in queued[0].to_bytes()
    assert room_id not in queued[0].key
    # Still the member's own at once, and a batch writes it.
    assert 'lang="fa" dir="rtl"' in client.get(page).get_data(as_text=True)
    mixer.flush()
    assert session.scalar(select(func.count()).select_from(LanguageChoice)) == 1
