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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

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


def log_state(db: Session) -> bytes:
    """The latest signed checkpoint and the number of versions: what anything published
    changes (one query)."""
    note, versions = db.connection().exec_driver_sql(_STATE).one()
    return f"{note or ''}\n{versions}".encode()


@dataclass(frozen=True)
class Kept:
    """A rendered answer: its body and what describes it."""

    body: bytes
    mimetype: str
    headers: tuple[tuple[str, str], ...]


class RenderCache:
    """Rendered public answers by ETag, least recently used out first, bounded by bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.renders = 0  # how many answers were rendered (and kept): for tests and metrics
        self._entries: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> Kept | None:
        """The kept answer of this tag, if it is still kept."""
        with self._lock:
            found = self._entries.get(etag)
            if found is not None:
                self._entries.move_to_end(etag)
            return found

    def put(self, etag: str, kept: Kept) -> None:
        """Keep an answer, dropping the least recently used beyond the bound."""
        size = len(kept.body)
        with self._lock:
            self.renders += 1
            if etag in self._entries or size > self.max_bytes:
                return
            self._entries[etag] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)


def cache() -> RenderCache:
    """This app's render cache (one per app, so two apps in one process never mix)."""
    found = current_app.extensions.get("render_cache")
    if found is None:
        found = current_app.extensions.setdefault("render_cache", RenderCache())
    return cast(RenderCache, found)


def etag_for(db: Session, *, translated: bool) -> str:
    """The tag of the answer to this request, known without rendering it."""
    digest = hashlib.sha256()
    for part in (
        code_version().encode(),
        # A HEAD is answered with the headers of the GET (RFC 9110, 9.3.2): the same tag.
        (b"GET" if request.method == "HEAD" else request.method.encode()),
        request.host_url.encode(),
        request.full_path.encode(),
        current_language().encode() if translated else b"",
        # export-site renders the mirror's pages (no language menu, no sign-in links) with
        # the same app: never one for the other.
        b"mirror" if current_app.config.get("STATIC_MIRROR") else b"site",
        log_state(db),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return "p-" + digest.hexdigest()[:40]


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
            etag = etag_for(get_session(), translated=translated)
            # Weak comparison, as RFC 9110 says for If-None-Match (a gzipping proxy weakens tags).
            if request.if_none_match.contains_weak(etag):
                return not_modified(etag, cache_control)
            store = cache()
            found = store.get(etag)
            if found is not None:
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
            return _answer(keep, etag, cache_control)

        return cast(View, wrapper)

    return decorate
