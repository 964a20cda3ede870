"""Engine, one session per request, and the migration state check."""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, g, render_template
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_COMMAND = "flask --app wsgi db upgrade"


@dataclass
class Database:
    """The engine and the session factory the app uses; tests may swap the factory."""

    engine: Engine
    sessionmaker: sessionmaker[Session]
    schema_current: bool = False


def make_engine(url: str) -> Engine:
    """Create an engine; parameters are hidden so no error message carries user data."""
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 15}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets several worker processes read while one writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # Deleted rows (ended sessions, destroyed keys) are overwritten, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def alembic_config(connection: Any = None) -> Config:
    """An Alembic configuration pointing at migrations/, optionally on a connection."""
    # Alembic (and Mako, which it brings) is for the command line: a worker that only
    # checks the schema's revision never loads it (tests/statements/test_lazy_imports.py).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _assigned(source: str, name: str) -> Any:
    """The literal a migration module assigns to name at its top level (None if absent)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


@cache
def head_revision() -> str | None:
    """The newest migration in migrations/.

    Read from the revision files' own `revision` and `down_revision` assignments, as
    Alembic reads them, but without importing Alembic or the migrations: a worker checks
    this on its first request, and Alembic would stay in its memory for good. The files
    do not change under a running process. Several heads are an error, as in Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision = _assigned(source, "revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = _assigned(source, "down_revision")
        parents.update([down] if isinstance(down, str) else (down or ()))
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {', '.join(sorted(heads))}")
    return next(iter(heads), None)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        found = sorted(versions)
    if len(found) > 1:
        raise RuntimeError(f"the database has several heads: {', '.join(found)}")
    return found[0] if found else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to revision."""
    from alembic import command

    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Rebuilding a table drops the old one, which with foreign keys on would
            # delete every row that refers to it. (Outside a transaction, or a no-op.)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection), revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left {len(broken)} broken references")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def get_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        database: Database = g.database
        g.db_session = database.sessionmaker()
    session: Session = g.db_session
    return session


def after_commit(callback: Callable[[], None]) -> None:
    """Run callback once this request's transaction has committed (not if it rolls back)."""
    callbacks: list[Callable[[], None]] = g.setdefault("after_commit", [])
    callbacks.append(callback)


def _note_writes(session: Session, *_args: Any) -> None:
    session.info["wrote"] = True


def _note_dml(orm_execute_state: Any) -> None:
    if not orm_execute_state.is_select:
        orm_execute_state.session.info["wrote"] = True


def destroyed_keys() -> None:
    """Mark this request as destroying keys: after commit, SQLite's log is emptied."""
    g.destroyed_keys = True


def checkpoint(engine: Engine) -> None:
    """On SQLite, fold the write-ahead log into the file and truncate it.

    secure_delete overwrites deleted rows in the database file, but the -wal file still
    holds the pages as they were until a checkpoint: destroyed keys must not linger there.
    """
    if engine.dialect.name != "sqlite":
        return
    for attempt in range(5):
        with engine.connect() as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
        if not busy:
            return
        # Another worker was reading: the log could not be emptied yet. Try again soon.
        time.sleep(0.05 * (attempt + 1))
    log.warning("SQLite's write-ahead log could not be emptied: readers kept it busy")


def rollback_request_session() -> None:
    """Undo the request's writes now, so an error page can still read the database."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def init_app(app: Flask, database_url: str) -> None:
    """Create the engine and wire the per-request transaction."""
    engine = make_engine(database_url)
    database = Database(engine, sessionmaker(bind=engine, expire_on_commit=False))
    app.extensions["db"] = database
    # Which requests wrote: on SQLite their commit is folded out of the -wal at once.
    if not event.contains(Session, "after_flush", _note_writes):
        event.listen(Session, "after_flush", _note_writes)
        event.listen(Session, "do_orm_execute", _note_dml)

    @app.before_request
    def _open() -> Response | None:
        g.database = database
        if not database.schema_current:
            current, head = current_revision(database.engine), head_revision()
            if current != head:
                app.logger.error(
                    "database is at migration %s, the code needs %s: run %s",
                    current,
                    head,
                    UPGRADE_COMMAND,
                )
                return Response(render_template("errors/schema.html", command=UPGRADE_COMMAND), 503)
            database.schema_current = True
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        # One commit per request, and only when it succeeded: a 4xx or 5xx writes nothing.
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            committed = False
            try:
                if response.status_code < 400:
                    wrote = session.info.pop("wrote", False)
                    session.commit()
                    committed = True
                    # SQLite's -wal keeps commits in order until a checkpoint: fold each
                    # writing request's commit into the file at once, so the log never
                    # holds a history of who wrote what after whom (A2). Destroyed keys
                    # must not linger there either.
                    if wrote or g.pop("destroyed_keys", False):
                        checkpoint(database.engine)
                else:
                    session.rollback()
            finally:
                session.close()
        else:
            committed = response.status_code < 400
        callbacks = g.pop("after_commit", [])
        if committed:
            for callback in callbacks:
                callback()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
