"""Encrypted backups, and restoring one into an empty database.

A backup is one file in the age format (https://age-encryption.org/v1), encrypted to the
backup public keys of the settings, so that only someone holding a private half, kept away
from this server, can read it: a seized server and a stolen backup reveal nothing more than
the database already does (A1, A2). Inside is a gzipped tar of

  manifest.json   the format, the database's dialect and migration, the log's size and
                  checkpoint, and the SHA-256 and length of every other file;
  database.*      SQLite's online backup of the database file, or PostgreSQL's pg_dump in
                  its custom format;
  log.json        the public log: every entry and the latest signed checkpoint;
  settings.json   the deployment's settings that are not secret.

SECRET_KEY and LOOKUP_PEPPER are never in it (nor the database URL, which may carry a
password): without the pepper no member can sign in again, so they are kept apart.

Restoring checks the manifest's checksums, restores only into an empty database, brings
its migrations to the code's, verifies every published bundle against the signing keys and
the public log, and checks that the log extends the checkpoint the archive recorded. A
restore that fails any check leaves the database as empty as it found it.

Nothing here imports flask: the CLI (statements/backup_cli.py) calls these functions.
The archive format is in archive.py, the two databases in databases.py, the restore
checks in checks.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, select
from sqlalchemy.orm import Session

from crypto.signing import note_verifier_key
from statements.backup.archive import (
    FORMAT,
    LOG_FILE,
    MANIFEST,
    POSTGRES_FILE,
    SETTINGS_FILE,
    SQLITE_FILE,
    Manifest,
    checksum,
    encrypt,
    open_archive,
    read_identities,
    recipients,
    workdir,
    write_json,
    write_tar,
)
from statements.backup.checks import check_bundles, check_log, read_log
from statements.backup.databases import (
    pg_dump,
    pg_empty,
    pg_restore,
    require_empty,
    schema_name,
    sqlite_backup,
    sqlite_path,
)
from statements.backup.errors import (
    ArchiveDamaged,
    ArchiveUnreadable,
    BackupError,
    DatabaseNotEmpty,
    NoBackupKey,
    RestoreCheckFailed,
    ToolMissing,
    WrongDatabase,
)
from statements.db import alembic_config, current_revision, head_revision, make_engine, upgrade
from statements.models import SigningKeyRecord
from statements.settings import Settings


@dataclass(frozen=True)
class Restored:
    """What a restore brought back, and what it checked."""

    manifest: Manifest
    bundles: int
    log_size: int
    checkpoint: str


def create_backup(
    engine: Engine,
    out: Path,
    public_keys: Sequence[str],
    public_settings: Mapping[str, Any],
    today: date,
) -> Manifest:
    """Write an encrypted archive of the database, the log and the settings to `out`."""
    to = recipients(public_keys)
    if out.exists():
        raise BackupError(f"{out} already exists: give each backup a new name")
    with workdir() as work:
        # The log is read before the database is copied: the copy then holds at least
        # these entries, and restore checks that it extends this checkpoint.
        log = read_log(engine)
        if engine.dialect.name == "sqlite":
            database = work / SQLITE_FILE
            sqlite_backup(sqlite_path(engine), database)
        elif engine.dialect.name == "postgresql":
            database = work / POSTGRES_FILE
            pg_dump(engine, database)
        else:  # pragma: no cover - settings allow only these two
            raise WrongDatabase(f"cannot back up a {engine.dialect.name} database")
        files = {
            database.name: database,
            LOG_FILE: write_json(work / LOG_FILE, log),
            SETTINGS_FILE: write_json(work / SETTINGS_FILE, dict(public_settings)),
        }
        manifest = Manifest(
            {
                "format": FORMAT,
                "created_on": today.isoformat(),
                "database": {
                    "dialect": engine.dialect.name,
                    "schema": schema_name(engine),
                    "migration": current_revision(engine),
                },
                "log": {"size": len(log["entries"]), "checkpoint": log["checkpoint"]},
                "files": {name: checksum(path) for name, path in sorted(files.items())},
            }
        )
        files[MANIFEST] = write_json(work / MANIFEST, manifest.data)
        archive = work / "backup.tar.gz"
        write_tar(archive, [MANIFEST, *sorted(set(files) - {MANIFEST})], files)
        encrypt(archive, out, to)
    return manifest


def restore_backup(engine: Engine, archive: Path, identities: list[Any]) -> Restored:
    """Restore an archive into the engine's empty database, then check it (see above)."""
    require_empty(engine)
    with workdir() as work:
        manifest, files = open_archive(archive, identities, work)
        _require_matching(engine, manifest)
        if engine.dialect.name == "sqlite":
            return _restore_sqlite(engine, manifest, files, work)
        require_empty(engine)
        pg_restore(engine, files[POSTGRES_FILE], work)
        try:
            return _finish(engine, manifest, files)
        except BaseException:
            pg_empty(engine)
            raise


def _require_matching(engine: Engine, manifest: Manifest) -> None:
    if manifest.dialect != engine.dialect.name:
        raise WrongDatabase(
            f"the archive holds a {manifest.dialect} database; "
            f"DATABASE_URL names a {engine.dialect.name} one"
        )
    schema = manifest.data["database"].get("schema")
    if engine.dialect.name == "postgresql" and schema != schema_name(engine):
        raise WrongDatabase(f"the archive's tables are in the schema {schema!r}")
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if manifest.migration is not None and manifest.migration not in known:
        raise WrongDatabase(
            f"the archive is from a newer version of the code (migration {manifest.migration}): "
            "install that version, restore, then upgrade"
        )


def _restore_sqlite(
    engine: Engine, manifest: Manifest, files: dict[str, Path], work: Path
) -> Restored:
    """Restore beside the target, check the copy there, and only then move it into place."""
    target = sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    staged.unlink(missing_ok=True)
    try:
        sqlite_backup(files[SQLITE_FILE], staged)
        os.chmod(staged, 0o600)
        staged_engine = make_engine(f"sqlite:///{staged}")
        try:
            restored = _finish(staged_engine, manifest, files)
        finally:
            staged_engine.dispose()
        # Back to one file, then in place of the (empty) target and its old -wal and -shm.
        with contextlib.closing(sqlite3.connect(staged)) as db:
            db.execute("PRAGMA journal_mode=DELETE")
        engine.dispose()
        require_empty(engine)
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return restored


def _finish(engine: Engine, manifest: Manifest, files: Mapping[str, Path]) -> Restored:
    """The checks a restored database must pass."""
    if current_revision(engine) != head_revision():
        upgrade(engine)
    if current_revision(engine) != head_revision():
        raise RestoreCheckFailed("the restored database's migrations are not the code's")
    archived_log = json.loads(files[LOG_FILE].read_text(encoding="utf-8"))
    with Session(engine) as db:
        keys = list(db.scalars(select(SigningKeyRecord)))
        verifiers = [note_verifier_key(k.note_key_name, k.public_key) for k in keys]
        bundles = check_bundles(db, keys)
        size, checkpoint = check_log(db, verifiers, archived_log, manifest)
    return Restored(manifest, bundles, size, checkpoint)


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings an archive keeps: those that say how the site ran, none that is secret.

    An allowlist, so a secret added to Settings later is left out unless named here.
    """
    names = (
        "environment",
        "session_idle_minutes",
        "session_max_hours",
        "mix_interval_seconds",
        "login_rate_limit",
        "leave_quickly_url",
        "proxy_hops",
        "max_request_bytes",
        "log_origin",
        "trusted_hosts",
        "backup_public_keys",
    )
    values: dict[str, Any] = {name: getattr(settings, name) for name in names}
    values["trusted_hosts"] = list(values["trusted_hosts"])
    values["backup_public_keys"] = list(values["backup_public_keys"])
    values["kdf"] = {"memory_kib": settings.kdf.memory_kib, "iterations": settings.kdf.iterations}
    values["database"] = make_url(settings.database_url).get_backend_name()
    return values


__all__ = [
    "ArchiveDamaged",
    "ArchiveUnreadable",
    "BackupError",
    "DatabaseNotEmpty",
    "Manifest",
    "NoBackupKey",
    "RestoreCheckFailed",
    "Restored",
    "ToolMissing",
    "WrongDatabase",
    "create_backup",
    "public_settings",
    "read_identities",
    "recipients",
    "restore_backup",
]
