"""Shared control: the two-person rule for actions that sign or destroy."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the proposals' pages."""
    from statements.control import views
    from statements.control.errors import ControlError
    from statements.control.propose import ACTION_NAMES, STATUS_NAMES

    app.register_blueprint(views.blueprint)
    # Proposals are made from the publishing and drafting pages too.
    app.register_error_handler(ControlError, views.problem)
    app.jinja_env.globals.update(
        proposal_action_names=ACTION_NAMES, proposal_status_names=STATUS_NAMES
    )
