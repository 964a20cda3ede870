"""What can go wrong in a backup or a restore: each message is for the operator."""

from __future__ import annotations


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
