"""Contributions: proposing, listing, supporting, flagging, editing and withdrawing."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from statements.auth import carries
from statements.db import get_session
from statements.drafting import agreement as agreement_service
from statements.drafting import contribution_lists
from statements.drafting import contributions as contribution_service
from statements.drafting import versions as version_service
from statements.drafting.access import PAGE_SIZE
from statements.drafting.errors import (
    ContributionNotFound,
    InvalidInput,
    UnknownSection,
)
from statements.drafting.forms import (
    ContributionForm,
)
from statements.drafting.room_languages import reading_language
from statements.drafting.translation_offers import translations_beside
from statements.drafting.views.common import (
    IDENTIFYING_DETAILS,
    TEXT_ERRORS,
    blueprint,
    open_access,
    page_number,
    room_context,
    section_numbers,
)
from statements.models import ContributionKind
from statements.pages import today
from statements.text.checks import identifying_details
from statements.text.clean import normalise_text

# --- contributions --------------------------------------------------------------------


def _restoring(form: ContributionForm) -> bool:
    """Fill the form with text carried over a new sign-in (see carries); True if so."""
    if request.method != "POST" or "restore" not in request.form:
        return False
    form.text.data = request.form.get("text", "")
    return True


@blueprint.route("/rooms/<room_id>/contribute", methods=["GET", "POST"])
@login_required
@carries("text", "kind", "section")
def contribute(room_id: str) -> Any:
    """Propose a change or an addition to a section, or comment; preview first if wished."""
    access = open_access(room_id)
    kind = request.values.get("kind", "comment")
    anchor = request.values.get("section") or None
    if kind not in set(ContributionKind):
        raise UnknownSection
    current = version_service.version(get_session(), access)
    section = current.section(anchor) if anchor else None
    form = ContributionForm()
    # Written in any of the room's languages; the member's reading language by default.
    language = request.form.get("language") or reading_language(get_session(), access)
    preview = None
    found: tuple[str, ...] = ()
    restored = _restoring(form)
    if not restored and form.validate_on_submit():
        if "preview" in request.form:
            # Shown, and kept in the form, as it would be stored (Burmese typed in Zawgyi
            # comes back in Unicode, with a note: see i18n.py).
            preview = form.text.data = normalise_text(form.text.data or "")
            # A warning, never a refusal: only the member knows whether it is safe.
            found = identifying_details(preview)
        else:
            try:
                contribution_service.submit_contribution(
                    get_session(),
                    access,
                    kind,
                    anchor,
                    form.text.data or "",
                    today(),
                    language=language,
                )
            except InvalidInput as exc:
                form.text.errors = [str(TEXT_ERRORS.get(exc.reason, TEXT_ERRORS["required"]))]
            else:
                flash(_("Thank you. Your contribution is waiting for moderation."), "notice")
                return redirect(url_for("drafting.mine", room_id=room_id))
    elif not form.is_submitted() and section is not None and kind == "amendment":
        form.text.data = section.markdown
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "drafting/contribute.html",
        form=form,
        kind=kind,
        section=section,
        preview=preview,
        language=language,
        identifying=[IDENTIFYING_DETAILS[detail] for detail in found],
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/contributions")
@login_required
def contributions(room_id: str) -> Any:
    """Everyone's contributions in section order, with supports."""
    access = open_access(room_id)
    page = page_number()
    section = request.args.get("section") or None
    views, total = contribution_lists.contributions_page(
        get_session(), access, page, anchor=section
    )
    return render_template(
        "drafting/contributions.html",
        views=views,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        numbers=section_numbers(access),
        objections=agreement_service.objections(get_session(), access, [v.id for v in views]),
        beside=translations_beside(get_session(), access),
        **room_context(access),
    )


@blueprint.route("/rooms/<room_id>/mine")
@login_required
def mine(room_id: str) -> Any:
    """This member's own contributions, their status, and reasons for rejections."""
    access = open_access(room_id)
    views = contribution_lists.my_contributions(get_session(), access)
    return render_template(
        "drafting/mine.html",
        views=views,
        numbers=section_numbers(access),
        objections=agreement_service.objections(get_session(), access, [v.id for v in views]),
        beside=translations_beside(get_session(), access),
        **room_context(access),
    )


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/support", methods=["POST"])
@login_required
def support(room_id: str, contribution_id: str) -> Any:
    """Add or withdraw an anonymous +1."""
    access = open_access(room_id)
    contribution_service.support(
        get_session(), access, contribution_id, request.form.get("supported") == "1"
    )
    return redirect(url_for("drafting.contributions", room_id=room_id))


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/flag", methods=["POST"])
@login_required
def flag(room_id: str, contribution_id: str) -> Any:
    """Ask the coordinators, anonymously, to review a contribution for safety."""
    access = open_access(room_id)
    contribution_service.flag(get_session(), access, contribution_id)
    flash(
        _("Thank you. The coordinators will review it for safety. Nobody can see who asked."),
        "notice",
    )
    return redirect(url_for("drafting.contributions", room_id=room_id))


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/edit", methods=["GET", "POST"])
@login_required
@carries("text")
def edit_contribution(room_id: str, contribution_id: str) -> Any:
    """Change one's own pending contribution."""
    access = open_access(room_id)
    own = {view.id: view for view in contribution_lists.my_contributions(get_session(), access)}
    view = own.get(contribution_id)
    if view is None:
        raise ContributionNotFound
    form = ContributionForm()
    if _restoring(form):
        return render_template(
            "drafting/edit_contribution.html", form=form, view=view, **room_context(access)
        )
    if form.validate_on_submit():
        try:
            contribution_service.edit_contribution(
                get_session(), access, contribution_id, form.text.data or "", today()
            )
        except InvalidInput as exc:
            form.text.errors = [str(TEXT_ERRORS.get(exc.reason, TEXT_ERRORS["required"]))]
        else:
            flash(_("Your contribution is updated."), "notice")
            return redirect(url_for("drafting.mine", room_id=room_id))
    elif not form.is_submitted():
        form.text.data = view.text
    status = 400 if form.is_submitted() else 200
    return render_template(
        "drafting/edit_contribution.html", form=form, view=view, **room_context(access)
    ), status


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/withdraw", methods=["POST"])
@login_required
def withdraw(room_id: str, contribution_id: str) -> Any:
    """Withdraw one's own pending contribution."""
    contribution_service.withdraw_contribution(get_session(), open_access(room_id), contribution_id)
    flash(_("Your contribution is withdrawn and deleted."), "notice")
    return redirect(url_for("drafting.mine", room_id=room_id))
