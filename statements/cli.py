"""Command-line tasks: migrations, the first admin, housekeeping."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from statements import backup_cli
from statements import db as database
from statements.auth import now, service
from statements.auth.errors import InvalidUsername, TotpInvalid, UsernameTaken, WeakPassphrase
from statements.mixer import rewrite_anonymous_tables
from statements.models import AuditAction
from statements.settings import Settings
from statements.staff import audit, recovery, resets
from statements.staff.errors import ResetNotAllowed


def _engine() -> Engine:
    db: database.Database = current_app.extensions["db"]
    return db.engine


def _session() -> Session:
    db: database.Database = current_app.extensions["db"]
    return db.sessionmaker()


db_group = AppGroup("db", help="Database migrations.")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations to the configured database."""
    database.upgrade(_engine(), revision)
    click.echo(f"database at migration {database.current_revision(_engine())}")


@db_group.command("current")
def current() -> None:
    """Show the database's migration and the code's."""
    click.echo(f"database: {database.current_revision(_engine())}")
    click.echo(f"code:     {database.head_revision()}")


@click.command("create-admin")
@with_appcontext
@click.argument("username")
def create_admin(username: str) -> None:
    """Create an admin: prompts for a passphrase, then enrols an authenticator app."""
    config: service.AuthConfig = current_app.extensions["auth"]
    try:
        username = service.normalize_username(username)
    except InvalidUsername:
        raise click.ClickException(
            "usernames are 3 to 32 characters: lower-case letters, digits, . _ -"
        ) from None
    passphrase = click.prompt("Passphrase", hide_input=True, confirmation_prompt=True)
    try:
        service.check_passphrase(passphrase, username)
    except WeakPassphrase as exc:
        raise click.ClickException(
            {
                "too_short": f"the passphrase needs at least {service.MIN_PASSPHRASE} characters",
                "too_long": "the passphrase is too long",
                "too_common": "that passphrase is too common or easy to guess",
            }[exc.reason]
        ) from None
    secret = service.new_totp_secret()
    uri = service.totp_uri(secret, username)
    click.echo("\nScan this QR code with an authenticator app (or type the secret below):\n")
    import segno

    segno.make(uri, error="m").terminal(compact=True)
    click.echo(f"\n  secret: {secret}\n  uri:    {uri}\n")
    code = click.prompt("Enter the 6-digit code the app now shows")
    with _session() as session:
        try:
            account = service.create_admin(
                session, config, username, passphrase, secret, code, now()
            )
        except TotpInvalid:
            raise click.ClickException(
                "that code does not match; check the phone's clock and run this again"
            ) from None
        except UsernameTaken:
            raise click.ClickException(f"an account named {username} already exists") from None
        codes = recovery.issue_codes(session, config, account)
        audit.record(session, None, AuditAction.ACCOUNT_CREATED, account.username, now().date())
        session.commit()
    click.echo(f"Admin {username} created. Sign in at /staff/login.")
    click.echo("\nRecovery codes, each usable once in place of the app's code (shown only now):")
    for recovery_code in codes:
        click.echo(f"  {recovery_code}")


@click.command("reset-staff")
@with_appcontext
@click.argument("username")
def reset_staff(username: str) -> None:
    """Reset a coordinator or admin who lost their phone and recovery codes.

    For a deployment with a single admin; otherwise two admins do this on the accounts
    page. The account's keys are thrown away and it gets a new set-up link; its rooms
    come back when another coordinator of each room next signs in. The reset is written
    to the audit log, as done on the server.
    """
    with _session() as session:
        try:
            account, token = resets.reset_on_server(session, username, now())
        except (InvalidUsername, ResetNotAllowed):
            raise click.ClickException(
                f"there is no coordinator or admin named {username}"
            ) from None
        session.commit()
    database.checkpoint(_engine())
    current_app.logger.warning("a staff account was reset from the command line")
    click.echo(f"{account.username} is reset; every session of theirs has ended.")
    click.echo(
        "Send them this set-up link over a channel you trust (it works once, for seven days):"
    )
    click.echo(f"  /enrol/{token}")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Seed an empty database with demonstration accounts and a room mid-drafting."""
    from statements import demo as demo_data

    config: service.AuthConfig = current_app.extensions["auth"]
    with _session() as session:
        try:
            settings: Settings = current_app.extensions["settings"]
            credentials = demo_data.seed(session, config, now(), settings.log_origin)
        except demo_data.DatabaseNotEmpty:
            raise click.ClickException(
                "the database already holds accounts; the demo only seeds an empty one"
            ) from None
        session.commit()
    click.echo("Demo data created. These credentials are shown once.\n")
    for staff in credentials.staff:
        click.echo(f"  {staff.role:<12} username {staff.username}")
        click.echo(f"  {'':<12} passphrase {staff.passphrase}")
        click.echo(f"  {'':<12} TOTP secret {staff.totp_secret} (add it to an authenticator app)")
    for number, codename in enumerate(credentials.codenames, start=1):
        click.echo(f"  contributor {number}: codename {codename}")
    click.echo(f"\nThe drafting room: /rooms/{credentials.room_id}")
    click.echo(
        f"A published statement, with a correction: /statements/{credentials.published_slug}"
    )


@click.command("export-site")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--base-url",
    help="Where the mirror will be served, for the feed's and API's links "
    "(default: https:// and the host of LOG_ORIGIN).",
)
@with_appcontext
def export_site(outdir: Path, base_url: str | None) -> None:
    """Write a static mirror of every published statement into OUTDIR."""
    from statements.publishing.export import export_site as export

    settings: Settings = current_app.extensions["settings"]
    base = (base_url or f"https://{settings.log_origin.split('/')[0]}").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise click.BadParameter("must start with https:// or http://", param_hint="--base-url")
    # An embargo whose time has come is in the mirror, released first; none before it.
    _release_embargoed()
    result = export(current_app._get_current_object(), outdir, base)  # type: ignore[attr-defined]
    click.echo(f"{len(result.files)} files, {result.bundles} signed versions, written to {outdir}")


def _release_embargoed() -> tuple[list[str], list[str]]:
    from statements.publishing.embargo import release_due

    with _session() as session:
        done = release_due(session, now())
        session.commit()
    if done.released:
        # The endorsements' tags went with the release: out of SQLite's log too.
        database.checkpoint(_engine())
    return done.released, done.stale


@click.command("release-embargoed")
@with_appcontext
def release_embargoed() -> None:
    """Publish the embargoed statements whose time has come (run every minute from a
    timer). Running it again, or twice at once, publishes nothing twice."""
    released, stale = _release_embargoed()
    click.echo(f"{len(released)} embargoed statements released")
    if stale:
        raise click.ClickException(
            f"{len(stale)} due but not released: a coordinator holding the signing key "
            "must open the room's release page and set its time again"
        )


@click.command("purge-sessions")
@with_appcontext
def purge_sessions() -> None:
    """Delete login sessions past their idle expiry and destroy the keys of expired
    invitations (run from cron)."""
    from statements.drafting.invitations import purge_expired_invitations

    moment = now()
    with _session() as session:
        count = service.purge_expired_sessions(session, moment)
        invitations = purge_expired_invitations(session, moment.date())
        session.commit()
    # Deleted sessions and destroyed keys must not linger in SQLite's -wal file.
    database.checkpoint(_engine())
    click.echo(f"{count} expired sessions deleted")
    click.echo(f"{invitations} expired invitations' keys destroyed")


@click.command("flush-writes")
@with_appcontext
def flush_writes() -> None:
    """Commit the members' queued writes now, as shuffled batches, waiting for a batch
    another worker is committing (before a backup); fails if one holds it for a minute."""
    count = backup_cli.flush_queued()
    click.echo(f"{count} queued writes committed")


@click.command("rewrite-anonymous")
@with_appcontext
def rewrite_anonymous() -> None:
    """Rewrite the members' tables so no batch boundary remains (run nightly from cron)."""
    backup_cli.flush_queued()
    rewrite_anonymous_tables(_engine())
    click.echo("contributions, supports and endorsements rewritten")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(db_group)
    app.cli.add_command(create_admin)
    app.cli.add_command(reset_staff)
    app.cli.add_command(purge_sessions)
    app.cli.add_command(demo)
    app.cli.add_command(export_site)
    app.cli.add_command(release_embargoed)
    app.cli.add_command(flush_writes)
    app.cli.add_command(rewrite_anonymous)
    backup_cli.init_app(app)
