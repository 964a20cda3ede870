"""Admin pages: list accounts, invite coordinators and admins, disable accounts."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from statements.admin.forms import InviteStaffForm
from statements.auth import now, roles_required, service
from statements.auth.errors import AccountNotFound, InvalidUsername, LastAdmin, UsernameTaken
from statements.auth.forms import ButtonForm
from statements.db import destroyed_keys, get_session
from statements.models import Account, AuditAction, Role
from statements.staff import audit, resets
from statements.staff.errors import NotAdmin, ResetNotAllowed, ResetNotProposed, SameAdmin

blueprint = Blueprint("admin", __name__)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,4}", raw) else 1


def _accounts_page(form: InviteStaffForm, status: int = 200, **extra: Any) -> tuple[str, int]:
    db = get_session()
    page = _page_number()
    members, member_total = service.member_accounts(db, page)
    return (
        render_template(
            "admin/accounts.html",
            form=form,
            button=ButtonForm(),
            staff=service.staff_accounts(db),
            members=members,
            member_total=member_total,
            page=page,
            pending=resets.pending_resets(db),
            **extra,
        ),
        status,
    )


@blueprint.route("/accounts", methods=["GET"])
@roles_required("admin")
def accounts() -> Any:
    """Every coordinator and admin by name; member accounts by opaque id only."""
    return _accounts_page(InviteStaffForm())


@blueprint.route("/accounts", methods=["POST"])
@roles_required("admin")
def invite() -> Any:
    """Create a coordinator or admin; show their one-time enrolment link."""
    form = InviteStaffForm()
    if not form.validate_on_submit():
        return _accounts_page(form, 400)
    try:
        account, token = service.invite_staff(
            get_session(), form.username.data or "", Role(form.role.data), now()
        )
    except InvalidUsername:
        form.username.errors = [
            _("Use 3 to 32 characters: lower-case letters, digits, dot, dash, underscore.")
        ]
        return _accounts_page(form, 400)
    except UsernameTaken:
        form.username.errors = [_("Another account already has this username.")]
        return _accounts_page(form, 409)
    audit.record(
        get_session(),
        current_user.account,
        AuditAction.ACCOUNT_CREATED,
        account.username,
        now().date(),
    )
    return _accounts_page(
        InviteStaffForm(formdata=None),
        201,
        enrolment=(account, url_for("auth.enrol", token=token, _external=True)),
    )


@blueprint.route("/accounts/<account_id>/enrolment", methods=["POST"])
@roles_required("admin")
def renew(account_id: str) -> Any:
    """A fresh enrolment link for an account that never enrolled; the old one stops working."""
    try:
        token = service.renew_enrolment(get_session(), account_id, now())
    except AccountNotFound:
        return _accounts_page(
            InviteStaffForm(formdata=None),
            404,
            error=_("That account does not exist or has already enrolled."),
        )
    account = get_session().get(Account, account_id)
    return _accounts_page(
        InviteStaffForm(formdata=None),
        200,
        enrolment=(account, url_for("auth.enrol", token=token, _external=True)),
    )


@blueprint.route("/accounts/<account_id>/disabled", methods=["POST"])
@roles_required("admin")
def set_disabled(account_id: str) -> Any:
    """Disable (ending all its sessions) or re-enable an account."""
    disable = request.form.get("disabled") == "1"
    try:
        account = service.set_disabled(get_session(), current_user.account, account_id, disable)
        if disable:
            # The account's copy of the signing key was deleted: out of SQLite's log too.
            destroyed_keys()
    except AccountNotFound:
        return _accounts_page(
            InviteStaffForm(formdata=None), 404, error=_("That account does not exist.")
        )
    except LastAdmin:
        return _accounts_page(
            InviteStaffForm(formdata=None),
            409,
            error=_("You cannot disable your own account or the last active admin."),
        )
    if account.is_staff:
        # Only staff accounts: a member's would point to them.
        action = AuditAction.ACCOUNT_DISABLED if disable else AuditAction.ACCOUNT_ENABLED
        audit.record(get_session(), current_user.account, action, account.username, now().date())
    flash(
        _("The account is disabled.") if disable else _("The account is enabled again."), "notice"
    )
    return redirect(url_for("admin.accounts"))


# --- resets by two admins -------------------------------------------------------------


def _reset_error(message: str, status: int) -> tuple[str, int]:
    return _accounts_page(InviteStaffForm(formdata=None), status, error=message)


@blueprint.route("/accounts/<account_id>/reset", methods=["POST"])
@roles_required("admin")
def propose_reset(account_id: str) -> Any:
    """Propose resetting a staff account; a second admin must approve."""
    if not ButtonForm().validate_on_submit():
        return _reset_error(_("That request could not be understood"), 400)
    try:
        account = resets.propose_reset(
            get_session(), current_user.account, account_id, now().date()
        )
    except (ResetNotAllowed, NotAdmin):
        return _reset_error(_("That account cannot be reset by you."), 400)
    flash(
        _(
            "A reset of %(name)s is proposed. Another administrator must approve it.",
            name=account.username,
        ),
        "notice",
    )
    return redirect(url_for("admin.accounts"))


@blueprint.route("/accounts/<account_id>/reset/approve", methods=["POST"])
@roles_required("admin")
def approve_reset(account_id: str) -> Any:
    """Approve another admin's proposal: the account is reset and gets a set-up link."""
    if not ButtonForm().validate_on_submit():
        return _reset_error(_("That request could not be understood"), 400)
    try:
        account, token = resets.approve_reset(
            get_session(), current_user.account, account_id, now()
        )
    except SameAdmin:
        return _reset_error(
            _("You proposed this reset: another administrator must approve it."), 403
        )
    except ResetNotProposed:
        return _reset_error(_("No reset of that account is waiting for approval."), 404)
    except (ResetNotAllowed, NotAdmin):
        return _reset_error(_("That account cannot be reset by you."), 400)
    # Their wrapped room and signing keys were deleted: out of SQLite's log too.
    destroyed_keys()
    return _accounts_page(
        InviteStaffForm(formdata=None),
        200,
        enrolment=(account, url_for("auth.enrol", token=token, _external=True)),
        reset_done=True,
    )


@blueprint.route("/accounts/<account_id>/reset/withdraw", methods=["POST"])
@roles_required("admin")
def withdraw_reset(account_id: str) -> Any:
    """Withdraw a proposed reset."""
    if not ButtonForm().validate_on_submit():
        return _reset_error(_("That request could not be understood"), 400)
    try:
        resets.withdraw_reset(get_session(), current_user.account, account_id)
    except (ResetNotProposed, NotAdmin):
        return _reset_error(_("No reset of that account is waiting for approval."), 404)
    flash(_("The proposed reset is withdrawn."), "notice")
    return redirect(url_for("admin.accounts"))
