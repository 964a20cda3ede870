"""Backups and the restore drill, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.

Each test works on a database of its own with real commits: a SQLite file, or a fresh
PostgreSQL schema dropped afterwards. The drill seeds the demo, backs it up with the
`backup` command, destroys the database, restores it with `restore`, and then signs
everyone in again through the HTTP app.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyrage
import pytest
from flask import Flask
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import sessionmaker

from crypto.bundle_checks import verify_bundle
from crypto.bundle_reading import parse_keys
from statements import backup, create_app, demo
from statements.db import Database, make_engine, upgrade
from statements.settings import Settings, SettingsError
from tests.conftest import TEST_DATABASE_URL, Clock, tools_required
from tests.support import Staff, fresh_schema, login_member, login_staff


@dataclass
class Site:
    """A database with real commits, and how to destroy it as a disaster would."""

    engine: Engine
    destroy: Callable[[], None]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A migrated, empty database of this test's own."""
    if TEST_DATABASE_URL:
        with fresh_schema(TEST_DATABASE_URL) as engine:

            def destroy() -> None:
                with engine.begin() as connection:
                    name = connection.execute(text("SELECT current_schema()")).scalar_one()
                    connection.execute(text(f"DROP SCHEMA {name} CASCADE"))
                    connection.execute(text(f"CREATE SCHEMA {name}"))
                engine.dispose()

            yield Site(engine, destroy)
        return
    path = tmp_path / "site" / "statements.sqlite3"
    path.parent.mkdir()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)

    def destroy_file() -> None:
        engine.dispose()
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            (path.parent / name).unlink(missing_ok=True)

    yield Site(engine, destroy_file)
    engine.dispose()


@dataclass(frozen=True)
class Keys:
    """A backup key pair: the public half in the settings, the private one in a file."""

    public: str
    identity_file: Path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    """A fresh age key pair, the identity file as age-keygen writes it."""
    identity = pyrage.x25519.Identity.generate()
    path = tmp_path / "backup-key.txt"
    path.write_text(f"# created: for a test\n# public key: {identity.to_public()}\n{identity}\n")
    return Keys(str(identity.to_public()), path)


def make_app(settings: Settings, site: Site, keys: Keys, clock: Clock) -> Flask:
    """The app on the site's database, with the backup key configured."""
    app = create_app(
        replace(settings, database_url=str(site.engine.url), backup_public_keys=(keys.public,))
    )
    app.extensions["clock"] = clock
    database: Database = app.extensions["db"]
    database.engine.dispose()
    database.engine = site.engine
    database.sessionmaker = sessionmaker(bind=site.engine, expire_on_commit=False)
    return app


def seed(app: Flask) -> demo.DemoCredentials:
    """The demo: staff, members, a room in drafting, a published and corrected statement."""
    database: Database = app.extensions["db"]
    with database.sessionmaker() as session:
        credentials = demo.seed(
            session, app.extensions["auth"], app.extensions["clock"](), "test.example/log"
        )
        session.commit()
    return credentials


def run(app: Flask, *args: str) -> str:
    """Run a flask command of the app; its output, having checked it succeeded."""
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(app: Flask, *args: str) -> str:
    """Run a flask command that must fail; its output."""
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code != 0, result.output
    return result.output


def plaintext(archive: Path, keys: Keys) -> dict[str, bytes]:
    """The files inside an archive, decrypted with the test's key."""
    identity = backup.read_identities(keys.identity_file)
    tar_bytes = pyrage.decrypt(archive.read_bytes(), identity)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def repack(files: dict[str, bytes], keys: Keys, out: Path) -> None:
    """Write files as an archive encrypted to the public key: what anyone holding it can do."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as tar,
    ):
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    recipient = pyrage.x25519.Recipient.from_str(keys.public)
    out.write_bytes(pyrage.encrypt(raw.getvalue(), [recipient]))


def with_manifest_updated(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files with the manifest's checksums recomputed, as a careful forger would."""
    manifest = json.loads(files["manifest.json"])
    for name in manifest["files"]:
        manifest["files"][name] = {
            "sha256": hashlib.sha256(files[name]).hexdigest(),
            "bytes": len(files[name]),
        }
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def is_empty(site: Site) -> bool:
    """True when the site's database holds no table at all."""
    with site.engine.connect() as connection:
        if site.engine.dialect.name == "sqlite":
            query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        else:
            query = (
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        return connection.execute(text(query)).scalar_one() == 0


@pytest.fixture
def backed_up(
    settings: Settings, site: Site, keys: Keys, tmp_path: Path
) -> tuple[Flask, demo.DemoCredentials, Path]:
    """A demo site, backed up with the `backup` command into an archive."""
    app = make_app(settings, site, keys, Clock())
    credentials = seed(app)
    archive = tmp_path / "site.backup.age"
    output = run(app, "backup", str(archive))
    assert "2 log entries" in output
    return app, credentials, archive


def test_the_restore_drill_brings_everyone_back(
    backed_up: tuple[Flask, demo.DemoCredentials, Path],
    settings: Settings,
    site: Site,
    keys: Keys,
) -> None:
    app, credentials, archive = backed_up
    before = app.test_client().get("/log/checkpoint").get_data(as_text=True)
    bundle_paths = [f"/statements/{credentials.published_slug}/v/{n}/bundle.json" for n in (1, 2)]
    bundles = [app.test_client().get(path).data for path in bundle_paths]

    site.destroy()
    assert is_empty(site)
    output = run(app, "restore", str(archive), "--identity", str(keys.identity_file))
    assert "2 published versions verified" in output

    # A new server, with the same SECRET_KEY and LOOKUP_PEPPER (kept apart from backups).
    restored = make_app(settings, site, keys, Clock())
    for codename in credentials.codenames:
        member = restored.test_client()
        assert login_member(member, codename).status_code == 302
        page = member.get(f"/rooms/{credentials.room_id}")
        assert page.status_code == 200
        assert "Right to work for refugees" in page.get_data(as_text=True)
    for staff in credentials.staff:
        client = restored.test_client()
        person = Staff("", staff.username, staff.passphrase, staff.totp_secret)
        assert login_staff(client, restored, person).status_code == 302
        assert client.get("/account").status_code == 200

    reader = restored.test_client()
    known = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    for path, original in zip(bundle_paths, bundles, strict=True):
        served = reader.get(path).data
        assert served == original
        assert verify_bundle(json.loads(served), known).valid
    assert reader.get("/log/checkpoint").get_data(as_text=True) == before


# An archive made before the newest migrations: restore brings it up to the code's.
OLDER_MIGRATION = "0009_discussion"


def test_an_archive_from_an_older_migration_is_upgraded_as_it_is_restored(
    settings: Settings, site: Site, keys: Keys, tmp_path: Path
) -> None:
    """A site backed up by an earlier release and restored by this one: the restore
    upgrades the copy before checking it, and everyone can sign in again."""
    from alembic import command

    from statements.db import alembic_config, current_revision, head_revision

    app = make_app(settings, site, keys, Clock())
    credentials = seed(app)
    with site.engine.connect() as connection:
        if site.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            command.downgrade(alembic_config(connection), OLDER_MIGRATION)
    assert current_revision(site.engine) == OLDER_MIGRATION
    archive = tmp_path / "older.backup.age"
    run(app, "backup", str(archive))
    assert json.loads(plaintext(archive, keys)["manifest.json"])["database"]["migration"] == (
        OLDER_MIGRATION
    )

    site.destroy()
    output = run(app, "restore", str(archive), "--identity", str(keys.identity_file))
    assert "2 published versions verified" in output
    assert current_revision(site.engine) == head_revision() != OLDER_MIGRATION

    restored = make_app(settings, site, keys, Clock())
    for codename in credentials.codenames:
        member = restored.test_client()
        assert login_member(member, codename).status_code == 302
        assert member.get(f"/rooms/{credentials.room_id}").status_code == 200
    staff = credentials.staff[0]
    client = restored.test_client()
    person = Staff("", staff.username, staff.passphrase, staff.totp_secret)
    assert login_staff(client, restored, person).status_code == 302


def test_without_the_lookup_pepper_no_member_can_sign_in(
    backed_up: tuple[Flask, demo.DemoCredentials, Path],
    settings: Settings,
    site: Site,
    keys: Keys,
) -> None:
    """What the README warns of: the pepper is not in the backup, and is needed."""
    app, credentials, archive = backed_up
    site.destroy()
    run(app, "restore", str(archive), "--identity", str(keys.identity_file))
    other = make_app(replace(settings, lookup_pepper=b"another pepper " * 3), site, keys, Clock())
    assert login_member(other.test_client(), credentials.codenames[0]).status_code != 302


def test_an_archive_holds_no_secret_and_opens_with_the_age_tool(
    backed_up: tuple[Flask, demo.DemoCredentials, Path],
    settings: Settings,
    keys: Keys,
    tmp_path: Path,
) -> None:
    _app, _credentials, archive = backed_up
    tool = shutil.which("age")
    if tool is None:
        message = (
            "the age binary is required to check backups open with it: install it "
            "(Debian/Ubuntu: apt-get install age); CI does"
        )
        if tools_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert archive.read_bytes().startswith(b"age-encryption.org/v1\n")
    opened = tmp_path / "opened.tar.gz"
    subprocess.run(
        [tool, "--decrypt", "-i", str(keys.identity_file), "-o", str(opened), archive],
        check=True,
    )
    with tarfile.open(opened, mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    database = "database.sqlite3" if not TEST_DATABASE_URL else "database.pgdump"
    assert set(files) == {"manifest.json", database, "log.json", "settings.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["files"][database]["sha256"] == hashlib.sha256(files[database]).hexdigest()
    assert json.loads(files["settings.json"])["log_origin"] == settings.log_origin

    secrets = [
        settings.secret_key.encode(),
        settings.lookup_pepper,
        settings.lookup_pepper.hex().encode(),
    ]
    for name, data in files.items():
        for secret in secrets:
            assert secret not in data, name
    # The file on disk is ciphertext: no table name, no log text.
    assert b"log_entries" not in archive.read_bytes()
    assert b"statements-log" not in archive.read_bytes()


def test_a_tampered_archive_is_refused(
    backed_up: tuple[Flask, demo.DemoCredentials, Path],
    site: Site,
    keys: Keys,
    tmp_path: Path,
) -> None:
    app, _credentials, archive = backed_up
    site.destroy()
    identity = str(keys.identity_file)

    flipped = tmp_path / "flipped.age"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    assert "does not decrypt" in refused(app, "restore", str(flipped), "-i", identity)

    # Anyone with the public key can make an archive: a changed file is caught by the
    # manifest's checksums...
    files = plaintext(archive, keys)
    log = json.loads(files["log.json"])
    log["entries"].pop()
    changed = tmp_path / "changed.age"
    repack({**files, "log.json": json.dumps(log).encode()}, keys, changed)
    assert "does not match its checksum" in refused(app, "restore", str(changed), "-i", identity)
    assert is_empty(site)

    # ...and with the checksums redone, by the signed log: the restore is undone.
    forged_note = log["checkpoint"].replace("\n2\n", "\n1\n", 1)
    forged = {**files, "log.json": json.dumps({**log, "checkpoint": forged_note}).encode()}
    manifest = json.loads(files["manifest.json"])
    manifest["log"] = {"size": 1, "checkpoint": forged_note}
    forged["manifest.json"] = json.dumps(manifest).encode()
    forgery = tmp_path / "forged.age"
    repack(with_manifest_updated(forged), keys, forgery)
    assert "not signed" in refused(app, "restore", str(forgery), "-i", identity)
    assert is_empty(site)

    run(app, "restore", str(archive), "-i", identity)
    assert not is_empty(site)


def test_a_database_with_tables_is_not_restored_into(
    backed_up: tuple[Flask, demo.DemoCredentials, Path], keys: Keys
) -> None:
    app, _credentials, archive = backed_up
    output = refused(app, "restore", str(archive), "-i", str(keys.identity_file))
    assert "not empty" in output


def test_a_bundle_altered_in_the_database_fails_the_restore(
    backed_up: tuple[Flask, demo.DemoCredentials, Path],
    site: Site,
    keys: Keys,
    tmp_path: Path,
) -> None:
    """The published bundles are checked, not just the archive's checksums."""
    if TEST_DATABASE_URL:
        pytest.skip("edits the SQLite file inside the archive; the PostgreSQL dump is binary")
    app, credentials, archive = backed_up
    files = plaintext(archive, keys)
    database = tmp_path / "copy.sqlite3"
    database.write_bytes(files["database.sqlite3"])
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        # The append-only triggers stand in the way of an honest server; a forger drops them.
        connection.execute(text("DROP TRIGGER published_versions_no_update"))
        rows = connection.execute(text("SELECT slug, version, bundle FROM published_versions"))
        for slug, version, bundle in rows.all():
            altered = bytes(bundle).replace(b"years", b"months")
            connection.execute(
                text(
                    "UPDATE published_versions SET bundle = :bundle, bundle_sha256 = :sha"
                    " WHERE slug = :slug AND version = :version"
                ),
                {
                    "bundle": altered,
                    "sha": hashlib.sha256(altered).hexdigest(),
                    "slug": slug,
                    "version": version,
                },
            )
    engine.dispose()
    with_copy = {**files, "database.sqlite3": database.read_bytes()}
    forgery = tmp_path / "forged.age"
    repack(with_manifest_updated(with_copy), keys, forgery)
    site.destroy()
    output = refused(app, "restore", str(forgery), "-i", str(keys.identity_file))
    assert credentials.published_slug in output
    assert is_empty(site)


def test_backup_without_a_key_or_over_a_file_is_refused(
    settings: Settings, site: Site, keys: Keys, tmp_path: Path
) -> None:
    app = make_app(settings, site, keys, Clock())
    no_key = create_app(replace(settings, database_url=str(site.engine.url)))
    output = refused(no_key, "backup", str(tmp_path / "none.age"))
    assert "BACKUP_PUBLIC_KEY" in output
    assert not (tmp_path / "none.age").exists()
    no_key.extensions["db"].engine.dispose()

    existing = tmp_path / "existing.age"
    existing.write_text("keep me")
    assert "already exists" in refused(app, "backup", str(existing))
    assert existing.read_text() == "keep me"


def test_a_wrong_identity_file_is_refused(
    backed_up: tuple[Flask, demo.DemoCredentials, Path], site: Site, tmp_path: Path
) -> None:
    app, _credentials, archive = backed_up
    site.destroy()
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    assert "does not decrypt" in refused(app, "restore", str(archive), "-i", str(other))
    other.write_text("not a key\n")
    assert "not an age private key" in refused(app, "restore", str(archive), "-i", str(other))
    assert is_empty(site)


def test_the_backup_key_setting_takes_age_public_keys(tmp_path: Path) -> None:
    first = str(pyrage.x25519.Identity.generate().to_public())
    second = str(pyrage.x25519.Identity.generate().to_public())
    environ = {"APP_ENV": "development", "BACKUP_PUBLIC_KEY": f"{first}, {second}"}
    assert Settings.from_env(environ, tmp_path).backup_public_keys == (first, second)
    assert Settings.from_env({"APP_ENV": "development"}, tmp_path).backup_public_keys == ()
    for bad in ("age1notakey", "AGE-SECRET-KEY-1QQQ", f"{first};{second}"):
        with pytest.raises(SettingsError, match="BACKUP_PUBLIC_KEY"):
            Settings.from_env({"APP_ENV": "development", "BACKUP_PUBLIC_KEY": bad}, tmp_path)


def test_the_postgresql_password_stays_off_the_command_line() -> None:
    """pg_dump and pg_restore get it through their environment, not the process list."""
    url = make_url("postgresql+psycopg://statements:s3cret@db.internal:5433/st?sslmode=require")
    conninfo, env = backup.databases.libpq(url)
    assert "s3cret" not in conninfo
    assert env["PGPASSWORD"] == "s3cret"
    for part in ("host=db.internal", "port=5433", "user=statements", "dbname=st", "sslmode="):
        assert part in conninfo
