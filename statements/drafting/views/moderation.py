"""Moderation: deciding contributions, merging by hand, and the moderation mode."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from statements.db import destroyed_keys, get_session
from statements.drafting import agreement as agreement_service
from statements.drafting import contributions as contribution_service
from statements.drafting import log as log_service
from statements.drafting import moderation as moderation_service
from statements.drafting import rooms as room_service
from statements.drafting import versions as version_service
from statements.drafting.access import PAGE_SIZE, RoomAccess
from statements.drafting.errors import (
    EditConflict,
    InvalidInput,
    NotPending,
    VersionConflict,
)
from statements.drafting.forms import (
    MergeForm,
    ModerationModeForm,
    RejectForm,
)
from statements.drafting.views.common import (
    blueprint,
    open_access,
    page_number,
    room_context,
    section_numbers,
)
from statements.models import ContributionKind
from statements.pages import today

# --- moderation -----------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/moderation")
@login_required
def moderation(room_id: str) -> Any:
    """The queue of pending contributions, filterable by section and kind."""
    access = open_access(room_id)
    access.require_coordinator()
    mode_form = ModerationModeForm(formdata=None)
    mode_form.moderation.data = access.room.moderation
    return _moderation_page(access, mode_form)


def _moderation_page(access: RoomAccess, mode_form: ModerationModeForm, status: int = 200) -> Any:
    page = page_number()
    section = request.args.get("section") or None
    kind = request.args.get("kind") or None
    if kind is not None and kind not in set(ContributionKind):
        kind = None
    views, total = contribution_service.contributions_page(
        get_session(),
        access,
        page,
        statuses=["pending"],
        anchor=section,
        kind=kind,
        flagged_first=True,
    )
    current = version_service.version(get_session(), access)
    return render_template(
        "drafting/moderation.html",
        mode_form=mode_form,
        views=views,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        current=current,
        numbers=section_numbers(access),
        objections=agreement_service.objections(get_session(), access, [v.id for v in views]),
        section=section,
        kind=kind,
        reject_form=RejectForm(formdata=None),
        log=log_service.moderation_log(get_session(), access, 1),
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/moderation/<contribution_id>", methods=["POST"])
@login_required
def moderate(room_id: str, contribution_id: str) -> Any:
    """Accept, reject, hide, release, or mark as incorporated."""
    access = open_access(room_id)
    access.require_coordinator()
    db = get_session()
    action = request.form.get("action", "")
    if action == "accept":
        merge = MergeForm()
        merged = merge.merged_text.data if "merged_text" in request.form else None
        expected_raw = request.form.get("expected_version", "")
        expected = int(expected_raw) if re.fullmatch(r"[0-9]{1,6}", expected_raw) else 0
        try:
            number = moderation_service.accept(
                db, access, contribution_id, expected, today(), merged
            )
        except (EditConflict, VersionConflict) as exc:
            return _conflict(access, contribution_id, exc, merged), 409
        except InvalidInput:
            return _conflict(access, contribution_id, None, merged), 400
        flash(
            _("Accepted; version %(number)s of the draft is saved.", number=number)
            if number
            else _("Accepted."),
            "notice",
        )
    elif action == "reject":
        form = RejectForm()
        if not form.validate():
            message = _("Choose a reason to reject a contribution. Nothing was changed.")
            return render_template("drafting/problem.html", message=message, status=400), 400
        moderation_service.reject(
            db, access, contribution_id, form.reason.data, form.note.data or "", today()
        )
        if moderation_service.destroys_words("reject", form.reason.data):
            # The old ciphertext must not linger in SQLite's write-ahead log.
            destroyed_keys()
            flash(
                _("Rejected as unsafe. Its words are destroyed; the author will see the reason."),
                "notice",
            )
        else:
            flash(_("Rejected. The author will see the reason."), "notice")
    elif action == "hide":
        moderation_service.hide(db, access, contribution_id, today())
        destroyed_keys()
        flash(_("Hidden. Its words are destroyed: nobody can read them any more."), "notice")
    elif action == "release":
        moderation_service.release(db, access, contribution_id, today())
        flash(_("Released: members can now see it. It is still pending."), "notice")
    elif action == "incorporate":
        moderation_service.mark_incorporated(db, access, contribution_id, today())
        flash(_("Marked as incorporated by hand."), "notice")
    else:
        raise NotPending
    return redirect(url_for("drafting.moderation", room_id=room_id))


@blueprint.route("/rooms/<room_id>/moderation-mode", methods=["POST"])
@login_required
def moderation_mode(room_id: str) -> Any:
    """Switch between pre- and post-moderation, with a reason for the log."""
    access = open_access(room_id)
    access.require_coordinator()
    form = ModerationModeForm()
    if not form.validate_on_submit():
        # The page again, with what they typed and the message beside the field.
        return _moderation_page(access, form, 400)
    try:
        room_service.set_moderation_mode(
            get_session(), access, form.moderation.data or "", form.reason.data or "", today()
        )
    except InvalidInput:
        form.reason.errors = [_("Say why.")]
        return _moderation_page(access, form, 400)
    flash(_("The moderation mode is changed."), "notice")
    return redirect(url_for("drafting.moderation", room_id=room_id))


def _conflict(
    access: RoomAccess,
    contribution_id: str,
    exc: EditConflict | VersionConflict | None,
    merged: str | None,
) -> str:
    current = version_service.version(get_session(), access)
    own = {
        view.id: view
        for view in contribution_service.contributions_page(
            get_session(), access, 1, statuses=["pending"]
        )[0]
    }
    proposed = exc.proposed_text if isinstance(exc, EditConflict) else ""
    section_text = exc.current_text if isinstance(exc, EditConflict) else ""
    form = MergeForm(formdata=None)
    form.merged_text.data = merged if merged is not None else proposed
    form.expected_version.data = current.number
    return render_template(
        "drafting/conflict.html",
        form=form,
        contribution_id=contribution_id,
        view=own.get(contribution_id),
        proposed=proposed,
        section_text=section_text,
        version_changed=isinstance(exc, VersionConflict),
        **room_context(access),
    )
