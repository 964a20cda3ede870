"""Digests and notices by email for coordinators and admins (never for members).

Nothing sent carries a word that is encrypted at rest: a room is named by a short number
and its stage, and a message says what kind of thing waits and how many. The command
that sends reads only counts and the staff's sealed addresses, so it needs no one's
unlocked key.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the staff page and the send-notifications command."""
    from statements.notifications import cli, views

    app.register_blueprint(views.blueprint)
    app.cli.add_command(cli.send_notifications)
