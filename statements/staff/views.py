"""Pages of staff recovery and the audit trail. Thin: parse, call one service, render."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from statements.auth import auth_config, now, roles_required
from statements.auth.errors import AccountDisabled, LoginFailed
from statements.db import get_session
from statements.pages import AUDIT_ACTION_NAMES
from statements.staff import audit, recovery
from statements.staff.forms import AuditFilterForm, ReplaceCodesForm

blueprint = Blueprint("staff", __name__)

RECOVERY_FAILED = _l(
    "That passphrase or code is not right. Each code works only once: if you just used "
    "one, wait for the next."
)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,4}", raw) else 1


# --- recovery codes -------------------------------------------------------------------


@blueprint.route("/account/recovery-codes", methods=["GET", "POST"])
@roles_required("admin", "coordinator")
def recovery_codes() -> Any:
    """How many recovery codes are left; replace them all with new ones."""
    db = get_session()
    form = ReplaceCodesForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            codes = recovery.replace_codes(
                db,
                auth_config(),
                current_user.identity,
                form.passphrase.data or "",
                form.code.data or "",
                now(),
            )
        except (LoginFailed, AccountDisabled):
            error, status = str(RECOVERY_FAILED), 400
        else:
            return render_template("staff/recovery_codes.html", codes=codes, enrolled=False)
    elif form.is_submitted():
        status = 400
    left = recovery.codes_left(db, current_user.account)
    return render_template("staff/replace_codes.html", form=form, left=left, error=error), status


# --- the audit log ----------------------------------------------------------------------


@blueprint.route("/admin/audit", methods=["GET"])
@roles_required("admin")
def audit_log() -> Any:
    """What staff did, by day: filtered by account, action and dates, a page at a time."""
    db = get_session()
    form = AuditFilterForm(formdata=request.args)
    form.actor.choices = [("", _("Any account"))] + [(name, name) for name in audit.actors(db)]
    form.action.choices = [("", _("Any action"))] + [
        (action, str(name)) for action, name in AUDIT_ACTION_NAMES.items()
    ]
    valid = form.validate()
    actor = form.actor.data if form.actor.data in dict(form.actor.choices) else ""
    action = form.action.data if form.action.data in AUDIT_ACTION_NAMES else ""
    wanted = audit.AuditFilter(
        actor=actor or None,
        action=action or None,
        since=form.since.data if valid else None,
        until=form.until.data if valid else None,
    )
    page = _page_number()
    rows, total = audit.entries(db, wanted, page)
    query = {
        key: value
        for key, value in request.args.items()
        if key in ("actor", "action", "since", "until") and value
    }
    return render_template(
        "staff/audit.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        page_size=audit.PAGE_SIZE,
        query=query,
        action_names=AUDIT_ACTION_NAMES,
    ), (200 if valid else 400)
