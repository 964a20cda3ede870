"""GET /healthz, for a load balancer, systemd or a container runtime.

200 "ok" when the database answers and its migrations are the code's, 503 "unavailable"
otherwise. The answer names no version, count or error: whoever can reach it learns only
up or down. It is answered in front of the app, as WSGI middleware, so a probe every few
seconds opens no session, sets no cookie, counts against no rate limit and writes no log
line (a failure is not logged either: the probe's status is the report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy import text

from statements.db import Database, head_revision

PATH = "/healthz"
_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def healthy(database: Database, head: str | None) -> bool:
    """True when the database answers and is at the code's newest migration."""
    try:
        # Read directly, not through Alembic, which logs each time it looks.
        with database.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            return list(versions.scalars()) == [head]
    except Exception:
        return False


def middleware(wrapped: WSGIApp, database: Database) -> WSGIApp:
    """Answer /healthz before the app; pass every other request on unchanged."""
    head = head_revision()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return wrapped(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [*_HEADERS, ("Allow", "GET, HEAD")])
            return [b""]
        if healthy(database, head):
            status, body = "200 OK", b"ok\n"
        else:
            status, body = "503 Service Unavailable", b"unavailable\n"
        start_response(status, [*_HEADERS, ("Content-Length", str(len(body)))])
        return [b"" if method == "HEAD" else body]

    return app


def init_app(app: Flask) -> None:
    """Put the health check in front of the app (after every other middleware)."""
    database: Database = app.extensions["db"]
    app.wsgi_app = middleware(app.wsgi_app, database)  # type: ignore[method-assign,assignment]
