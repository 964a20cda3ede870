"""A member's private feed: create, replace, revoke; content-free entries in the member's
language; served with no-store and no referrer, over real HTTP to a real Atom parser."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.deadlines import change_deadlines
from statements.i18n import cookie_name
from statements.logs import redact
from statements.news import feeds
from statements.pages import today
from tests.support import counting, make_room, post_signed_in, signed_in_member, signed_in_staff

ADDRESS = re.compile(r'value="http://localhost/feeds/([A-Za-z0-9_-]+)"')
TITLE = "Right to work"
WORDS = "Name the ministry of labour."


@pytest.fixture
def room(app: Flask, session: Session) -> tuple[Identity, str, Identity, FlaskClient]:
    """A room with some news today: a contribution, a decision, a deadline in three days."""
    coordinator, _client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, title=TITLE)
    session.commit()
    member, client = signed_in_member(app, session, coordinator, room_id)
    with app.test_request_context():
        day = today()
    member_access = drafting.open_room(session, room_id, member)
    contribution = drafting.submit_contribution(session, member_access, "comment", None, WORDS, day)
    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, contribution.id, "other", "Too broad.", day)
    change_deadlines(
        session,
        access,
        day + timedelta(days=3),
        day + timedelta(days=20),
        "The ministry meets earlier.",
        day,
    )
    session.commit()
    return coordinator, room_id, member, client


def _create(client: FlaskClient, action: str = "create") -> str:
    response = post_signed_in(client, "/account/feed", {"action": action})
    assert response.status_code == 303
    page = client.get("/account/feed")
    assert page.status_code == 200
    found = ADDRESS.search(page.get_data(as_text=True))
    assert found, "the feed page shows the address"
    return found.group(1)


def test_a_feed_serves_counts_and_dates_only(
    room: tuple[Identity, str, Identity, FlaskClient], app: Flask
) -> None:
    _coordinator, room_id, _member, client = room
    address = _create(client)
    reader = app.test_client()  # no cookie: a feed reader
    response = reader.get(f"/feeds/{address}")
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    body = response.get_data(as_text=True)
    number = feeds.room_number(room_id)
    with app.test_request_context():
        deadline = (today() + timedelta(days=3)).isoformat()
    assert f"news in room {number}:" in body
    assert "1 new contribution" in body
    assert f"contributions close {deadline}" in body
    # Never a title, a contribution, a reason or a room id.
    for secret in (TITLE, WORDS, "Too broad.", "The ministry meets earlier.", room_id):
        assert secret not in body
    # The room page tells the member which number is theirs.
    assert f"<code>{number}</code>" in client.get(f"/rooms/{room_id}").get_data(as_text=True)


def test_replacing_and_revoking_stop_the_old_address(
    room: tuple[Identity, str, Identity, FlaskClient], app: Flask
) -> None:
    client = room[3]
    reader = app.test_client()
    first = _create(client)
    second = _create(client, "replace")
    assert first != second
    assert reader.get(f"/feeds/{first}").status_code == 404
    assert reader.get(f"/feeds/{second}").status_code == 200
    assert post_signed_in(client, "/account/feed", {"action": "revoke"}).status_code == 303
    gone = reader.get(f"/feeds/{second}")
    assert gone.status_code == 404
    assert gone.headers["Cache-Control"] == "no-store"
    assert "You have no feed address." in client.get("/account/feed").get_data(as_text=True)


@pytest.mark.parametrize(
    "address",
    ["x", "A" * 43, "A" * 400, "not base64!", "AAAA" * 11, "A" * 42 + "."],
)
def test_a_wrong_address_is_a_plain_404(app: Flask, address: str) -> None:
    response = app.test_client().get(f"/feeds/{address}")
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_an_unknown_action_is_refused(room: tuple[Identity, str, Identity, FlaskClient]) -> None:
    assert post_signed_in(room[3], "/account/feed", {"action": "explode"}).status_code == 400
    assert post_signed_in(room[3], "/account/feed", {}).status_code == 400


def test_the_feed_page_needs_a_session(app: Flask) -> None:
    response = app.test_client().get("/account/feed")
    assert response.status_code in (302, 303, 401)


def test_the_address_never_reaches_a_log(room: tuple[Identity, str, Identity, FlaskClient]) -> None:
    address = _create(room[3])
    line = f'127.0.0.1 - - "GET /feeds/{address} HTTP/1.1" 200 -'
    assert address not in redact(line)
    assert address not in redact(f"http://example.org/feeds/{address}")


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app under a real HTTP server in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def test_a_feed_reader_reads_it_over_http_in_farsi(
    room: tuple[Identity, str, Identity, FlaskClient], app: Flask, served: str
) -> None:
    _coordinator, room_id, _member, client = room
    client.set_cookie(cookie_name(app.extensions["settings"]), "fa")
    address = _create(client)
    logger = logging.getLogger("werkzeug")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        parsed = feedparser.parse(f"{served}/feeds/{address}")
    finally:
        logger.removeHandler(handler)
    assert parsed.status == 200
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.language == "fa"
    assert parsed.entries
    entry = parsed.entries[0]
    number = feeds.room_number(room_id)
    assert number in entry.summary
    assert "news in room" not in entry.summary  # in Farsi, not English
    assert TITLE not in str(parsed)
    assert WORDS not in str(parsed)
    # Ids are stable between two fetches, so a reader shows nothing twice.
    again = feedparser.parse(f"{served}/feeds/{address}")
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]
    # The server's request log did not keep the address.
    assert address not in stream.getvalue()


def test_replacing_the_codename_stops_the_feed(
    room: tuple[Identity, str, Identity, FlaskClient], app: Flask, session: Session
) -> None:
    """Whoever learnt the old codename may have read the address on the feed page."""
    from statements.auth import service
    from tests.support import join_room, login_member, make_member

    _account, codename = make_member(app, session)
    account, keys = service.login_member(session, app.extensions["auth"], codename)
    join_room(
        session,
        room[0],
        room[1],
        Identity(account, keys, session_id_hash=b"", session_key=b""),
    )
    session.commit()
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    address = _create(client)
    reader = app.test_client()
    assert reader.get(f"/feeds/{address}").status_code == 200
    replaced = post_signed_in(client, "/account/codename", {"current": codename, "kind": "words"})
    assert replaced.status_code == 200
    assert reader.get(f"/feeds/{address}").status_code == 404
    assert "You have no feed address." in client.get("/account/feed").get_data(as_text=True)


def _statements_serving(app: Flask, address: str) -> int:
    """How many SQL statements serving the feed takes."""
    with counting(app) as seen:
        assert app.test_client().get(f"/feeds/{address}").status_code == 200
    return len(seen)


def test_a_feed_costs_the_same_queries_for_one_room_or_many(
    room: tuple[Identity, str, Identity, FlaskClient], app: Flask, session: Session
) -> None:
    from tests.support import join_room

    coordinator, _room_id, member, client = room
    address = _create(client)
    one = _statements_serving(app, address)
    with app.test_request_context():
        day = today()
    for n in range(4):
        other = make_room(session, coordinator, title=f"Room {n}")
        join_room(session, coordinator, other, member)
        drafting.submit_contribution(
            session, drafting.open_room(session, other, member), "comment", None, "Words.", day
        )
    session.commit()
    body = app.test_client().get(f"/feeds/{address}").get_data(as_text=True)
    assert body.count("<entry>") == 5
    assert _statements_serving(app, address) == one
