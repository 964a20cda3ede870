"""The fast path (publishing/fast_path.py) replays the app's own answers to public pages:
byte for byte the same, never to a signed-in reader, never one that set a cookie, and
never once something was published, corrected or released."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements import create_app
from statements.publishing import service as publishing
from statements.publishing.fast_path import EXTENSION, FastPath, Known, Replay
from statements.publishing.render_cache import TAGGED, Page, Tagged
from statements.settings import Settings
from tests.conftest import Clock
from tests.statements.publishing.test_embargo import SLUG, _local, _room, _schedule
from tests.support import (
    app_today,
    make_room,
    published_statement,
    signed_in_member,
    signed_in_staff,
)


class Dispatches:
    """How many requests entered Flask's dispatch, and how many the fast path replayed."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask = 0
        original = app.full_dispatch_request

        def counted() -> Response:
            self.flask += 1
            return original()

        app.full_dispatch_request = counted  # type: ignore[method-assign]

    @property
    def fast(self) -> int:
        fast: FastPath = self.app.extensions[EXTENSION]
        return fast.replayed


@pytest.fixture
def dispatches(app: Flask) -> Dispatches:
    return Dispatches(app)


def _whole(response: TestResponse) -> tuple[str, list[tuple[str, str]], bytes]:
    return response.status, response.headers.to_wsgi_list(), response.get_data()


def _by_app_then_fast(
    dispatches: Dispatches, client: FlaskClient, method: str, path: str, **kwargs: Any
) -> tuple[TestResponse, TestResponse]:
    """The app's answer, then the fast path's to the same request (asserting who answered)."""
    flask, fast = dispatches.flask, dispatches.fast
    first = client.open(path, method=method, **kwargs)
    assert (dispatches.flask, dispatches.fast) == (flask + 1, fast), path
    second = client.open(path, method=method, **kwargs)
    assert (dispatches.flask, dispatches.fast) == (flask + 1, fast + 1), path
    return first, second


def _paths(slug: str) -> list[str]:
    return [
        f"/statements/{slug}",
        f"/statements/{slug}/v/1",
        f"/statements/{slug}/embed",
        "/",
        "/feed.atom",
        "/api/v1/statements",
        f"/api/v1/statements/{slug}",
        f"/statements/{slug}/v/1/bundle.json",
    ]


@pytest.mark.parametrize(
    ("language", "cookie"),
    [("", ""), ("fa", ""), ("en", ""), ("", "fa"), ("en", "prs"), ("fa-AF, en;q=0.5", "")],
)
def test_the_fast_answer_is_the_apps_byte_for_byte(
    app: Flask, session: Session, dispatches: Dispatches, language: str, cookie: str
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    if cookie:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": language} if language else {}
    for path in _paths(slug):
        by_app, fast = _by_app_then_fast(dispatches, client, "GET", path, headers=headers)
        assert by_app.status_code == 200, path
        assert "Set-Cookie" not in by_app.headers, path
        assert _whole(fast) == _whole(by_app), path
        # Every header, the ones the hooks add included.
        assert fast.headers["Content-Security-Policy"], path
        assert fast.headers["ETag"] == by_app.headers["ETag"], path


def test_each_language_gets_its_own_answer(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    path = f"/statements/{slug}"
    english = _by_app_then_fast(dispatches, app.test_client(), "GET", path)[1]
    farsi = _by_app_then_fast(
        dispatches, app.test_client(), "GET", path, headers={"Accept-Language": "fa"}
    )[1]
    chosen = app.test_client()
    chosen.set_cookie("lang", "fa")
    # The menu's cookie outranks the browser's preference, as in the app.
    by_cookie = chosen.get(path, headers={"Accept-Language": "en"})
    assert dispatches.fast == 3
    assert farsi.headers["Content-Language"] == "fa"
    assert english.headers["Content-Language"] == "en"
    assert 'dir="rtl"' in farsi.text
    assert 'dir="rtl"' not in english.text
    assert _whole(by_cookie) == _whole(farsi)
    # And the app itself answers the cookie's request with the same bytes.
    app.extensions[EXTENSION].forget()
    flask = dispatches.flask
    assert _whole(chosen.get(path, headers={"Accept-Language": "en"})) == _whole(farsi)
    assert dispatches.flask == flask + 1
    # Untranslated answers are one for every language.
    api = "/api/v1/statements"
    _by_app_then_fast(dispatches, app.test_client(), "GET", api)
    before = dispatches.fast
    app.test_client().get(api, headers={"Accept-Language": "fa"})
    assert dispatches.fast == before + 1


def test_a_conditional_get_is_answered_304_as_the_app_does(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    path = f"/statements/{slug}"
    tag = client.get(path).headers["ETag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}'):
        flask = dispatches.flask
        by_app = client.get(path, headers={"If-None-Match": header})
        fast = client.get(path, headers={"If-None-Match": header})
        assert by_app.status_code == fast.status_code == 304
        assert dispatches.flask <= flask + 1
        assert _whole(fast) == _whole(by_app)
    assert dispatches.fast >= 3
    # A tag of something else gets the page.
    other = client.get(path, headers={"If-None-Match": '"p-0000"'})
    assert other.status_code == 200
    assert other.get_data() == client.get(path).get_data()


def test_head_is_answered_as_the_app_does(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    page = client.get(f"/statements/{slug}")
    by_app, fast = _by_app_then_fast(dispatches, client, "HEAD", f"/statements/{slug}")
    assert _whole(fast) == _whole(by_app)
    assert fast.get_data() == b""
    assert fast.headers["ETag"] == page.headers["ETag"]
    assert fast.headers["Content-Length"] == page.headers["Content-Length"]
    # And a GET after a HEAD gets the GET's body, not the HEAD's.
    assert client.get(f"/statements/{slug}").get_data() == page.get_data()


def test_each_query_string_is_a_page_of_its_own(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, _slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    plain = _by_app_then_fast(dispatches, client, "GET", "/")[1]
    queried = _by_app_then_fast(dispatches, client, "GET", "/?page=2")[1]
    assert queried.headers["ETag"] != plain.headers["ETag"]
    flask = dispatches.flask
    for other in ("/?page=3", "/?page=2&x=1", "/?page=%32"):
        assert client.get(other).status_code == 200, other
    # None of them was the one kept (not even "/?page=%32", which decodes to page=2).
    assert dispatches.flask == flask + 3
    assert client.get("/?page=2").get_data() == queried.get_data()
    # An empty query is no query, for the app as for the fast path.
    assert _whole(client.get("/?")) == _whole(plain)
    assert dispatches.flask == flask + 3


def test_a_signed_in_member_goes_through_the_app(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    coordinator, _client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    _member, member = signed_in_member(app, session, coordinator, room_id)
    _by_app_then_fast(dispatches, app.test_client(), "GET", "/")
    fast = dispatches.fast
    flask = dispatches.flask
    for _ in range(2):
        signed_in = member.get("/")
        assert signed_in.status_code == 200
    assert dispatches.fast == fast
    assert dispatches.flask == flask + 2
    # Their own pages are still theirs.
    assert "session-note" in member.get("/rooms").text
    # Any cookie but the language's goes to the app, whatever it is called.
    stranger = app.test_client()
    stranger.set_cookie("csrf", "x")
    stranger.get("/")
    stranger.set_cookie("something", "y")
    stranger.get("/")
    assert dispatches.fast == fast


def test_what_sets_a_cookie_is_never_kept(app: Flask, session: Session) -> None:
    setting = {"cookie": True}

    @app.after_request
    def _set(response: Response) -> Response:
        if setting["cookie"]:
            response.set_cookie("note", "1")
        return response

    dispatches = Dispatches(app)
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    for _ in range(3):
        assert "Set-Cookie" in client.get(f"/statements/{slug}").headers
    assert dispatches.fast == 0
    fast: FastPath = app.extensions[EXTENSION]
    assert not [r for r in fast.answers._entries.values() if isinstance(r, Replay)]
    setting["cookie"] = False
    # The client now sends the cookie it was given: the app answers.
    client.get(f"/statements/{slug}")
    client.get(f"/statements/{slug}")
    assert dispatches.fast == 0
    # Positive control: once the app sets none, its answer is kept and replayed.
    _by_app_then_fast(dispatches, app.test_client(), "GET", f"/statements/{slug}")


def test_keep_refuses_a_cookie_another_page_and_a_foreign_tag(app: Flask) -> None:
    fast: FastPath = app.extensions[EXTENSION]
    page = Page("GET", "http://localhost/", "/?", "en", False)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        TAGGED: Tagged(page, True, "p-1", "public.index"),
    }
    ok = [("Content-Type", "text/html"), ("ETag", '"p-1"')]
    fast.keep(environ, "200 OK", [*ok, ("Set-Cookie", "a=b")], b"x")
    fast.keep(environ, "200 OK", [("ETag", '"p-2"')], b"x")
    fast.keep(environ, "404 NOT FOUND", ok, b"x")
    fast.keep({**environ, "HTTP_ACCEPT_LANGUAGE": "fa"}, "200 OK", ok, b"x")
    fast.keep({**environ, "HTTP_COOKIE": "session=1"}, "200 OK", ok, b"x")
    assert not fast.answers._entries
    fast.keep(environ, "200 OK", ok, b"x")
    assert any(isinstance(entry, Replay) for entry in fast.answers._entries.values())
    assert any(isinstance(entry, Known) for entry in fast.answers._entries.values())


def test_a_correction_is_seen_at_once(app: Flask, session: Session, dispatches: Dispatches) -> None:
    coordinator, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    # Version 1's bundle is the same after a correction: the pages are what change.
    paths = [path for path in _paths(slug) if not path.endswith("bundle.json")]
    before = {path: _by_app_then_fast(dispatches, client, "GET", path)[1] for path in paths}
    latest = publishing.latest(session, slug).statement
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="A corrected title",
        body=latest["body_markdown"] + "\n\nA corrected paragraph.",
        signatories="Refugee Rights Network | Thailand",
        reason="A paragraph was missing.",
    )
    session.commit()
    flask = dispatches.flask
    for path, old in before.items():
        new = client.get(path, headers={"If-None-Match": old.headers["ETag"]})
        assert new.status_code == 200, path
        assert new.headers["ETag"] != old.headers["ETag"], path
        assert "A corrected title" in new.text, path
    assert dispatches.flask == flask + len(paths)


def test_a_retraction_is_seen_at_once(app: Flask, session: Session, dispatches: Dispatches) -> None:
    coordinator, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    _by_app_then_fast(dispatches, client, "GET", f"/statements/{slug}")
    publishing.retract(
        session, coordinator, slug, app_today(), "Withdrawn.", reason="A retraction."
    )
    session.commit()
    assert "Withdrawn." in client.get(f"/statements/{slug}").text


def test_a_due_release_is_published_by_the_request(
    app: Flask, session: Session, clock: Clock, dispatches: Dispatches
) -> None:
    room = _room(app, session, clock)
    reader = app.test_client()
    assert _schedule(room, _local(clock, hours=2)).status_code == 302
    # The home page as it is while the statement waits, answered by the fast path.
    waiting = _by_app_then_fast(dispatches, reader, "GET", "/")[1]
    assert SLUG not in waiting.text
    clock.advance(hours=2, minutes=1)
    flask = dispatches.flask
    released = reader.get("/", headers={"If-None-Match": waiting.headers["ETag"]})
    assert dispatches.flask == flask + 1
    assert released.status_code == 200
    assert SLUG in released.text


def test_a_release_due_between_checks_is_not_skipped(
    app: Flask, session: Session, clock: Clock, dispatches: Dispatches
) -> None:
    room = _room(app, session, clock)
    reader = app.test_client()
    # Due in less time than a worker trusts its last check (press_views.CHECK_SECONDS).
    assert _schedule(room, _local(clock, minutes=1)).status_code == 302
    waiting = _by_app_then_fast(dispatches, reader, "GET", "/")[1]
    assert SLUG not in waiting.text
    clock.advance(seconds=61)
    assert SLUG in reader.get("/").text


def test_the_mirror_export_goes_through_the_app(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    site = _by_app_then_fast(dispatches, client, "GET", f"/statements/{slug}")[1]
    app.config["STATIC_MIRROR"] = True
    try:
        mirror = client.get(f"/statements/{slug}")
    finally:
        app.config["STATIC_MIRROR"] = False
    assert 'name="lang"' not in mirror.text
    assert 'name="lang"' in site.text
    assert dispatches.fast == 1
    # Nor is the mirror's page kept for the site.
    assert _whole(client.get(f"/statements/{slug}")) == _whole(site)
    assert dispatches.fast == 2


def test_odd_requests_go_through_the_app(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, _slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    _by_app_then_fast(dispatches, client, "GET", "/")
    fast = dispatches.fast
    assert client.post("/").status_code in (400, 405)
    assert client.get("/", data=b"a body").status_code == 200
    assert client.get("/", headers={"Host": "elsewhere.example"}).status_code == 200
    assert client.get("/", headers={"Transfer-Encoding": "chunked"}).status_code < 500
    assert client.get("/?q=%00").status_code == 400
    # Bytes that are not UTF-8, in the query and in the path.
    assert client.get("/", environ_overrides={"QUERY_STRING": "q=\xff"}).status_code == 400
    assert client.get("/", environ_overrides={"PATH_INFO": "/\xff"}).status_code in (400, 404)
    assert client.get("/statements/no-such-statement").status_code == 404
    assert client.get("/statements/no-such-statement").status_code == 404
    assert dispatches.fast == fast
    # UTF-8 sent unescaped is read as if escaped (security.guard_request_body): one page.
    raw = client.get("/", environ_overrides={"QUERY_STRING": "q=\xd9\x81"})
    assert raw.status_code == 200
    assert _whole(raw) == _whole(client.get("/?q=%D9%81"))
    assert dispatches.fast == fast + 1


def test_the_cache_is_bounded(app: Flask, session: Session) -> None:
    app.extensions[EXTENSION].answers.max_bytes = 1
    dispatches = Dispatches(app)
    published_statement(app, session)
    session.commit()
    client = app.test_client()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert dispatches.fast == 0
    assert not app.extensions[EXTENSION].answers._entries


@pytest.fixture
def metrics_app(settings: Settings, app: Flask) -> Iterator[Flask]:
    """The app with metrics on, on the app fixture's database and transaction."""
    token = "m" * 40
    other = create_app(replace(settings, metrics_token=token))
    other.extensions["clock"] = app.extensions["clock"]
    other.extensions["db"].sessionmaker = app.extensions["db"].sessionmaker
    yield other
    other.extensions["db"].engine.dispose()


def test_fast_answers_are_counted_as_the_apps(
    metrics_app: Flask, session: Session, tmp_path: Path
) -> None:
    dispatches = Dispatches(metrics_app)
    _, slug = published_statement(metrics_app, session)
    session.commit()
    client = metrics_app.test_client()
    for _ in range(3):
        client.get(f"/statements/{slug}")
    tag = client.get(f"/statements/{slug}").headers["ETag"]
    for _ in range(2):
        client.head(f"/statements/{slug}")
        client.get(f"/statements/{slug}", headers={"If-None-Match": tag})
    assert dispatches.fast == 5
    body = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40}).text
    labels = 'endpoint="public.statement",method="{}",status="{}"'
    assert f"statements_requests_total{{{labels.format('GET', '200')}}} 4.0" in body
    assert f"statements_requests_total{{{labels.format('HEAD', '200')}}} 2.0" in body
    assert f"statements_requests_total{{{labels.format('GET', '304')}}} 2.0" in body
    assert 'statements_request_duration_seconds_count{endpoint="public.statement"} 8.0' in body
    assert slug not in body


def test_each_host_gets_its_own_answer(
    app: Flask, session: Session, dispatches: Dispatches
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    client = app.test_client()
    here = _by_app_then_fast(dispatches, client, "GET", "/feed.atom")[1]
    there = _by_app_then_fast(
        dispatches, client, "GET", "/feed.atom", base_url="https://mirror.example"
    )[1]
    assert "http://localhost/" in here.text
    assert "https://mirror.example/" in there.text
    assert "localhost" not in there.text
    assert there.headers["ETag"] != here.headers["ETag"]
    # Served over https, the answer carries HSTS; over http it does not.
    assert "Strict-Transport-Security" in there.headers
    assert "Strict-Transport-Security" not in here.headers
    assert f"/statements/{slug}" in there.text
