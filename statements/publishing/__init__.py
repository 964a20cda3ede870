"""Sign-on, publication, the public log and the public pages."""

from __future__ import annotations

from flask import Flask, request

PDF_RATE_LIMIT = "30 per minute"
# Checking a bundle or a forwarded file costs a parse and, for a PDF, its text layout.
VERIFY_RATE_LIMIT = "30 per minute"
# A card is drawn once per version and kept, but only the latest few dozen: a reader
# asking for every version's card in turn would have each drawn again. Messengers fetch
# one per link shared, from a few addresses: a budget of its own, wider than the
# documents'.
CARD_RATE_LIMIT = "120 per minute"
# The documents made from a version on request (costly to lay out), under one budget.
DOCUMENT_ENDPOINTS = ("public.pdf", "public.letterhead", "public.docx")
# Set in the WSGI environ of the requests export-site makes through the app itself. A
# reader cannot set it: HTTP headers reach the environ only as HTTP_* keys.
EXPORTER = "statements.exporter"


def _exporting() -> bool:
    """True for export-site's own requests, which owe nothing to a reader's PDF budget."""
    return request.environ.get(EXPORTER) is True


def init_app(app: Flask) -> None:
    """Register the sign-on and publication pages and the public side."""
    # Their routes go on views.blueprint and public.blueprint: imported for them, before
    # those are registered.
    from statements.publishing import (
        document_views,  # noqa: F401
        embargo_views,  # noqa: F401
        family_views,  # noqa: F401
        log_views,  # noqa: F401
        organisation_views,  # noqa: F401
        press_views,  # noqa: F401
        public,
        share_views,  # noqa: F401
        views,
    )

    # True only while export-site renders the static mirror.
    app.config.setdefault("STATIC_MIRROR", False)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(public.blueprint)
    # A long statement takes seconds to lay out as a PDF or a Word document: a budget per
    # reader, shared by the documents. The exporter renders every version once, however
    # many there are.
    limiter = app.extensions["limiter"]
    documents = limiter.shared_limit(PDF_RATE_LIMIT, "documents", exempt_when=_exporting)
    for endpoint in DOCUMENT_ENDPOINTS:
        app.view_functions[endpoint] = documents(app.view_functions[endpoint])
    app.view_functions["public.card"] = limiter.limit(CARD_RATE_LIMIT, exempt_when=_exporting)(
        app.view_functions["public.card"]
    )
    app.view_functions["public.verify"] = limiter.limit(VERIFY_RATE_LIMIT, methods=["POST"])(
        app.view_functions["public.verify"]
    )
    # Checking a bundle changes nothing: no CSRF token, so public readers get no cookie.
    app.extensions["csrf"].exempt(public.verify)
