"""The schema comes only from the migrations, and the app refuses a stale database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
