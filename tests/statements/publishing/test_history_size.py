"""Public pages of a statement with 100 versions cost the SQL of one with 2, rendered
afresh or from the kept copy; a conditional GET costs one statement either way."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from tests.statements.publishing.test_query_counts import _correct
from tests.support import counting, published_statement


def queries(statements: list[str]) -> list[str]:
    """The statements that read or write, without the test transaction's savepoints."""
    return [s for s in statements if not re.match(r"(RELEASE |ROLLBACK TO )?SAVEPOINT", s)]


PAGES = (
    "/",
    "/statements/SLUG",
    "/statements/SLUG/v/1",
    "/statements/SLUG/v/2/bundle.json",
    "/api/v1/statements/SLUG",
    "/api/v1/statements",
    "/feed.atom",
    "/.well-known/statement-keys.json",
    "/log/proof/inclusion?index=0&size=2",
    "/log/proof/consistency?first=1&second=2",
)


def _costs(app: Flask, slug: str) -> dict[str, tuple[int, int, int]]:
    reader = app.test_client()
    reader.get("/")  # the first request of an app also checks the schema once
    costs = {}
    for page in PAGES:
        path = page.replace("SLUG", slug)
        app.extensions.pop("render_cache", None)
        app.extensions["fast_path"].forget()
        with counting(app) as fresh:
            first = reader.get(path)
        assert first.status_code == 200, path
        with counting(app) as kept:
            assert reader.get(path).status_code == 200, path
        with counting(app) as conditional:
            again = reader.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        costs[page] = (len(queries(fresh)), len(queries(kept)), len(queries(conditional)))
    return costs


def test_public_pages_cost_the_same_with_2_and_100_versions(app: Flask, session: Session) -> None:
    coordinator, short = published_statement(app, session, slug="short")
    _correct(session, coordinator, short, 1)
    _, long = published_statement(app, session, slug="long-history", coordinator=coordinator)
    _correct(session, coordinator, long, 99)
    session.commit()
    assert _costs(app, short) == _costs(app, long)
    costs = _costs(app, long)
    for page in ("/", "/statements/SLUG", "/api/v1/statements/SLUG", "/feed.atom"):
        # The kept copy is replayed in front of the app (fast_path.py), whose one look at
        # the log goes through a DB-API connection that SQLAlchemy does not count; the
        # first 304 is the view's one look.
        assert (costs[page][1], costs[page][2]) == (0, 1), (page, costs[page])
