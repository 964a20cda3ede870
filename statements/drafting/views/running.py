"""Running the room: moving deadlines, and the coordinators' overview of their rooms."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from statements.db import get_session
from statements.drafting import deadlines as deadline_service
from statements.drafting import overview as overview_service
from statements.drafting.errors import InvalidInput
from statements.drafting.forms import DeadlineForm
from statements.drafting.views.common import blueprint, open_access, room_context
from statements.pages import STATE_NAMES, today

DEADLINE_ERRORS: dict[str, LazyString] = {
    "past": _l("Choose today or a later date. Nothing was changed."),
    "before_contribution_deadline": _l(
        "Sign-on cannot close before contributions do. Nothing was changed."
    ),
    "unchanged": _l("Both dates are as they were: move at least one. Nothing was changed."),
    "required": _l("Say why the deadlines move."),
    "too_long": _l("Keep the reason within 2,000 characters."),
}
# The overview's count columns (overview.OVERVIEW_COUNTS), as its table heads them.
OVERVIEW_COLUMNS: dict[str, LazyString] = {
    "pending": _l("Waiting for a decision"),
    "flags": _l("Asked for a safety review"),
    "questions": _l("Questions to authors not yet answered"),
}


@blueprint.route("/rooms/<room_id>/deadlines", methods=["GET", "POST"])
@login_required
def deadlines(room_id: str) -> Any:
    """Move the contribution and sign-on deadlines, with a reason members read."""
    access = open_access(room_id)
    access.require_coordinator()
    form = DeadlineForm()
    if not form.is_submitted():
        form.contribution_deadline.data = access.room.contribution_deadline
        form.signon_deadline.data = access.room.signon_deadline
    if form.validate_on_submit():
        try:
            deadline_service.change_deadlines(
                get_session(),
                access,
                form.contribution_deadline.data,
                form.signon_deadline.data,
                form.reason.data or "",
                today(),
            )
        except InvalidInput as exc:
            target = getattr(form, exc.field, form.reason)
            message = DEADLINE_ERRORS.get(exc.reason)
            target.errors = [str(message) if message is not None else _("This is not valid.")]
        else:
            flash(
                _("The deadlines are changed. Every member sees why on the draft page."), "notice"
            )
            return redirect(url_for("drafting.room", room_id=room_id))
    status = 400 if form.is_submitted() else 200
    return render_template("drafting/deadlines.html", form=form, **room_context(access)), status


@blueprint.route("/rooms/overview")
@login_required
def overview() -> Any:
    """Every room this coordinator runs: stage, next deadline, and what waits there."""
    lines = overview_service.overview(get_session(), current_user.identity, today())
    return render_template(
        "drafting/overview.html",
        lines=lines,
        columns=OVERVIEW_COLUMNS,
        state_names=STATE_NAMES,
    )
