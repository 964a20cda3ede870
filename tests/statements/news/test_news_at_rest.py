"""At rest, members' news holds no contact address, no visit time, and nothing that links
a member to their account or to what they wrote: read from the raw database (SQLite, or
PostgreSQL when TEST_DATABASE_URL is set), and on SQLite from the files themselves."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from statements.drafting import service as drafting
from statements.models import Contribution
from statements.news import feeds, markers
from statements.pages import today
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import make_room, post_signed_in, signed_in_member, signed_in_staff

WORDS = "The shelter on Soi 7 needs water"
NEWS_TABLES = {"news_markers", "member_feeds"}
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[A-Za-z]{2,}")


def _forms(value: bytes) -> list[bytes]:
    return [
        value,
        value.hex().encode(),
        base64.b64encode(value),
        base64.urlsafe_b64encode(value).rstrip(b"="),
    ]


def _rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read without the models."""
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    return {
        name: [dict(row._mapping) for row in session.execute(select(table))]
        for name, table in metadata.tables.items()
    }


def _temporal(rows: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str, str]]:
    """Every date and time stored anywhere, with its table and column."""
    found = set()
    for table, items in rows.items():
        for row in items:
            for column, value in row.items():
                if isinstance(value, date | datetime):
                    found.add((table, column, value.isoformat()))
    return found


def test_news_tables_name_no_one_and_date_no_visit(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    coordinator, _staff = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    member, client = signed_in_member(app, session, coordinator, room_id)
    with app.test_request_context():
        day = today()
    contribution = drafting.submit_contribution(
        session, drafting.open_room(session, room_id, member), "comment", None, WORDS, day
    )
    session.commit()
    assert client.get(f"/rooms/{room_id}").status_code == 200
    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, contribution.id, "other", "Too precise.", day)
    session.commit()

    before = _temporal(_rows(session))
    clock.advance(minutes=20)
    # The member looks: the room list, the room (which marks the decision seen), the feed.
    assert client.get("/rooms").status_code == 200
    assert "Since your last visit" in client.get(f"/rooms/{room_id}").get_data(as_text=True)
    assert post_signed_in(client, "/account/feed", {"action": "create"}).status_code == 303
    state = feeds.current_feed(session, member.keys.author_secret, _no_queue())
    assert state.address
    assert app.test_client().get(f"/feeds/{state.address}").status_code == 200
    session.expire_all()
    rows = _rows(session)

    # Looking wrote no date or time anywhere: not in the news tables, nor elsewhere.
    assert _temporal(rows) == before
    assert len(rows["news_markers"]) == 1
    assert len(rows["member_feeds"]) == 1
    assert set(rows["news_markers"][0]) == {"tag", "sealed"}
    assert set(rows["member_feeds"][0]) == {"owner_tag", "address_hash", "nonce", "sealed"}

    # Nothing in them is, or contains, the account, the room, the contribution, its author
    # tag, its words, the member's secret or the feed's address, in any usual encoding.
    stored = session.get(Contribution, contribution.id)
    assert stored is not None
    linking = [
        member.account.id.encode(),
        room_id.encode(),
        contribution.id.encode(),
        contribution.id[:16].encode(),
        bytes(stored.author_tag),
        WORDS.encode(),
        member.keys.author_secret,
        state.address.encode(),
        feeds.room_number(room_id).encode(),
    ]
    news_values = b"\x00".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for table in NEWS_TABLES
        for row in rows[table]
        for value in row.values()
    )
    for value in linking:
        for form in _forms(value):
            assert form not in news_values, form
    # Positive control: the member's own secret opens their marker, and finds the
    # decision among what they have seen (so the check above looked at real content).
    tag = markers.marker_tag(member.keys.author_secret, room_id)
    assert bytes(rows["news_markers"][0]["tag"]) == tag
    seen = markers.open_seen(
        member.keys.author_secret, tag, bytes(rows["news_markers"][0]["sealed"])
    )
    assert seen is not None
    assert contribution.id[:16] in seen.decided

    # No member's contact address anywhere in the database (members have none to give).
    for table, items in rows.items():
        for row in items:
            for column, value in row.items():
                if isinstance(value, str):
                    assert not EMAIL.search(value.encode()), (table, column)

    # On SQLite, not in the files either (free pages and the write-ahead log included).
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert tag in raw  # positive control
        for value in (member.keys.author_secret, state.address.encode(), WORDS.encode()):
            for form in _forms(value):
                assert form not in raw


def test_the_marker_length_does_not_count_what_was_seen() -> None:
    secret = bytes(range(32))
    tag = markers.marker_tag(secret, "room")
    small = markers.seal_seen(secret, tag, markers.Seen(version=1, state="drafting"))
    larger = markers.seal_seen(
        secret,
        tag,
        markers.Seen(version=9, state="drafting", decided=frozenset(f"{n:016x}" for n in range(9))),
    )
    assert len(small) == len(larger)


class _NoQueue:
    def put(self, write: object) -> None:
        raise AssertionError("nothing is written here")

    def pending(self, room_id: str) -> list[Any]:
        return []


def _no_queue() -> Any:
    return _NoQueue()
