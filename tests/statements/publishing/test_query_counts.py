"""Public pages of a long history issue as many SQL statements as those of a short one."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.publishing import service as publishing
from tests.support import app_today, counting, published_statement


def _correct(session: Session, coordinator: auth.Identity, slug: str, times: int) -> None:
    for n in range(times):
        latest = publishing.latest(session, slug).statement
        publishing.correct(
            session,
            coordinator,
            slug,
            app_today(),
            title=latest["title"],
            body=latest["body_markdown"] + f"\n\nCorrection {n}.",
            signatories="Refugee Rights Network | Thailand\nAnother Org",
            reason="A correction.",
        )


def _counts(app: Flask, slug: str) -> dict[str, int]:
    reader = app.test_client()
    reader.get("/")  # the first request of an app also checks the schema once
    counts = {}
    for path in (
        "/",
        f"/statements/{slug}",
        f"/statements/{slug}/v/1",
        f"/api/v1/statements/{slug}",
        "/api/v1/statements",
        "/feed.atom",
        "/.well-known/statement-keys.json",
        "/log/proof/inclusion?index=0&size=2",
    ):
        # Rendered afresh: what a page costs the first time, not the kept copy's one look-up
        # (nor the fast path's, in front of the app).
        app.extensions.pop("render_cache", None)
        app.extensions["fast_path"].forget()
        with counting(app) as statements:
            assert reader.get(path).status_code == 200, path
        counts[path.replace(slug, "SLUG")] = len(statements)
    return counts


def test_public_pages_do_not_grow_with_history(app: Flask, session: Session) -> None:
    short_coordinator, short = published_statement(app, session, slug="short")
    _correct(session, short_coordinator, short, 1)
    _, long = published_statement(app, session, slug="long-history", coordinator=short_coordinator)
    _correct(session, short_coordinator, long, 12)
    session.commit()
    assert _counts(app, short) == _counts(app, long)
