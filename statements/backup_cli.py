"""The backup and restore commands (the work is done in statements/backup/)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from statements.auth import now
from statements.db import Database
from statements.settings import Settings
from statements.writes import QueueBusy


def flush_queued() -> int:
    """Commit every member's write still queued, waiting for a batch another worker is
    committing: what a command reads next (a backup, the rewrite) then holds them all."""
    try:
        count: int = current_app.extensions["mixer"].flush_all()
    except QueueBusy:
        raise click.ClickException(
            "writes are still queued: another worker held the batch for a minute; try again"
        ) from None
    return count


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(file: Path) -> None:
    """Write an encrypted backup of the database, the public log and the settings to FILE."""
    # Here, not at the top: the archive and restore code stays out of a serving worker.
    from statements import backup as backups

    settings: Settings = current_app.extensions["settings"]
    database: Database = current_app.extensions["db"]
    # Members' writes still queued (in Redis) are committed first, so the backup has them.
    flush_queued()
    try:
        manifest = backups.create_backup(
            database.engine,
            file,
            settings.backup_public_keys,
            backups.public_settings(settings),
            now().date(),
        )
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"backup written to {file}: database at migration {manifest.migration}, "
        f"{manifest.log_size} log entries, encrypted to "
        f"{len(settings.backup_public_keys)} backup key(s)"
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--identity",
    "-i",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The age identity file holding the backup private key (as age-keygen wrote it).",
)
@with_appcontext
def restore(file: Path, identity: Path) -> None:
    """Restore the backup FILE into the configured, empty database, and check it."""
    from statements import backup as backups

    database: Database = current_app.extensions["db"]
    try:
        restored = backups.restore_backup(database.engine, file, backups.read_identities(identity))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    database.schema_current = False
    click.echo(
        f"restored the backup of {restored.manifest.data['created_on']}: migrations current, "
        f"{restored.bundles} published versions verified, the log's {restored.log_size} "
        "entries consistent with the archive's checkpoint."
    )
    if restored.checkpoint:
        click.echo(
            "Compare this checkpoint with the one your mirror or readers hold:\n"
            + restored.checkpoint
        )


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(backup)
    app.cli.add_command(restore)
