"""Copying a live database out, and into an empty one: SQLite's online backup API, or
PostgreSQL's pg_dump and pg_restore with the password kept off the command line."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from statements.backup.errors import BackupError, DatabaseNotEmpty, ToolMissing, WrongDatabase

# --- SQLite --------------------------------------------------------------------------


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise WrongDatabase("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def sqlite_backup(source: Path, target: Path) -> None:
    """Copy a live SQLite database through its online backup API: a consistent copy,
    taken while the app keeps running."""
    with (
        contextlib.closing(
            sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        ) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        # One self-contained file: no write-ahead log beside it.
        dst.execute("PRAGMA journal_mode=DELETE")


def _sqlite_tables(path: Path) -> list[str]:
    if not path.exists() or path.stat().st_size == 0:
        return []
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [str(row[0]) for row in rows]


# --- PostgreSQL ----------------------------------------------------------------------


def schema_name(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT current_schema()")).scalar_one())


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(
            f"{name} is needed for PostgreSQL backups: install it "
            "(Debian/Ubuntu: apt-get install postgresql-client)"
        )
    return path


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment that holds it
    (a password on the command line would show in the process list)."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {
        key: value
        for key, value in {
            "host": url.host,
            "port": url.port,
            "user": url.username,
            "dbname": url.database,
        }.items()
        if value is not None
    }
    params.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo("", **params), env


def _run(command: list[str], env: Mapping[str, str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - a fixed tool, arguments from the settings
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {lines[-1] if lines else result.returncode}")
    return result


def pg_dump(engine: Engine, target: Path) -> None:
    conninfo, env = libpq(engine.url)
    schema = schema_name(engine) or "public"
    _run(
        [
            _tool("pg_dump"),
            "--format=custom",
            f"--schema={schema}",
            f"--file={target}",
            f"--dbname={conninfo}",
        ],
        env,
        "pg_dump",
    )


def _pg_objects(engine: Engine) -> tuple[list[str], list[str]]:
    """The tables and functions in the engine's schema, quoted and qualified."""
    with engine.connect() as connection:
        tables = connection.execute(
            text(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            )
        ).scalars()
        functions = connection.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema()"
            )
        ).scalars()
        return [str(t) for t in tables], [str(f) for f in functions]


def pg_restore(engine: Engine, dump: Path, work: Path) -> None:
    conninfo, env = libpq(engine.url)
    tool = _tool("pg_restore")
    listing = _run([tool, "--list", str(dump)], env, "pg_restore --list").stdout
    # The schema itself already exists (an empty database has its public schema), with
    # its owner, comment and rights: every object in it is restored, in one transaction.
    wanted = [
        line
        for line in listing.splitlines()
        if " SCHEMA - " not in line and " - SCHEMA " not in line
    ]
    (work / "restore.list").write_text("\n".join(wanted) + "\n", encoding="utf-8")
    _run(
        [
            tool,
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--use-list={work / 'restore.list'}",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env,
        "pg_restore",
    )


def pg_empty(engine: Engine) -> None:
    """Drop everything a failed restore put in the (previously empty) schema."""
    tables, functions = _pg_objects(engine)
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
        for function in functions:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))


def require_empty(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        tables = _sqlite_tables(sqlite_path(engine))
    else:
        tables, functions = _pg_objects(engine)
        tables += functions
    if tables:
        raise DatabaseNotEmpty(
            "the database is not empty: restore only into a new, empty database "
            "(not even migrated), so that nothing in it is mixed with the backup"
        )
