"""Published pages rendered once and kept: tagged before rendering, answered 304 for free.

What is published never changes, and the public pages are the same for every reader in
one interface language. So a page's ETag can be known before anything is rendered: it is
a hash of what the page is made of, namely

- which page (the method, the path with its query, the host it is served under),
- the interface language,
- the state of everything published: the log's latest signed checkpoint and the number
  of published versions. Every publication, correction, retraction and key rotation
  appends to the log and signs a new checkpoint; a statement released after an embargo
  entered the log when it was scheduled, and adds a version at its release. Nothing
  published changes otherwise. A checkpoint is signed by a key of its own site, so two
  sites (or two test databases) never share one,
- the code that renders it (templates, catalogues, the application's modules), hashed
  once per process, so a deployment of new templates never answers 304 with an old page.

A reader who has the page gets 304 after one small query; one who does not gets the kept
page, rendered once per process per (page, language, log state).

Kept in memory only, per process, bounded by bytes: deliberately not in a table or a file.
A row or a file is created the moment a reader first asks for a page in a language, so its
creation time would be a lasting record of a visit, which this site promises not to keep.
Rendering once per worker is cheap enough; a reverse proxy or CDN in front (see the
README) keeps the pages across workers and hosts.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from flask import Response, current_app, request
from sqlalchemy.orm import Session

from statements.db import get_session
from statements.i18n import current_language

_ROOT = Path(__file__).resolve().parents[2]
# What renders the pages: a change to any of these is a new deployment.
_SOURCES = (
    ("templates", "*.html"),
    ("statements", "*.py"),
    ("statements/translations", "*.mo"),
    ("statements/static", "*.css"),
)
# Several hundred pages in each of the nine interface languages.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@functools.cache
def code_version() -> str:
    """A hash of the templates, catalogues and modules this process renders with."""
    digest = hashlib.sha256()
    for folder, pattern in _SOURCES:
        for path in sorted((_ROOT / folder).rglob(pattern)):
            digest.update(str(path.relative_to(_ROOT)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# Plain SQL through the request's connection: this runs before every public answer, and
# the ORM's statement handling would cost more than the query.
_STATE = (
    "SELECT (SELECT signed_note FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1),"
    " (SELECT count(*) FROM published_versions)"
)


def _state(row: Sequence[Any]) -> bytes:
    note, versions = row
    return f"{note or ''}\n{versions}".encode()


def log_state(db: Session) -> bytes:
    """The latest signed checkpoint and the number of versions: what anything published
    changes (one query)."""
    return _state(db.connection().exec_driver_sql(_STATE).one())


def raw_log_state(connection: Any) -> bytes:
    """log_state, on a DB-API connection: for the fast path (fast_path.py), which has no
    session, and for which SQLAlchemy's result handling would cost more than the query."""
    cursor = connection.cursor()
    try:
        cursor.execute(_STATE)
        return _state(cursor.fetchone())
    finally:
        cursor.close()


class Sized(Protocol):
    """What a RenderCache keeps: anything that knows its size in bytes."""

    @property
    def size(self) -> int:
        """Bytes held (the body and the headers)."""
        ...


@dataclass(frozen=True)
class Kept:
    """A rendered answer: its body and what describes it."""

    body: bytes
    mimetype: str
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        """Bytes held (the body and the headers)."""
        return len(self.body) + sum(len(n) + len(v) for n, v in self.headers)


Entry = TypeVar("Entry", bound=Sized)


class RenderCache(Generic[Entry]):
    """Rendered public answers by key, least recently used out first, bounded by bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.renders = 0  # how many answers were rendered (and kept): for tests and metrics
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        """The kept answer of this key, if it is still kept."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, kept: Entry) -> None:
        """Keep an answer, dropping the least recently used beyond the bound."""
        size = len(key) + kept.size
        with self._lock:
            self.renders += 1
            if key in self._entries or size > self.max_bytes:
                return
            self._entries[key] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                old_key, dropped = self._entries.popitem(last=False)
                self._bytes -= len(old_key) + dropped.size


def cache() -> RenderCache[Kept]:
    """This app's render cache (one per app, so two apps in one process never mix)."""
    found = current_app.extensions.get("render_cache")
    if found is None:
        found = current_app.extensions.setdefault("render_cache", RenderCache[Kept]())
    return cast(RenderCache[Kept], found)


@dataclass(frozen=True)
class Page:
    """What a page's tag is made of, but the log's state: plain values, so that the fast
    path in front of the app (fast_path.py) tags a request exactly as the view does."""

    method: str
    host_url: str
    full_path: str
    # The interface language, or "" for an answer the same in every language.
    language: str
    mirror: bool


def tag_of(page: Page, state: bytes) -> str:
    """The tag of a page in a published state."""
    digest = hashlib.sha256()
    for part in (
        code_version().encode(),
        # A HEAD is answered with the headers of the GET (RFC 9110, 9.3.2): the same tag.
        (b"GET" if page.method == "HEAD" else page.method.encode()),
        page.host_url.encode(),
        page.full_path.encode(),
        page.language.encode(),
        # export-site renders the mirror's pages (no language menu, no sign-in links) with
        # the same app: never one for the other.
        b"mirror" if page.mirror else b"site",
        state,
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return "p-" + digest.hexdigest()[:40]


def page_for(*, translated: bool) -> Page:
    """This request's page."""
    return Page(
        request.method,
        request.host_url,
        request.full_path,
        current_language() if translated else "",
        bool(current_app.config.get("STATIC_MIRROR")),
    )


# Where a kept answer notes, in the request's WSGI environ, the page and tag it answered:
# the fast path keeps the final answer only when it was one (fast_path.py).
TAGGED = "statements.kept"


@dataclass(frozen=True)
class Tagged:
    """A kept view answered this request, 200 or 304: its page, whether it is translated,
    its tag and its endpoint (for the metrics)."""

    page: Page
    translated: bool
    etag: str
    endpoint: str


def _answer(kept: Kept, etag: str, cache_control: str) -> Response:
    response = Response(kept.body, mimetype=kept.mimetype)
    for name, value in kept.headers:
        response.headers[name] = value
    return _tagged(response, etag, cache_control)


def _tagged(response: Response, etag: str, cache_control: str) -> Response:
    response.cacheable = True  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = cache_control
    response.set_etag(etag)
    return response


def not_modified(etag: str, cache_control: str) -> Response:
    """304: the reader already has this answer."""
    return _tagged(Response(status=304), etag, cache_control)


# Headers a view may set that belong to the answer itself (the rest are added per request).
_KEPT_HEADERS = ("Content-Disposition", "Content-Language")

View = TypeVar("View", bound=Callable[..., Response])


def kept(cache_control: str, *, translated: bool = True) -> Callable[[View], View]:
    """Serve a public view's answer from its ETag: 304, the kept answer, or render once.

    Only for views whose answer depends on nothing but the request's page and language
    and what is published (see the module's docstring). Errors are never kept.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            page = page_for(translated=translated)
            etag = tag_of(page, log_state(get_session()))
            endpoint = request.url_rule.endpoint if request.url_rule else ""
            tagged = Tagged(page, translated, etag, endpoint)
            # Weak comparison, as RFC 9110 says for If-None-Match (a gzipping proxy weakens tags).
            if request.if_none_match.contains_weak(etag):
                request.environ[TAGGED] = tagged
                return not_modified(etag, cache_control)
            store = cache()
            found = store.get(etag)
            if found is not None:
                request.environ[TAGGED] = tagged
                return _answer(found, etag, cache_control)
            response = view(*args, **kwargs)
            if response.status_code != 200 or response.is_streamed:
                return response
            response.headers.pop("ETag", None)
            keep = Kept(
                response.get_data(),
                response.mimetype or "application/octet-stream",
                tuple((n, response.headers[n]) for n in _KEPT_HEADERS if n in response.headers),
            )
            store.put(etag, keep)
            request.environ[TAGGED] = tagged
            return _answer(keep, etag, cache_control)

        return cast(View, wrapper)

    return decorate
