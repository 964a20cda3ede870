"""/healthz: up or down, and nothing else."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from statements import create_app
from statements.db import head_revision
from statements.settings import Settings


def test_a_current_database_is_healthy(client: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.get("/healthz")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.data == b"ok\n"
    assert response.headers["Cache-Control"] == "no-store"
    # No session, no cookie, no log line: a probe every few seconds leaves no trace.
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers
    assert not caplog.records
    head = client.head("/healthz")  # type: ignore[attr-defined]
    assert head.status_code == 200
    assert head.data == b""


def test_only_get_and_head_are_answered(client: object) -> None:
    response = client.post("/healthz")  # type: ignore[attr-defined]
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def _unhealthy(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["db"].engine.dispose()
    assert response.status_code == 503
    assert response.data == b"unavailable\n"
    assert "Set-Cookie" not in response.headers
    head = head_revision()
    assert head is not None
    # Neither the migration it is at nor the one it needs, nor why it failed.
    assert head.encode() not in response.data
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_database_behind_on_migrations_is_unavailable(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "not-migrated.sqlite3"
    _unhealthy(create_app(replace(settings, database_url=f"sqlite:///{empty}")), caplog)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/statements.sqlite3",
        "postgresql+psycopg://postgres@127.0.0.1:9/statements?connect_timeout=2",
    ],
    ids=["sqlite", "postgresql"],
)
def test_an_unreachable_database_is_unavailable(
    settings: Settings, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _unhealthy(create_app(replace(settings, database_url=url)), caplog)


def test_other_paths_reach_the_app(client: object) -> None:
    assert client.get("/healthz/").status_code == 404  # type: ignore[attr-defined]
    assert client.get("/safety").status_code == 200  # type: ignore[attr-defined]
