"""Administration: coordinator and admin accounts, disabling any account."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the admin blueprint."""
    from statements.admin.views import blueprint

    app.register_blueprint(blueprint, url_prefix="/admin")
