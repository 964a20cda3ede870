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

Nothing here imports flask: the CLI (statements/cli.py) calls these functions.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import pyrage
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from crypto.bundle import canonical, key_record, keys_document, parse_keys, verify_bundle
from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.signing import note_verifier_key, open_note, parse_checkpoint
from statements.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from statements.models import LogCheckpoint, LogEntry, PublishedVersion, SigningKeyRecord
from statements.settings import Settings

FORMAT = "statements-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
LOG_FILE = "log.json"
SETTINGS_FILE = "settings.json"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore could not be done; the message says why, for the operator."""


class NoBackupKey(BackupError):
    """No backup public key is configured."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not installed."""


class ArchiveUnreadable(BackupError):
    """The file does not decrypt with the given identity, or is not a backup."""


class ArchiveDamaged(BackupError):
    """A file in the archive does not match the manifest's checksum, or is missing or extra."""


class WrongDatabase(BackupError):
    """The archive is for another kind of database, or a newer version of the code."""


class DatabaseNotEmpty(BackupError):
    """The target database already holds tables."""


class RestoreCheckFailed(BackupError):
    """The restored database failed a check; it was emptied again."""


@dataclass(frozen=True)
class Manifest:
    """What an archive holds, as written in its manifest.json."""

    data: dict[str, Any]

    @property
    def dialect(self) -> str:
        """sqlite or postgresql."""
        return str(self.data["database"]["dialect"])

    @property
    def migration(self) -> str | None:
        """The migration the database was at."""
        revision = self.data["database"]["migration"]
        return None if revision is None else str(revision)

    @property
    def log_size(self) -> int:
        """How many entries the public log had."""
        return int(self.data["log"]["size"])

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """name -> {"sha256", "bytes"} for every file but the manifest."""
        files: dict[str, dict[str, Any]] = self.data["files"]
        return files


@dataclass(frozen=True)
class Restored:
    """What a restore brought back, and what it checked."""

    manifest: Manifest
    bundles: int
    log_size: int
    checkpoint: str


# --- keys ----------------------------------------------------------------------------


def recipients(public_keys: Sequence[str]) -> list[Any]:
    """The age recipients for these public keys; NoBackupKey if there are none."""
    if not public_keys:
        raise NoBackupKey(
            "no backup public key is configured: set BACKUP_PUBLIC_KEY to the age public "
            "key (age1...) whose private half is kept away from this server"
        )
    try:
        return [pyrage.x25519.Recipient.from_str(key) for key in public_keys]
    except pyrage.RecipientError:
        raise NoBackupKey("BACKUP_PUBLIC_KEY is not an age public key (age1...)") from None


def read_identities(path: Path) -> list[Any]:
    """The age identities (AGE-SECRET-KEY-1...) in an identity file, as age-keygen writes."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ArchiveUnreadable(f"cannot read the identity file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ArchiveUnreadable("the identity file is not an age identity file") from None
    identities = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise ArchiveUnreadable(
                "the identity file holds a line that is not an age private key"
            ) from None
    if not identities:
        raise ArchiveUnreadable("the identity file holds no age private key (AGE-SECRET-KEY-1...)")
    return identities


# --- writing a backup ----------------------------------------------------------------


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
    with _workdir() as work:
        # The log is read before the database is copied: the copy then holds at least
        # these entries, and restore checks that it extends this checkpoint.
        log = _read_log(engine)
        if engine.dialect.name == "sqlite":
            database = work / SQLITE_FILE
            _sqlite_backup(_sqlite_path(engine), database)
        elif engine.dialect.name == "postgresql":
            database = work / POSTGRES_FILE
            _pg_dump(engine, database)
        else:  # pragma: no cover - settings allow only these two
            raise WrongDatabase(f"cannot back up a {engine.dialect.name} database")
        files = {
            database.name: database,
            LOG_FILE: _write_json(work / LOG_FILE, log),
            SETTINGS_FILE: _write_json(work / SETTINGS_FILE, dict(public_settings)),
        }
        manifest = Manifest(
            {
                "format": FORMAT,
                "created_on": today.isoformat(),
                "database": {
                    "dialect": engine.dialect.name,
                    "schema": _schema(engine),
                    "migration": current_revision(engine),
                },
                "log": {"size": len(log["entries"]), "checkpoint": log["checkpoint"]},
                "files": {name: _checksum(path) for name, path in sorted(files.items())},
            }
        )
        files[MANIFEST] = _write_json(work / MANIFEST, manifest.data)
        archive = work / "backup.tar.gz"
        _write_tar(archive, [MANIFEST, *sorted(set(files) - {MANIFEST})], files)
        _encrypt(archive, out, to)
    return manifest


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    """A private temporary directory (mode 0700), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="statements-backup-") as name:
        yield Path(name)


def _read_log(engine: Engine) -> dict[str, Any]:
    with Session(engine) as db:
        entries = [
            {"position": row.position, "kind": row.kind, "leaf": row.leaf.hex()}
            for row in db.scalars(select(LogEntry).order_by(LogEntry.position))
        ]
        checkpoint = db.scalar(
            select(LogCheckpoint.signed_note).order_by(LogCheckpoint.tree_size.desc()).limit(1)
        )
    return {"entries": entries, "checkpoint": checkpoint}


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _checksum(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _write_tar(archive: Path, names: Sequence[str], files: Mapping[str, Path]) -> None:
    # No times, owners or modes from this machine: only names and contents.
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = files[name].stat().st_size
            info.mode = 0o600
            with files[name].open("rb") as handle:
                tar.addfile(info, handle)


def _encrypt(archive: Path, out: Path, to: list[Any]) -> None:
    """Encrypt to a temporary name beside `out`, then move it into place whole."""
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as sink, archive.open("rb") as source:
            pyrage.encrypt_io(source, sink, to)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# --- SQLite --------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise WrongDatabase("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
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


def _schema(engine: Engine) -> str | None:
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


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
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


def _pg_dump(engine: Engine, target: Path) -> None:
    conninfo, env = _libpq(engine.url)
    schema = _schema(engine) or "public"
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


def _pg_restore(engine: Engine, dump: Path, work: Path) -> None:
    conninfo, env = _libpq(engine.url)
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


def _pg_empty(engine: Engine) -> None:
    """Drop everything a failed restore put in the (previously empty) schema."""
    tables, functions = _pg_objects(engine)
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
        for function in functions:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))


# --- restoring -----------------------------------------------------------------------


def restore_backup(engine: Engine, archive: Path, identities: list[Any]) -> Restored:
    """Restore an archive into the engine's empty database, then check it (see above)."""
    _require_empty(engine)
    with _workdir() as work:
        manifest, files = _open_archive(archive, identities, work)
        _require_matching(engine, manifest)
        if engine.dialect.name == "sqlite":
            return _restore_sqlite(engine, manifest, files, work)
        _require_empty(engine)
        _pg_restore(engine, files[POSTGRES_FILE], work)
        try:
            return _finish(engine, manifest, files)
        except BaseException:
            _pg_empty(engine)
            raise


def _require_empty(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        tables = _sqlite_tables(_sqlite_path(engine))
    else:
        tables, functions = _pg_objects(engine)
        tables += functions
    if tables:
        raise DatabaseNotEmpty(
            "the database is not empty: restore only into a new, empty database "
            "(not even migrated), so that nothing in it is mixed with the backup"
        )


def _open_archive(
    archive: Path, identities: list[Any], work: Path
) -> tuple[Manifest, dict[str, Path]]:
    """Decrypt and unpack the archive into `work`; check every file against the manifest."""
    plain = work / "backup.tar.gz"
    try:
        source = archive.open("rb")
    except OSError as exc:
        raise ArchiveUnreadable(f"cannot read {archive}: {exc.strerror or exc}") from None
    try:
        with source, plain.open("wb") as sink:
            pyrage.decrypt_io(source, sink, identities)
    except (pyrage.DecryptError, OSError):
        # age authenticates every chunk: a changed byte anywhere stops decryption (pyrage
        # reports that mid-stream as an OSError). What was written so far is discarded.
        raise ArchiveUnreadable(
            "the archive does not decrypt with this key: it was made for another key, "
            "or it was damaged or altered"
        ) from None
    found: dict[str, Path] = {}
    try:
        with tarfile.open(plain, mode="r:gz") as tar:
            for member in tar:
                name = member.name
                if not member.isfile() or name not in _ALLOWED or name in found:
                    raise ArchiveDamaged(f"the archive holds an unexpected entry {name!r}")
                handle = tar.extractfile(member)
                assert handle is not None  # noqa: S101 - a regular file always has one
                found[name] = _copy_out(handle, work / f"file-{len(found)}")
    except (tarfile.TarError, EOFError, gzip.BadGzipFile):
        raise ArchiveDamaged("the archive's contents are not a readable backup") from None
    if MANIFEST not in found:
        raise ArchiveDamaged("the archive holds no manifest")
    try:
        manifest = Manifest(json.loads(found.pop(MANIFEST).read_text(encoding="utf-8")))
        if manifest.data.get("format") != FORMAT:
            raise ArchiveDamaged("the archive is not a backup of this kind (format)")
        expected = manifest.files
        _ = manifest.dialect, manifest.migration, manifest.log_size
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ArchiveDamaged("the archive's manifest is unreadable") from None
    if set(expected) != set(found):
        raise ArchiveDamaged("the archive's files are not those its manifest lists")
    for name, path in found.items():
        if _checksum(path) != expected[name]:
            raise ArchiveDamaged(f"{name} does not match its checksum in the manifest")
    return manifest, found


_ALLOWED = {MANIFEST, SQLITE_FILE, POSTGRES_FILE, LOG_FILE, SETTINGS_FILE}


def _copy_out(handle: IO[bytes], path: Path) -> Path:
    with path.open("wb") as sink:
        shutil.copyfileobj(handle, sink, _CHUNK)
    return path


def _require_matching(engine: Engine, manifest: Manifest) -> None:
    if manifest.dialect != engine.dialect.name:
        raise WrongDatabase(
            f"the archive holds a {manifest.dialect} database; "
            f"DATABASE_URL names a {engine.dialect.name} one"
        )
    schema = manifest.data["database"].get("schema")
    if engine.dialect.name == "postgresql" and schema != _schema(engine):
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
    target = _sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    staged.unlink(missing_ok=True)
    try:
        _sqlite_backup(files[SQLITE_FILE], staged)
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
        _require_empty(engine)
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
        bundles = _check_bundles(db, keys)
        size, checkpoint = _check_log(db, verifiers, archived_log, manifest)
    return Restored(manifest, bundles, size, checkpoint)


def _check_bundles(db: Session, keys: list[SigningKeyRecord]) -> int:
    known = parse_keys(
        keys_document(
            [key_record(k.public_key, k.note_key_name, k.valid_from, k.valid_until) for k in keys]
        )
    )
    count = 0
    for row in db.scalars(select(PublishedVersion)):
        where = f"version {row.version} of {row.slug}"
        if hashlib.sha256(row.bundle).hexdigest() != row.bundle_sha256:
            raise RestoreCheckFailed(f"{where}: the bundle does not match its recorded hash")
        try:
            bundle = json.loads(row.bundle)
            report = verify_bundle(bundle, known)
        except ValueError:
            raise RestoreCheckFailed(f"{where}: the bundle is malformed") from None
        if not report.valid:
            raise RestoreCheckFailed(f"{where}: the bundle does not verify")
        leaf = db.scalar(select(LogEntry.leaf).where(LogEntry.position == row.log_position))
        if leaf != canonical(bundle["statement"]):
            raise RestoreCheckFailed(f"{where}: the log does not hold this version")
        count += 1
    return count


def _open_checkpoint(note: str, verifiers: list[str]) -> tuple[int, bytes]:
    for verifier in verifiers:
        body = open_note(note, verifier)
        if body is not None:
            _origin, size, root = parse_checkpoint(body)
            return size, root
    raise RestoreCheckFailed("a log checkpoint is not signed by any of the signing keys")


def _check_log(
    db: Session, verifiers: list[str], archived: Mapping[str, Any], manifest: Manifest
) -> tuple[int, str]:
    entries = list(db.scalars(select(LogEntry).order_by(LogEntry.position)))
    if [e.position for e in entries] != list(range(len(entries))):
        raise RestoreCheckFailed("the restored log has gaps")
    if any(leaf_hash(e.leaf) != e.leaf_hash for e in entries):
        raise RestoreCheckFailed("a restored log entry does not match its hash")
    hashes = [e.leaf_hash for e in entries]
    archived_leaves = [bytes.fromhex(e["leaf"]) for e in archived["entries"]]
    if (
        len(archived_leaves) != manifest.log_size
        or archived["checkpoint"] != manifest.data["log"]["checkpoint"]
    ):
        raise RestoreCheckFailed("the archive's log does not match its manifest")
    if [e.leaf for e in entries[: len(archived_leaves)]] != archived_leaves:
        raise RestoreCheckFailed("the restored log differs from the archive's")
    latest = db.scalar(
        select(LogCheckpoint.signed_note).order_by(LogCheckpoint.tree_size.desc()).limit(1)
    )
    if not entries:
        if archived_leaves or latest is not None:
            raise RestoreCheckFailed("the restored log is empty, the archive's is not")
        return 0, ""
    if latest is None or archived["checkpoint"] is None:
        raise RestoreCheckFailed("the log has entries but no checkpoint")
    # The archive's checkpoint must be a tree head of the restored log (the log may have
    # grown while the backup was taken), and the newest checkpoint must cover all of it.
    size, root = _open_checkpoint(archived["checkpoint"], verifiers)
    if size != len(archived_leaves) or root != root_from_leaf_hashes(hashes[:size]):
        raise RestoreCheckFailed("the restored log is not consistent with the archive's checkpoint")
    size, root = _open_checkpoint(latest, verifiers)
    if size != len(hashes) or root != root_from_leaf_hashes(hashes):
        raise RestoreCheckFailed("the restored log does not match its own latest checkpoint")
    return len(hashes), latest


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
