"""Error pages: every failure gets a clear page and the right status, never a traceback."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from crypto.errors import CryptoError
from statements.db import rollback_request_session

# What each failure means to the person who met it. The key is the status code, or
# the description a view passed to abort() for a more precise message.
MESSAGES: dict[int | str, tuple[LazyString, LazyString]] = {
    400: (_l("That request could not be understood"), _l("Please go back and try again.")),
    "malformed": (
        _l("That request contained text that could not be read"),
        _l(
            "Some characters could not be read as text. Please go back, retype what you "
            "entered, and try again."
        ),
    ),
    "csrf": (
        _l("This form has expired"),
        _l(
            "For your safety, forms only work when sent from this site in the same browser "
            "session. Please go back, reload the page, and send the form again. Nothing "
            "was saved."
        ),
    ),
    "session_cookie": (
        _l("Your sign-in could not be read"),
        _l(
            "Your browser sent a sign-in cookie that is not valid, so it has been removed. "
            "Please sign in again."
        ),
    ),
    401: (_l("Please sign in"), _l("This page is only for signed-in accounts.")),
    403: (_l("Not allowed"), _l("Your account cannot do this.")),
    404: (
        _l("Page not found"),
        _l("There is no page at this address. Check the link you followed."),
    ),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (
        _l("That was too large"),
        _l("What you sent is larger than this site accepts. Nothing was saved."),
    ),
    409: (
        _l("Changed at the same moment"),
        _l(
            "Someone else changed this at the same moment. Nothing you sent was saved: "
            "go back, reload the page and try again."
        ),
    ),
    "record": (
        _l("This record could not be opened"),
        _l(
            "Something stored for this page failed its check when it was decrypted: it may "
            "have been damaged or altered. Nothing you sent was saved. Please tell the people "
            "who run this site."
        ),
    ),
    429: (_l("Too many attempts"), _l("Please try again later.")),
    "busy": (
        _l("Busy for a moment"),
        _l(
            "Many people are signing in or joining right now. Nothing you sent was saved: "
            "please go back and try again in a moment."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you sent was saved. Please try again in a little while."),
    ),
}


def _retry_minutes() -> int:
    limiter: Limiter = current_app.extensions["limiter"]
    limit = limiter.current_limit
    seconds = (limit.reset_at - time.time()) if limit is not None else 60
    # reset_at is rounded up to whole seconds: a one-minute window says "1 minute".
    return max(1, math.ceil((seconds - 2) / 60))


def render_error(status: int, key: int | str | None = None) -> tuple[str, int]:
    """Render the error page for a status, with the message for key."""
    title, text = MESSAGES.get(
        key if key is not None else status, MESSAGES.get(status, MESSAGES[400])
    )
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            text=text,
            retry_minutes=_retry_minutes() if status == 429 else None,
        ),
        status,
    )


def init_app(app: Flask) -> None:
    """Register the handlers."""

    # A CSRF failure is answered by statements.auth, which carries what a form had
    # typed to the sign-in page when the session ended too (render_error(400, "csrf")).

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        status = error.code or 500
        if status < 400:
            return error
        key = error.description if error.description in MESSAGES else status
        return render_error(status, key)

    @app.errorhandler(IntegrityError)
    def _clash(_error: IntegrityError) -> tuple[str, int]:
        # Two requests writing the same row at once (a double-clicked button, say): the
        # loser's whole transaction is undone and told so, not shown a server error.
        rollback_request_session()
        return render_error(409)

    @app.errorhandler(CryptoError)
    def _unreadable(_error: CryptoError) -> tuple[str, int]:
        # A stored ciphertext failed its binding or its tag: damaged, or copied, moved or
        # altered by someone who can write to the database. The reader is told plainly,
        # nothing of the request is kept, and the operator learns where (not who or what).
        rollback_request_session()
        current_app.logger.warning("a stored record could not be opened in %s", request.endpoint)
        return render_error(409, "record")

    @app.errorhandler(InternalServerError)
    def _server(_error: InternalServerError) -> tuple[str, int]:
        # The failure may have left the session mid-transaction; the page needs it clean.
        rollback_request_session()
        return render_error(500)
