"""Drafting rooms: invitations, versions, contributions, moderation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the drafting blueprint."""
    from statements.auth import throttle_joins
    from statements.drafting.views import blueprint
    from statements.drafting.views.invitations import workshop_request
    from statements.pages import markdown_html, rendered_diff

    app.register_blueprint(blueprint)
    app.add_template_filter(markdown_html, "markdown")
    app.add_template_filter(rendered_diff, "rendered_diff")
    # Following an invitation can create an account (a slow key derivation): it counts
    # against the join budgets, or its workshop's (statements/drafting/workshops.py).
    throttle_joins(app, "drafting.invitation", workshop=workshop_request)
