"""Published pages are rendered once per (page, language, log state) and tagged before
rendering: a conditional GET answers 304 without rendering anything."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, template_rendered
from sqlalchemy.orm import Session

from statements.publishing import service as publishing
from statements.publishing.render_cache import Kept, RenderCache
from tests.statements.publishing.test_history_size import queries
from tests.support import app_today, counting, published_statement


@contextmanager
def rendering(app: Flask) -> Iterator[list[str]]:
    """The templates rendered inside the block."""
    names: list[str] = []

    def record(sender: Flask, template: Any, context: Any, **extra: Any) -> None:
        names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def _kept_renders(app: Flask) -> int:
    store = app.extensions.get("render_cache")
    return store.renders if store is not None else 0


def test_a_statement_page_is_rendered_once_and_answers_304_without_rendering(
    app: Flask, session: Session
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    with rendering(app) as rendered:
        first = reader.get(f"/statements/{slug}")
    assert first.status_code == 200
    assert rendered == ["public/statement.html"]
    etag = first.headers["ETag"]
    assert "immutable" not in first.headers["Cache-Control"]

    with rendering(app) as rendered:
        again = app.test_client().get(f"/statements/{slug}")
    assert rendered == []
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == etag

    with rendering(app) as rendered, counting(app) as statements:
        cached = reader.get(f"/statements/{slug}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.get_data() == b""
    assert rendered == []
    # One look at the log's latest checkpoint, nothing of the statement itself.
    assert len(queries(statements)) == 1
    assert "log_checkpoints" in queries(statements)[0]
    # A proxy that compresses weakens the tag; If-None-Match compares weakly.
    weak = reader.get(f"/statements/{slug}", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304


def test_each_interface_language_is_rendered_once_with_its_own_tag(
    app: Flask, session: Session
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    english = app.test_client().get(f"/statements/{slug}")
    with rendering(app) as rendered:
        farsi = app.test_client().get(f"/statements/{slug}", headers={"Accept-Language": "fa"})
        farsi_again = app.test_client().get(
            f"/statements/{slug}", headers={"Accept-Language": "fa"}
        )
    assert rendered == ["public/statement.html"]
    assert farsi.headers["ETag"] != english.headers["ETag"]
    assert farsi.get_data() == farsi_again.get_data() != english.get_data()
    assert 'dir="rtl"' in farsi.get_data(as_text=True)
    # An English tag gets no 304 from the Farsi page.
    crossed = app.test_client().get(
        f"/statements/{slug}",
        headers={"Accept-Language": "fa", "If-None-Match": english.headers["ETag"]},
    )
    assert crossed.status_code == 200


def test_a_new_version_changes_every_tag_and_shows_at_once(app: Flask, session: Session) -> None:
    coordinator, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    paths = [f"/statements/{slug}", f"/statements/{slug}/v/1", "/", "/feed.atom"]
    paths += [f"/api/v1/statements/{slug}", "/api/v1/statements"]
    before = {path: reader.get(path) for path in paths}
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
    for path, old in before.items():
        new = reader.get(path, headers={"If-None-Match": old.headers["ETag"]})
        assert new.status_code == 200, path
        assert new.headers["ETag"] != old.headers["ETag"], path
        assert "A corrected title" in new.get_data(as_text=True), path


def test_feed_and_api_are_built_once_and_answer_304(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    for path in ("/feed.atom", f"/api/v1/statements/{slug}", "/api/v1/statements", "/"):
        reader = app.test_client()
        first = reader.get(path)
        assert first.status_code == 200, path
        built = _kept_renders(app)
        assert built > 0, path
        second = app.test_client().get(path)
        assert second.get_data() == first.get_data(), path
        assert second.headers["Content-Type"] == first.headers["Content-Type"], path
        assert reader.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        assert _kept_renders(app) == built, path


def test_errors_are_not_kept(app: Flask, session: Session) -> None:
    reader = app.test_client()
    assert reader.get("/statements/no-such-statement").status_code == 404
    assert reader.get("/api/v1/statements/no-such-statement").status_code == 404
    _, _slug = published_statement(app, session, slug="no-such-statement")
    session.commit()
    assert reader.get("/statements/no-such-statement").status_code == 200
    assert reader.get("/api/v1/statements/no-such-statement").status_code == 200


def test_the_mirrors_pages_and_the_sites_are_kept_apart(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    site = reader.get(f"/statements/{slug}")
    app.config["STATIC_MIRROR"] = True
    try:
        mirror = reader.get(f"/statements/{slug}")
    finally:
        app.config["STATIC_MIRROR"] = False
    assert mirror.headers["ETag"] != site.headers["ETag"]
    assert 'name="lang"' in site.get_data(as_text=True)
    assert 'name="lang"' not in mirror.get_data(as_text=True)
    assert reader.get(f"/statements/{slug}").get_data() == site.get_data()


def test_the_cache_is_bounded_by_bytes() -> None:
    # Keys count too: each entry here holds 6 bytes.
    store = RenderCache[Kept](max_bytes=12)
    store.put("a", Kept(b"12345", "text/html", ()))
    store.put("b", Kept(b"12345", "text/html", ()))
    assert store.get("a") is not None
    store.put("c", Kept(b"12345", "text/html", ()))
    assert store.get("b") is None
    assert store.get("a") is not None
    assert store.get("c") is not None
    store.put("huge", Kept(b"x" * 11, "text/html", ()))
    assert store.get("huge") is None


def test_a_head_request_carries_the_tag_of_the_get(app: Flask) -> None:
    """A client that asks HEAD first, then GET with the tag it was given, gets a 304."""
    reader = app.test_client()
    tag = reader.head("/").headers["ETag"]
    assert tag == reader.get("/").headers["ETag"]
    assert reader.get("/", headers={"If-None-Match": tag}).status_code == 304
