"""The schema comes only from the migrations, and the app refuses a stale database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import Engine

from statements import create_app
from statements.db import Database, current_revision, head_revision, make_engine, upgrade
from statements.models import Base
from statements.settings import Settings


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_produce_the_models_schema(app: Flask) -> None:
    """On the test database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""
    database: Database = app.extensions["db"]
    assert current_revision(database.engine) == head_revision()
    assert _differences(database.engine) == []


def test_migrations_run_down_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}")
    upgrade(engine)
    from alembic import command

    from statements.db import alembic_config

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert _differences(engine) == []
    engine.dispose()


def test_app_refuses_a_database_behind_the_migrations(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(replace(settings, database_url=url))
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "flask --app wsgi db upgrade" in response.get_data(as_text=True)
    upgrade(app.extensions["db"].engine)
    assert app.test_client().get("/").status_code == 200
    app.extensions["db"].engine.dispose()


def test_no_private_table_keeps_a_rowid(app: Flask) -> None:
    """On SQLite a rowid counts insertions; only what is published (public) keeps one."""
    database: Database = app.extensions["db"]
    if database.engine.dialect.name != "sqlite":
        return
    public = {"alembic_version", "log_checkpoints", "log_entries", "signing_keys"}
    public |= {"published_statements", "published_versions"}
    with database.engine.connect() as connection:
        tables = dict(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            ).all()
        )
    with_rowid = {name for name, sql in tables.items() if "WITHOUT ROWID" not in sql}
    assert with_rowid == public


def test_rebuilding_tables_keeps_the_rows_that_refer_to_them(tmp_path: Path) -> None:
    """Migration 0004 rebuilds accounts and rooms: their members and keys must survive."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO accounts (id, role, lookup_id, disabled, session_epoch)"
            " VALUES ('a1', 'member', x'01', 0, 0)"
        )
        connection.exec_driver_sql(
            "INSERT INTO rooms (id, state, language, contribution_deadline, signon_deadline,"
            " key_version, current_version, pending_cap, rotation_due, sealed, details)"
            " VALUES ('r1', 'drafting', 'en', '2027-01-01', '2027-02-01', 1, 1, 20, 0, 0, x'00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO room_members (room_id, account_id, role) VALUES ('r1', 'a1', 'member')"
        )
        connection.exec_driver_sql(
            "INSERT INTO room_keys (room_id, key_version, account_id, sealed_key)"
            " VALUES ('r1', 1, 'a1', x'02')"
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM room_members").scalar() == 1
        assert connection.exec_driver_sql("SELECT count(*) FROM room_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _checks_in_models() -> dict[tuple[str, str], str]:
    from sqlalchemy import CheckConstraint

    found = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                text = " ".join(str(constraint.sqltext).split())
                found[(table.name, str(constraint.name).removeprefix(f"ck_{table.name}_"))] = text
    return found


def test_every_check_in_the_models_is_the_one_the_migrations_made(tmp_path: Path) -> None:
    """compare_metadata does not look at CHECKs: an enum value added to the models (which
    derive their CHECKs from the enums) without a migration would fail only at runtime."""
    from sqlalchemy import inspect

    engine = make_engine(f"sqlite:///{tmp_path / 'checks.sqlite3'}")
    upgrade(engine)
    inspector = inspect(engine)
    migrated = {}
    for table in inspector.get_table_names():
        for check in inspector.get_check_constraints(table):
            name = str(check["name"]).removeprefix(f"ck_{table}_")
            migrated[(table, name)] = " ".join(check["sqltext"].split())
    engine.dispose()
    models = _checks_in_models()
    assert ("contributions", "status") in models
    assert "'incorporated'" in models[("contributions", "status")]
    for key, text in models.items():
        assert migrated.get(key) == text, key


def test_the_head_the_app_checks_is_alembics() -> None:
    """The worker reads the head from the files without Alembic; Alembic must agree."""
    from alembic.script import ScriptDirectory

    from statements.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_several_heads_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from statements import db

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    db.head_revision.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="several heads"):
            db.head_revision()
        (versions / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n')
        db.head_revision.cache_clear()
        assert db.head_revision() == "d"
    finally:
        db.head_revision.cache_clear()
