"""The archive: an age-encrypted, gzipped tar of the files a manifest lists and checks."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyrage

from statements.backup.errors import ArchiveDamaged, ArchiveUnreadable, NoBackupKey

FORMAT = "statements-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
LOG_FILE = "log.json"
SETTINGS_FILE = "settings.json"
CHUNK = 1024 * 1024


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


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A private temporary directory (mode 0700), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="statements-backup-") as name:
        yield Path(name)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def checksum(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def write_tar(archive: Path, names: Sequence[str], files: Mapping[str, Path]) -> None:
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


def encrypt(archive: Path, out: Path, to: list[Any]) -> None:
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


def open_archive(
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
        if checksum(path) != expected[name]:
            raise ArchiveDamaged(f"{name} does not match its checksum in the manifest")
    return manifest, found


_ALLOWED = {MANIFEST, SQLITE_FILE, POSTGRES_FILE, LOG_FILE, SETTINGS_FILE}


def _copy_out(handle: IO[bytes], path: Path) -> Path:
    with path.open("wb") as sink:
        shutil.copyfileobj(handle, sink, CHUNK)
    return path
