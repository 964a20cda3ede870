"""Kept public answers replayed in front of the app, without entering Flask.

A kept page (render_cache.py) costs little to find, but a request to the app still pays
for everything around the view: the request context, the rate limiter, the session, the
choice of language, the hooks before and after the view and the middleware. This WSGI
layer answers a request the app has already answered the same way, with the app's own
answer: the status, every header and the body, captured as they left the app (after every
hook) and replayed byte for byte.

An answer is captured only when a kept view gave it (200, or 304 to a matching
If-None-Match), with no cookie set, for a request without a cookie but the language
menu's. It is replayed to a request only when everything its tag is made of is the same:
the method, the host, the path and query, the interface language (chosen by the same
function as the app's, i18n.chosen_language) and the log's state, read with the same one
query. So a publication, correction, retraction, key rotation or release changes the key
at once, as it changes the page's tag.

Anything else goes to the app: another method, a body, any other cookie (a session), a
page the app has not answered here yet, the static mirror's export, a release check that
is due (the app publishes what is due before it answers), a schema not yet checked.

Kept in memory only, per process, bounded by bytes, for the reasons render_cache.py gives:
nothing is written anywhere, and nothing is logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Connection
from werkzeug.wrappers import Request

from statements.db import Database
from statements.i18n import chosen_language, cookie_name
from statements.publishing.press_views import NextRelease, release_check_due
from statements.publishing.render_cache import (
    DEFAULT_MAX_BYTES,
    TAGGED,
    Page,
    RenderCache,
    Tagged,
    raw_log_state,
    tag_of,
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EXTENSION = "fast_path"
# Statuses a kept view answers with that are worth replaying.
_REPLAYED = frozenset({200, 304})


@dataclass(frozen=True)
class Replay:
    """An answer as it left the app: status line, headers, body; and its endpoint."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    endpoint: str

    @property
    def size(self) -> int:
        """Bytes held (the body and the headers)."""
        return len(self.body) + sum(len(n) + len(v) for n, v in self.headers) + len(self.status)


@dataclass(frozen=True)
class Known:
    """A request the app answered from a kept view: whether its answer is translated, and
    its host URL and full path as the app saw them (werkzeug's are costly to compute)."""

    translated: bool
    host_url: str
    full_path: str

    @property
    def size(self) -> int:
        """Bytes held, roughly."""
        return 64 + len(self.host_url) + len(self.full_path)


class FastPath:
    """The captured answers of one app, and how to find one for a request."""

    def __init__(self, app: Flask, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.app = app
        self.answers: RenderCache[Replay | Known] = RenderCache(max_bytes)
        # How many requests were answered here, not by the app: for tests.
        self.replayed = 0
        self._count = threading.Lock()

    def forget(self) -> None:
        """Drop every captured answer (for tests that measure what the app itself costs)."""
        self.answers = RenderCache(self.answers.max_bytes)

    def language(self, request: Request, translated: bool) -> str | None:
        """The request's interface language as the app would choose it ("" when the answer
        is the same in every language); None when the app must answer: any cookie but the
        language's (a session), a body, another method."""
        environ = request.environ
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if environ.get("CONTENT_LENGTH", "") not in ("", "0"):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ:
            return None
        if "HTTP_COOKIE" not in environ and "HTTP_ACCEPT_LANGUAGE" not in environ:
            return chosen_language(None, ()) if translated else ""
        language_cookie = cookie_name(self.app.extensions["settings"])
        if any(name != language_cookie for name in request.cookies):
            return None
        if not translated:
            return ""
        return chosen_language(request.cookies.get(language_cookie), request.accept_languages)

    def page(self, request: Request, translated: bool) -> Page | None:
        """The request's page, as render_cache.page_for sees it in the app; None when the
        app must answer (see language)."""
        language = self.language(request, translated)
        if language is None:
            return None
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if trusted is not None:
            request.trusted_hosts = trusted
        # request.host raises for a host TRUSTED_HOSTS does not list, as the app does.
        return Page(request.method, request.host_url, request.full_path, language, False)

    def state(self) -> bytes:
        """The log's state, with one query on a connection of the app's own."""
        database: Database = self.app.extensions["db"]
        # The session factory's bind: the engine, or in the tests one connection that
        # holds the test's transaction.
        bind = database.sessionmaker.kw.get("bind", database.engine)
        if isinstance(bind, Connection):
            return raw_log_state(bind.connection)
        connection = database.engine.raw_connection()
        try:
            return raw_log_state(connection)
        finally:
            connection.close()

    def ready(self) -> bool:
        """Whether the app would answer a kept page straight away: the schema checked,
        the static mirror not being exported, no release check due."""
        extensions = self.app.extensions
        database: Database = extensions["db"]
        if not database.schema_current or self.app.config.get("STATIC_MIRROR"):
            return False
        known: NextRelease | None = extensions.get("next_release")
        return known is not None and not release_check_due(known, extensions["clock"]())

    def find(self, environ: dict[str, Any]) -> Replay | None:
        """The captured answer to this request, or None for the app to answer it."""
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return None
        known = self.answers.get(_page_key(environ))
        if not isinstance(known, Known) or not self.ready():
            return None
        request = Request(environ)
        language = self.language(request, known.translated)
        if language is None:
            return None
        page = Page(method, known.host_url, known.full_path, language, False)
        etag = tag_of(page, self.state())
        # Weak comparison, as the view does (render_cache.kept).
        status = 304 if request.if_none_match.contains_weak(etag) else 200
        found = self.answers.get(_answer_key(etag, method, status))
        return found if isinstance(found, Replay) else None

    def keep(
        self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Keep the app's answer, if a kept view gave it and the fast path would find it."""
        tagged = environ.get(TAGGED)
        if not isinstance(tagged, Tagged) or tagged.page.mirror:
            return
        code = int(status.split(" ", 1)[0])
        if code not in _REPLAYED:
            return
        if any(name.lower() == "set-cookie" for name, _value in headers):
            return
        if dict(headers).get("ETag") != f'"{tagged.etag}"':
            return
        # Only under a key this layer computes alike: were the two ever to differ, the
        # answer would be kept where no request finds it, never replayed to another.
        page = self.page(Request(environ), tagged.translated)
        if page != tagged.page:
            return
        replay = Replay(status, tuple(headers), body, tagged.endpoint)
        self.answers.put(_answer_key(tagged.etag, page.method, code), replay)
        known = Known(tagged.translated, page.host_url, page.full_path)
        self.answers.put(_page_key(environ), known)

    def count(self, replay: Replay, method: str, started: float) -> None:
        """Count the answer as the app would (statements/metrics.py), and for the tests."""
        with self._count:
            self.replayed += 1
        metrics = self.app.extensions.get("metrics")
        if metrics is not None:
            code = replay.status.split(" ", 1)[0]
            metrics.requests.labels(replay.endpoint, method, code).inc()
            metrics.latency.labels(replay.endpoint).observe(time.perf_counter() - started)


# What the host URL and the full path are computed from (werkzeug's Request.host_url and
# full_path), as the server gave them.
_PAGE = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)


def _page_key(environ: dict[str, Any]) -> str:
    return "\0".join(["page", *(str(environ.get(name, "")) for name in _PAGE)])


def _answer_key(etag: str, method: str, status: int) -> str:
    return f"answer\0{etag}\0{method}\0{status}"


def middleware(wrapped: WSGIApp, fast: FastPath) -> WSGIApp:
    """Replay a captured answer; otherwise let the app answer, and capture what it says."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            found = fast.find(environ)
        except Exception:
            # Whatever went wrong here (the database, a header), the app answers and
            # reports it in its own way.
            found = None
        if found is not None:
            start_response(found.status, list(found.headers))
            fast.count(found, environ["REQUEST_METHOD"], started)
            return [found.body]

        answered: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = wrapped(environ, capture)
        if TAGGED not in environ or not answered:
            return body
        try:
            chunks = list(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        whole = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        fast.keep(environ, answered[0], list(answered[1]), whole)
        return [whole]

    return app


def init_app(app: Flask) -> None:
    """Put the fast path directly in front of the app, inside every other middleware: it
    sees the request as the app does (after ProxyFix), and /healthz and /metrics stay in
    front of it."""
    fast = FastPath(app)
    app.extensions[EXTENSION] = fast
    app.wsgi_app = middleware(app.wsgi_app, fast)  # type: ignore[method-assign,assignment]
