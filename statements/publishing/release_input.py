"""Reading a release time from a form, and saying what is wrong with it (a page helper)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from statements.auth import now
from statements.publishing import embargo
from statements.publishing.errors import InvalidInput

RELEASE_FIELDS = ("release_at", "zone")
RELEASE_ERRORS: dict[tuple[str, str], LazyString] = {
    ("zone", "unknown"): _l(
        "There is no time zone of that name. Use a name such as Europe/Berlin, Asia/Kabul or UTC."
    ),
    ("release_at", "format"): _l("Give the date and the time, such as 2027-03-08 09:00."),
    ("release_at", "past"): _l("That time has passed. Choose a time in the future."),
    ("release_at", "skipped"): _l(
        "That time does not exist in that time zone: the clocks skip it. Choose another."
    ),
    ("release_at", "far"): _l("Choose a time within a year from now."),
}


def release_from(form: Any, *, required: bool = False) -> tuple[datetime, str] | None:
    """The form's release time as UTC with its zone; None when left empty (publish now)."""
    text = (form.release_at.data or "").strip()
    if not text:
        if required:
            raise InvalidInput("release_at", "format")
        return None
    try:
        local = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput("release_at", "format") from None
    if local.tzinfo is not None:
        raise InvalidInput("release_at", "format")
    return embargo.release_time(local, form.zone.data or "", now())


def release_error(form: Any, error: InvalidInput) -> None:
    """Put the message of a refused release time on its field."""
    message = RELEASE_ERRORS.get(
        (error.field, error.reason), RELEASE_ERRORS[("release_at", "format")]
    )
    getattr(form, error.field).errors = [str(message)]
