"""Fixtures: settings, app, client, session, clock.

A fresh SQLite file per test by default. With TEST_DATABASE_URL set, the tests run on
that PostgreSQL database instead, each inside a transaction that is rolled back; with
TEST_REDIS_URL set, rate limits are kept in that Redis under a prefix of their own.
With TEST_CLOCK_AHEAD_HOURS set, the app's clock starts that far ahead of the machine's,
as it is near midnight for a test that reads the two at different moments; tests take
the app's time and day from tests.support.app_now and app_today.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import CodeType
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from crypto.kdf import KdfParams
from statements import create_app
from statements.db import Database, make_engine, upgrade
from statements.settings import Settings
from tests.support import use_clock

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
CLOCK_AHEAD = timedelta(hours=float(os.environ.get("TEST_CLOCK_AHEAD_HOURS") or 0))
CHEAP_KDF = KdfParams(memory_kib=8, iterations=1, lanes=1)
# Where the real tools (minisign, Chromium, axe-core, LibreOffice) must be present: a missing
# one fails.
REQUIRE_TOOLS = "STATEMENTS_REQUIRE_TOOLS"


class _TemplatesCompiledOnce(BytecodeCache):
    """Each test builds an app of its own, and each app's Jinja compiled every template
    it rendered anew: a quarter of the suite's time. The compiled code depends only on
    the template's source and the environment's syntax settings, so the test process
    keeps one copy of each, keyed by both.
    """

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], CodeType | None] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        autoescape = environment.autoescape
        syntax = repr(
            (
                sorted(environment.extensions),
                environment.block_start_string,
                environment.variable_start_string,
                environment.comment_start_string,
                environment.line_statement_prefix,
                environment.line_comment_prefix,
                environment.trim_blocks,
                environment.lstrip_blocks,
                environment.newline_sequence,
                environment.keep_trailing_newline,
                environment.optimized,
                # Flask decides by the template's name; the answer is compiled in.
                autoescape(name) if callable(autoescape) else autoescape,
            )
        )
        key = self.get_cache_key(name, filename) + syntax
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self._code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[(bucket.key, bucket.checksum)] = bucket.code


class _RulesBuiltOnce(Rule):
    """Werkzeug compiles two URL-building functions for every route of every app: a sixth
    of the suite's time, for the same few hundred routes again in each test. The function
    depends only on the rule, its defaults and its parsed parts, so the test process
    compiles each once. (Flask's url_rule_class is the documented way to change the rule
    class; the builders come back bound to each rule, as before.)
    """

    _builders: ClassVar[dict[tuple[str, str, str, bool], Callable[..., tuple[str, str]]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        key = (
            self.rule,
            repr(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _TemplatesCompiledOnce()}
Flask.url_rule_class = _RulesBuiltOnce


def pytest_configure(config: pytest.Config) -> None:
    """On CI: short tracebacks and truncated diffs, so one failure cannot flood the log.

    pytest stops truncating assertion diffs when it sees CI set, which once let a single
    failure print tens of thousands of lines. CI's meaning for this suite (real tools
    required) moves to a variable of our own, and CI is taken out of the environment.
    """
    if os.environ.get("CI") or os.environ.get("BUILD_NUMBER"):
        os.environ[REQUIRE_TOOLS] = "1"
        os.environ.pop("CI", None)
        os.environ.pop("BUILD_NUMBER", None)
        if config.option.tbstyle == "auto":
            config.option.tbstyle = "short"


def tools_required() -> bool:
    """True where a missing real tool is a failure rather than a skip (CI)."""
    return bool(os.environ.get(REQUIRE_TOOLS) or os.environ.get("CI"))


class Clock:
    """A settable clock the app reads through app.extensions['clock']."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + CLOCK_AHEAD

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _slots_in_the_test_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Apps made by Settings.from_env keep their key-derivation slots in a folder of the
    test's, not in the machine's /dev/shm (test_kdf_pool_at_rest uses the real one)."""
    import statements.settings

    shared = tmp_path / "shared-memory"
    shared.mkdir(mode=0o700)
    monkeypatch.setattr(statements.settings, "SHARED_MEMORY", shared)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """SQLite: one migrated database file, copied for each test."""
    if TEST_DATABASE_URL:
        return None
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine | None]:
    """PostgreSQL: a clean schema, migrated once for the whole run."""
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = make_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path | None) -> str:
    """The URL of this test's database."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    assert migrated_template is not None
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Development-mode settings with a cheap KDF; tests override with dataclasses.replace."""
    return Settings(
        environment="development",
        secret_key=secrets.token_urlsafe(48),
        lookup_pepper=secrets.token_bytes(32),
        database_url=database_url,
        instance_path=tmp_path / "instance",
        redis_url=TEST_REDIS_URL,
        kdf=CHEAP_KDF,
        rate_limit_prefix=f"test-{secrets.token_hex(8)}",
        # Members' anonymous writes are committed after each request, not batched later.
        mix_interval_seconds=0,
    )


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The time the app sees; tests move it."""
    clock = Clock()
    use_clock(clock)
    yield clock
    use_clock(None)


@pytest.fixture
def app(settings: Settings, clock: Clock, postgres_engine: Engine | None) -> Iterator[Flask]:
    """The app on this test's database."""
    app = create_app(settings)
    app.extensions["clock"] = clock
    database: Database = app.extensions["db"]
    if postgres_engine is None:
        yield app
        database.engine.dispose()
        return
    # Every session of the test joins one outer transaction that is rolled back at the
    # end; the app's commits become savepoint releases.
    connection = postgres_engine.connect()
    outer = connection.begin()
    database.sessionmaker = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield app
    finally:
        outer.rollback()
        connection.close()
        database.engine.dispose()


@pytest.fixture
def app_with(app: Flask, settings: Settings) -> Iterator[Callable[..., Flask]]:
    """Build another app from changed settings, on the same database, transaction and clock."""
    made: list[Flask] = []

    def build(**changes: Any) -> Flask:
        other = create_app(replace(settings, **changes))
        other.extensions["clock"] = app.extensions["clock"]
        other.extensions["db"].sessionmaker = app.extensions["db"].sessionmaker
        made.append(other)
        return other

    yield build
    for other in made:
        other.extensions["db"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session on the same database (and transaction) as the app."""
    database: Database = app.extensions["db"]
    db = database.sessionmaker()
    try:
        yield db
    finally:
        db.rollback()
        db.close()


@pytest.fixture(scope="session")
def minisign_tool() -> str:
    """The real minisign binary.

    CI installs it, and there a missing tool is a failure; on a developer's machine
    without it the interoperability tests are reported as skipped, with how to fix it,
    so `make test` still works on a machine that has only Python and make.
    """
    path = shutil.which("minisign")
    if path is None:
        message = (
            "the minisign binary is required for the interoperability tests: "
            "install it (Debian/Ubuntu: apt-get install minisign); CI does"
        )
        if tools_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def soffice_tool() -> str:
    """LibreOffice's soffice, which opens the Word documents as a reader's office suite would.

    Required on CI (a missing one fails); skipped with how to install it elsewhere.
    """
    path = shutil.which("soffice")
    if path is None:
        message = (
            "LibreOffice (soffice) is required to check the Word documents: install it "
            "(Debian/Ubuntu: apt-get install libreoffice-writer-nogui); CI does"
        )
        if tools_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path
