"""Prometheus metrics: off by default, behind a bearer token, labelled by endpoint only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from statements import create_app
from statements.settings import Settings, SettingsError

TOKEN = "m" * 40


@pytest.fixture
def metrics_app(settings: Settings, app: Flask) -> Iterator[Flask]:
    """The app with metrics on, on the test database the app fixture migrated."""
    metrics_app = create_app(replace(settings, metrics_token=TOKEN))
    yield metrics_app
    # A second app has an engine of its own: close its connections, or PostgreSQL's
    # linger into later tests as unclosed-resource warnings.
    metrics_app.extensions["db"].engine.dispose()


def test_metrics_are_off_unless_a_token_is_configured(app: Flask) -> None:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "metrics" not in app.extensions


@pytest.mark.parametrize(
    "header", ["", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", TOKEN, f"bearer {TOKEN}"]
)
def test_metrics_need_the_exact_bearer_token(metrics_app: Flask, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    response = metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"statements_requests" not in response.data


def test_requests_are_counted_by_endpoint_never_by_path(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    secret = "a1b2c3d4e5f6-invitation-secret"
    assert client.get("/").status_code == 200
    client.get(f"/invitation/{secret}")
    client.get(f"/no-such-page-{secret}")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    home = metrics_app.url_map.bind("localhost").match("/")[0]
    assert f'statements_requests_total{{endpoint="{home}",method="GET",status="200"}} 1.0' in body
    endpoints = {
        line.split('endpoint="', 1)[1].split('"', 1)[0]
        for line in body.splitlines()
        if line.startswith("statements_requests_total{")
    }
    assert "drafting.invitation" in endpoints
    assert "unmatched" in endpoints
    assert secret not in body
    assert "127.0.0.1" not in body
    assert "statements_request_duration_seconds_bucket" in body
    # A scrape is answered in front of the app: it is not itself counted.
    assert "/metrics" not in body


def test_a_short_or_odd_token_is_refused_at_start(tmp_path: Path) -> None:
    for bad in ("short", "x" * 31, "y" * 40 + " z", "ü" * 40):
        with pytest.raises(SettingsError, match="METRICS_TOKEN"):
            Settings.from_env({"APP_ENV": "development", "METRICS_TOKEN": bad}, tmp_path)
    good = Settings.from_env({"APP_ENV": "development", "METRICS_TOKEN": TOKEN}, tmp_path)
    assert good.metrics_token == TOKEN
