"""Sign-on, publication, the public log and the public pages."""

from __future__ import annotations

from flask import Flask, request

PDF_RATE_LIMIT = "30 per minute"
# Set in the WSGI environ of the requests export-site makes through the app itself. A
# reader cannot set it: HTTP headers reach the environ only as HTTP_* keys.
EXPORTER = "statements.exporter"


def _exporting() -> bool:
    """True for export-site's own requests, which owe nothing to a reader's PDF budget."""
    return request.environ.get(EXPORTER) is True


def init_app(app: Flask) -> None:
    """Register the sign-on and publication pages and the public side."""
    # Their routes go on views.blueprint: imported for them, before it is registered.
    from statements.publishing import (
        embargo_views,  # noqa: F401
        family_views,  # noqa: F401
        organisation_views,  # noqa: F401
        press_views,  # noqa: F401
        public,
        views,
    )

    # True only while export-site renders the static mirror.
    app.config.setdefault("STATIC_MIRROR", False)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(public.blueprint)
    # A long statement takes seconds to lay out as a PDF: a budget per reader. The
    # exporter renders every version once, however many there are.
    limiter = app.extensions["limiter"]
    app.view_functions["public.pdf"] = limiter.limit(PDF_RATE_LIMIT, exempt_when=_exporting)(
        app.view_functions["public.pdf"]
    )
    # Checking a bundle changes nothing: no CSRF token, so public readers get no cookie.
    app.extensions["csrf"].exempt(public.verify)
