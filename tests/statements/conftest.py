"""Fixtures shared by the tests of the whole app."""

from __future__ import annotations

import pytest
from flask import Flask

from statements.settings import Settings


@pytest.fixture
def batching(app_with: object, settings: Settings) -> Flask:
    """The app with a real batch interval: writes wait in the queue until a flush."""
    build = app_with  # type: ignore[assignment]
    app: Flask = build(mix_interval_seconds=3600)  # type: ignore[operator]
    app.extensions["mixer"].autostart = False
    return app
