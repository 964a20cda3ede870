"""Fixtures of the browser tests: Debian's Chromium, axe-core, and the app on a real port.

The app is served by a real HTTP server in a background thread, on a fresh migrated SQLite
file, whatever database the rest of the suite uses: the browser makes many concurrent
requests, which the single shared transaction of the PostgreSQL test setup cannot serve.

Missing tools are never skipped silently: on CI (the CI variable set) they fail the run;
on a developer's machine the tests are reported as skipped, with how to install them.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from statements import create_app
from statements.db import Database, make_engine, upgrade
from statements.settings import Settings
from tests.browser.harness import AXE_PATH, CHROMIUM, CHROMIUM_ARGS, LiveApp
from tests.conftest import CHEAP_KDF, Clock, tools_required
from tests.support import use_clock


def _require(available: bool, message: str) -> None:
    if available:
        return
    if tools_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, as installed from tests/browser/package-lock.json."""
    _require(
        AXE_PATH.is_file(),
        "axe-core is required for the browser tests: run `make test`, which installs it "
        "with `npm ci --prefix tests/browser --no-audit --no-fund` when npm is present "
        "(Debian/Ubuntu: apt-get install npm); CI does",
    )
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright for the whole run: a second one in the same process cannot start."""
    _require(
        os.access(CHROMIUM, os.X_OK),
        f"{CHROMIUM} is required for the browser tests: install it "
        "(Debian/Ubuntu: apt-get install chromium); CI does",
    )
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(axe_source: str, playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright. No browser is ever downloaded."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def browser_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each journey."""
    path = tmp_path_factory.mktemp("browser-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


class _QuietHandler(WSGIRequestHandler):
    """No access log: request paths carry invitation and set-up secrets."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Log nothing."""


@pytest.fixture
def live_app(tmp_path: Path, browser_template: Path) -> Iterator[LiveApp]:
    """The real app on 127.0.0.1, a random port, a fresh database and a settable clock."""
    database = tmp_path / "browser.sqlite3"
    database.write_bytes(browser_template.read_bytes())
    settings = Settings(
        environment="development",
        secret_key=secrets.token_urlsafe(48),
        lookup_pepper=secrets.token_bytes(32),
        database_url=f"sqlite:///{database}",
        instance_path=tmp_path / "instance",
        kdf=CHEAP_KDF,
        rate_limit_prefix=f"browser-{secrets.token_hex(8)}",
        # Members' writes reach the database after each request, so the journey needs
        # no waiting; the batching itself is tested in tests/statements/test_mixing.py.
        mix_interval_seconds=0,
    )
    app = create_app(settings)
    clock = Clock()
    app.extensions["clock"] = clock
    use_clock(clock)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-app", daemon=True)
    thread.start()
    try:
        yield LiveApp(app, clock, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        use_clock(None)
        db: Database = app.extensions["db"]
        db.engine.dispose()
