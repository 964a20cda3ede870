"""Public pages that belong to no other part: the home page and the safety guide."""

from __future__ import annotations

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# An account's platform role, as a reader sees it (the stored value stays English).
ROLE_NAMES: dict[str, LazyString] = {
    "admin": _l("admin"),
    "coordinator": _l("coordinator"),
    "member": _l("member"),
}


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
            "role_names": ROLE_NAMES,
        }
