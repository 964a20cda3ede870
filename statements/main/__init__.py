"""Public pages that belong to no other part: the home page and the safety guide."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the main blueprint."""
    from statements.main.views import blueprint

    app.register_blueprint(blueprint)

    @app.context_processor
    def _globals() -> dict[str, object]:
        from statements.auth.forms import ButtonForm

        return {
            "leave_quickly_url": app.extensions["settings"].leave_quickly_url,
            "logout_form": ButtonForm,
        }
