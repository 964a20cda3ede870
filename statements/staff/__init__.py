"""Staff recovery (recovery codes, two-admin resets) and the staff audit trail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the staff blueprint."""
    from statements.staff.views import blueprint

    app.register_blueprint(blueprint)
