"""Press preview links of embargoed statements, and releasing what is due. Thin.

A press link is a capability: its secret is in the path, which is never logged
(statements/logs.py replaces paths and long tokens in every log line). Its pages are
marked "embargoed until …" in the reader's language, are not indexed, not stored by the
browser or any cache, and send no referrer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Response, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from statements.auth import now
from statements.db import Database, checkpoint
from statements.languages import direction
from statements.pages import LANGUAGE_NAMES
from statements.publishing import embargo
from statements.publishing.public import blueprint, statement_html

NOT_INDEXED = "noindex, nofollow, noarchive"


@blueprint.app_template_global()
def embargo_time(at: datetime | str, zone: str) -> str:
    """A release time in the reader's language, on the wall clock of its time zone."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    local = moment.astimezone(ZoneInfo(zone))
    locale = get_locale()
    return str(
        _(
            "%(date)s, %(time)s (%(zone)s)",
            date=format_date(local, "long", locale=locale),
            time=format_time(local, "short", locale=locale),
            zone=zone,
        )
    )


# How long a worker trusts what it last read of the next release time. An embargo set on
# another worker in the meantime is seen within this much (the timer runs every minute).
CHECK_SECONDS = 30


@dataclass
class NextRelease:
    """What this worker last read of the earliest waiting release, and when."""

    checked_at: datetime | None = None
    due_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def release_check_due(known: NextRelease, moment: datetime) -> bool:
    """Whether this worker must look for (and publish) what is due before answering: what
    it last read is older than CHECK_SECONDS, or a release time has come. Also asked by the
    fast path (fast_path.py), which then leaves the request to the app."""
    fresh = known.checked_at is not None and moment - known.checked_at < timedelta(
        seconds=CHECK_SECONDS
    )
    return not (fresh and (known.due_at is None or moment < known.due_at))


def release_now() -> embargo.Released | None:
    """Publish what is due, in a transaction of its own; None when nothing was due."""
    database: Database = current_app.extensions["db"]
    known: NextRelease = current_app.extensions.setdefault("next_release", NextRelease())
    session = database.sessionmaker()
    try:
        done = embargo.release_due(session, now())
        known.due_at = embargo.next_release(session)
        known.checked_at = now()
        session.commit()
    except (IntegrityError, DBAPIError):
        # Another worker released it at the same moment: theirs counts.
        session.rollback()
        known.checked_at = None
        return None
    finally:
        session.close()
    if done.released:
        # The endorsements' tags went with the release: out of SQLite's log too.
        checkpoint(database.engine)
    if done.stale:
        # Not retried on every request: the next check, or the timer, tries again.
        known.due_at = None
        current_app.logger.warning(
            "an embargoed statement scheduled by an older version is due: a coordinator "
            "holding the signing key must set its time again"
        )
    return done


@blueprint.before_request
def _release_due() -> None:
    # The first public request (site, API, feed, log, mirror) after a release time
    # publishes it, so the site does not depend on the timer alone. Cheap: a worker reads
    # the earliest waiting time (one indexed query) at most every CHECK_SECONDS, and
    # otherwise only compares it with the clock.
    known: NextRelease = current_app.extensions.setdefault("next_release", NextRelease())
    if not release_check_due(known, now()):
        return
    with known.lock:
        release_now()


def _private(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = NOT_INDEXED
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _opened(token: str) -> embargo.Preview:
    from statements.db import get_session

    return embargo.preview(get_session(), token)


@blueprint.route("/press/<token>")
def press_preview(token: str) -> Any:
    """The embargoed statement as it will be published, for the press."""
    found = _opened(token)
    if found.embargo is None:
        return _private(redirect(url_for("public.statement", slug=found.published_slug)))
    statement = embargo.statement_of(found.embargo)
    return _private(
        Response(
            render_template(
                "publishing/press_preview.html",
                embargo=found.embargo,
                statement=statement,
                token=token,
                statement_html=statement_html,
                statement_languages=LANGUAGE_NAMES,
                text_dir=direction(statement["language"]),
            ),
            mimetype="text/html",
        )
    )


@blueprint.route("/press/<token>/statement.md")
def press_markdown(token: str) -> Any:
    """The embargoed text as Markdown, its first line saying until when it is embargoed."""
    found = _opened(token)
    if found.embargo is None:
        return _private(redirect(url_for("public.statement", slug=found.published_slug)))
    statement = embargo.statement_of(found.embargo)
    notice = _(
        "Embargoed until %(time)s. Not for publication before then.",
        time=embargo_time(found.embargo.release_at, found.embargo.zone),
    )
    body = f"> {notice}\n\n# {statement['title']}\n\n{statement['body_markdown']}\n"
    response = _private(Response(body, mimetype="text/markdown"))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.embargo.slug}-embargoed.md"'
    )
    return response
