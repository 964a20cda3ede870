"""`flask --app wsgi send-notifications`: for cron or a systemd timer, every few minutes."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from statements.auth import now
from statements.db import Database
from statements.notifications import digest
from statements.notifications.contacts import NotificationKeys
from statements.notifications.messages import compose
from statements.notifications.smtp import Mailer, SendFailed
from statements.settings import Settings


@click.command("send-notifications")
@with_appcontext
def send_notifications() -> None:
    """Send the coordinators' and admins' digests and notices that are due (idempotent)."""
    settings: Settings = current_app.extensions["settings"]
    if settings.smtp is None or settings.mail_from is None:
        click.echo("SMTP_URL is not set: no notifications are sent.")
        return
    if settings.notification_key is None:
        raise click.ClickException("NOTIFICATION_KEY is not set: no address can be read")
    keys = NotificationKeys.derive(settings.notification_key)
    database: Database = current_app.extensions["db"]
    moment = now()
    today = moment.date()
    sent = failed = 0
    with database.sessionmaker() as db:
        digest.prune(db, today)
        outgoing = digest.plan(db, keys, today)
        db.commit()
        due = [item for item in outgoing if item.kind != "quiet"]
        for item in outgoing:
            if item.kind == "quiet":
                digest.claim(db, item, today)
                db.commit()
        if due:
            try:
                with Mailer(settings.smtp) as mailer:
                    for item in due:
                        try:
                            digest.claim(db, item, today)
                            db.commit()
                        except IntegrityError:
                            # Another run claimed it a moment ago: it sends it, not us.
                            db.rollback()
                            continue
                        try:
                            mailer.send(compose(item, settings.mail_from, moment))
                        except SendFailed as exc:
                            digest.release(db, item)
                            db.commit()
                            failed += 1
                            current_app.logger.warning("a notification was not sent: %s", exc)
                            continue
                        sent += 1
            except SendFailed as exc:
                raise click.ClickException(f"nothing was sent: {exc}") from None
    click.echo(f"{sent} notifications sent")
    if failed:
        raise click.ClickException(
            f"{failed} notifications could not be sent; the next run retries"
        )
