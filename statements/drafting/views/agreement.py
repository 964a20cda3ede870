"""Agreement: objecting to a proposal, consent checks, and whether members read reasons."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from statements.db import get_session
from statements.drafting import agreement as agreement_service
from statements.drafting import consent as consent_service
from statements.drafting import versions as version_service
from statements.drafting.access import RoomAccess
from statements.drafting.errors import (
    ConsentCheckClosed,
    ConsentCheckNotFound,
    InvalidInput,
    ObjectionRefused,
)
from statements.drafting.views.agreement_forms import (
    CONSENT_ANSWER_NAMES,
    REASON_TOO_LONG,
    ConsentAnswerForm,
    ObjectionForm,
    OpenCheckForm,
    ShowReasonsForm,
)
from statements.drafting.views.common import (
    LOG_ACTIONS,
    PROBLEMS,
    blueprint,
    open_access,
    room_context,
    section_numbers,
)
from statements.pages import today

WHOLE_TEXT = "whole"

LOG_ACTIONS.update(
    {
        "consent_opened": _l("consent check opened"),
        "consent_closed": _l("consent check closed, results shown"),
        "reasons_shown": _l("members now read the reasons of objections"),
        "reasons_hidden": _l("only coordinators now read the reasons of objections"),
    }
)
# What agreement's named failures mean to the person who met them (common.problem).
PROBLEMS.update(
    {
        ObjectionRefused: (
            409,
            _l("You can object only to other people's pending proposals."),
        ),
        ConsentCheckNotFound: (404, _l("There is no such consent check in this room.")),
        ConsentCheckClosed: (
            409,
            _l("That consent check is closed: it takes no more answers. Nothing was saved."),
        ),
    }
)


def _reason_error(exc: InvalidInput) -> str:
    if exc.reason == "too_long":
        return str(REASON_TOO_LONG)
    return str(_("Say why you object. Nothing was saved."))


# --- objections ---------------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/object", methods=["GET", "POST"])
@login_required
def object_to(room_id: str, contribution_id: str) -> Any:
    """Object to a proposal, saying why; or change the reason."""
    access = open_access(room_id)
    db = get_session()
    proposal = agreement_service.proposal(db, access, contribution_id)
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            agreement_service.object_to(db, access, contribution_id, form.reason.data or "")
        except InvalidInput as exc:
            form.reason.errors = [_reason_error(exc)]
        else:
            flash(_("Your objection is counted. Nobody can see who objected."), "notice")
            return redirect(url_for("drafting.contributions", room_id=room_id))
    elif not form.is_submitted():
        form.reason.data = proposal.objections.my_reason
    status = 400 if form.is_submitted() else 200
    return render_template(
        "drafting/object.html",
        form=form,
        proposal=proposal,
        numbers=section_numbers(access),
        **room_context(access),
    ), status


@blueprint.route(
    "/rooms/<room_id>/contributions/<contribution_id>/withdraw-objection", methods=["POST"]
)
@login_required
def withdraw_objection(room_id: str, contribution_id: str) -> Any:
    """Take back one's objection."""
    access = open_access(room_id)
    agreement_service.withdraw_objection(get_session(), access, contribution_id)
    flash(_("Your objection is withdrawn."), "notice")
    return redirect(url_for("drafting.contributions", room_id=room_id))


# --- consent checks -----------------------------------------------------------------------


def _answer_form(check_id: str, formdata: bool = False) -> ConsentAnswerForm:
    # One form per open check on one page: the prefix keeps their fields' ids apart.
    if formdata:
        return ConsentAnswerForm(prefix=f"c{check_id}")
    return ConsentAnswerForm(formdata=None, prefix=f"c{check_id}")


def _agreement_page(
    access: RoomAccess,
    *,
    open_form: OpenCheckForm | None = None,
    answering: tuple[str, ConsentAnswerForm] | None = None,
    status: int = 200,
) -> Any:
    db = get_session()
    checks = consent_service.consent_checks(db, access)
    current = version_service.version(db, access)
    forms = {}
    for check in checks:
        if not check.is_open:
            continue
        if answering is not None and answering[0] == check.id:
            forms[check.id] = answering[1]
            continue
        form = _answer_form(check.id)
        form.answer.data = check.my_answer
        form.reason.data = check.my_reason
        forms[check.id] = form
    if open_form is None:
        open_form = OpenCheckForm(formdata=None)
    open_form.section.choices = [(WHOLE_TEXT, _("The whole text"))] + [
        (section.anchor, _("Section %(number)s", number=number))
        for number, section in enumerate(current.sections, start=1)
    ]
    reasons_form = ShowReasonsForm(formdata=None)
    reasons_form.shown.data = "1" if access.room.show_reasons else "0"
    return render_template(
        "drafting/agreement.html",
        checks=checks,
        forms=forms,
        open_form=open_form,
        reasons_form=reasons_form,
        numbers={section.anchor: n for n, section in enumerate(current.sections, start=1)},
        answer_names=CONSENT_ANSWER_NAMES,
        can_open=access.room.state in consent_service.CHECK_STATES,
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/agreement")
@login_required
def agreement(room_id: str) -> Any:
    """Consent checks: open ones to answer, closed ones with their results."""
    return _agreement_page(open_access(room_id))


@blueprint.route("/rooms/<room_id>/agreement/open", methods=["POST"])
@login_required
def open_check(room_id: str) -> Any:
    """A coordinator asks the room whether it consents to a section or the whole text."""
    access = open_access(room_id)
    access.require_coordinator()
    form = OpenCheckForm()
    if not form.validate_on_submit():
        return _agreement_page(access, open_form=form, status=400)
    anchor = form.section.data if form.section.data != WHOLE_TEXT else None
    try:
        consent_service.open_check(get_session(), access, anchor, form.question.data or "", today())
    except InvalidInput as exc:
        form.question.errors = [
            str(REASON_TOO_LONG) if exc.reason == "too_long" else _("This is not valid.")
        ]
        return _agreement_page(access, open_form=form, status=400)
    flash(_("The consent check is open. Nobody sees the answers until you close it."), "notice")
    return redirect(url_for("drafting.agreement", room_id=room_id))


@blueprint.route("/rooms/<room_id>/agreement/<check_id>/answer", methods=["POST"])
@login_required
def answer_check(room_id: str, check_id: str) -> Any:
    """Agree, abstain, or object with a reason; changeable until the check closes."""
    access = open_access(room_id)
    db = get_session()
    consent_service.find_check(db, access, check_id)
    form = _answer_form(check_id, formdata=True)
    if not form.validate_on_submit():
        return _agreement_page(access, answering=(check_id, form), status=400)
    try:
        consent_service.answer_check(
            db, access, check_id, form.answer.data or "", form.reason.data or ""
        )
    except InvalidInput as exc:
        target = form.reason if exc.field == "reason" else form.answer
        target.errors = [
            _reason_error(exc)
            if exc.field == "reason"
            else _("Choose an answer. Nothing was saved.")
        ]
        return _agreement_page(access, answering=(check_id, form), status=400)
    flash(_("Your answer is saved. You can change it until the check closes."), "notice")
    return redirect(url_for("drafting.agreement", room_id=room_id))


@blueprint.route("/rooms/<room_id>/agreement/<check_id>/close", methods=["POST"])
@login_required
def close_check(room_id: str, check_id: str) -> Any:
    """A coordinator closes a check: its results are shown to everyone."""
    access = open_access(room_id)
    access.require_coordinator()
    # No answer waiting in the anonymous queue is forced in here: that would let a
    # coordinator commit any member's queued write at will. The results are counted once
    # the queue's ordinary batches have taken the check's answers in.
    consent_service.close_check(get_session(), access, check_id, today())
    flash(_("The consent check is closed. Its results are shown below once counted."), "notice")
    return redirect(url_for("drafting.agreement", room_id=room_id))


@blueprint.route("/rooms/<room_id>/agreement/reasons", methods=["POST"])
@login_required
def show_reasons(room_id: str) -> Any:
    """Whether members read the reasons of objections (coordinators always do)."""
    access = open_access(room_id)
    access.require_coordinator()
    shown = request.form.get("shown")
    if shown not in ("0", "1"):
        raise InvalidInput("shown", "required")
    agreement_service.show_reasons(get_session(), access, shown == "1", today())
    flash(_("The setting is saved."), "notice")
    return redirect(url_for("drafting.agreement", room_id=room_id))
