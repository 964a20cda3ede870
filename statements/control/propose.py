"""For the pages where an action is asked for: propose it when the two-person rule holds.

Shared by the publishing and drafting pages (a page helper, not a view).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from statements.auth import now
from statements.control import service as control
from statements.control.pending import rule_for_room
from statements.db import get_session
from statements.models import ControlAction
from statements.settings import Settings

ACTION_NAMES: dict[str, LazyString] = {
    ControlAction.PUBLISH: _l("Publish the statement"),
    ControlAction.CORRECT: _l("Publish a correction"),
    ControlAction.RETRACT: _l("Retract the statement"),
    ControlAction.SEAL: _l("Seal this room"),
    ControlAction.REPLACE_KEY: _l("Replace the signing key"),
    ControlAction.MODERATION: _l("Change the moderation mode"),
}
STATUS_NAMES: dict[str, LazyString] = {
    "pending": _l("waiting for approval"),
    "approved": _l("approved and carried out"),
    "cancelled": _l("cancelled"),
    "expired": _l("lapsed"),
}


def two_person(room_id: str | None) -> bool:
    """The rule holds for this room (None: for the deployment's signing key)."""
    settings: Settings = current_app.extensions["settings"]
    return rule_for_room(get_session(), settings.two_person_rule, room_id)


def proposed(action: ControlAction, room_id: str | None, content: dict[str, Any]) -> Any:
    """Record the proposal and show it; a different coordinator, or an admin, carries it out."""
    settings: Settings = current_app.extensions["settings"]
    row = control.propose(
        get_session(),
        current_user.identity,
        action,
        room_id,
        content,
        now(),
        settings.proposal_hours,
    )
    flash(
        _(
            "Proposed. Nothing is done until a different coordinator of the room, or an "
            "admin, approves it."
        ),
        "notice",
    )
    return redirect(url_for("control.proposal", proposal_id=row.id))
