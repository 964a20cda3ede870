"""Sign-on, publication, the public log and the public pages."""

from __future__ import annotations

from flask import Flask

PDF_RATE_LIMIT = "30 per minute"


def init_app(app: Flask) -> None:
    """Register the sign-on and publication pages and the public side."""
    from statements.publishing import public, views

    # True only while export-site renders the static mirror.
    app.config.setdefault("STATIC_MIRROR", False)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(public.blueprint)
    # A long statement takes seconds to lay out as a PDF: a budget per reader.
    limiter = app.extensions["limiter"]
    app.view_functions["public.pdf"] = limiter.limit(PDF_RATE_LIMIT)(
        app.view_functions["public.pdf"]
    )
    # Checking a bundle changes nothing: no CSRF token, so public readers get no cookie.
    app.extensions["csrf"].exempt(public.verify)
