"""Moderation: deciding contributions, accepting changes with edits (three-way merges),
addressing comments, and the moderation mode."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from statements.auth import now
from statements.control import actions as control_actions
from statements.control import service as control
from statements.control.propose import proposed, two_person
from statements.db import destroyed_keys, get_session
from statements.drafting import agreement as agreement_service
from statements.drafting import contribution_lists
from statements.drafting import contributions as contribution_service
from statements.drafting import log as log_service
from statements.drafting import moderation as moderation_service
from statements.drafting import rooms as room_service
from statements.drafting import versions as version_service
from statements.drafting.access import PAGE_SIZE, RoomAccess
from statements.drafting.errors import (
    InvalidInput,
    MergeNeeded,
    NotPending,
    VersionConflict,
)
from statements.drafting.forms import (
    AddressForm,
    MergeForm,
    ModerationModeForm,
    RejectForm,
)
from statements.drafting.translation_offers import awaiting_source_translation
from statements.drafting.views.common import (
    blueprint,
    merge_error,
    merge_labels,
    open_access,
    page_number,
    room_context,
    section_numbers,
)
from statements.models import ContributionKind, ControlAction
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
    views, total = contribution_lists.contributions_page(
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
        two_person=two_person(access.room.id),
        proposals=control.readable(
            get_session(), current_user.identity, now(), room_id=access.room.id
        ),
        # The multilingual room: what awaits a translation into the source language.
        awaiting=awaiting_source_translation(get_session(), access),
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/moderation/<contribution_id>", methods=["POST"])
@login_required
def moderate(room_id: str, contribution_id: str) -> Any:
    """Accept (as proposed or with edits), reject, hide, release, mark as incorporated,
    or mark a comment as addressed."""
    access = open_access(room_id)
    access.require_coordinator()
    db = get_session()
    action = request.form.get("action", "")
    if action == "accept":
        merged = request.form.get("merged_text") if "merged_text" in request.form else None
        expected_raw = request.form.get("expected_version", "")
        expected = int(expected_raw) if re.fullmatch(r"[0-9]{1,6}", expected_raw) else 0
        try:
            number = moderation_service.accept(
                db, access, contribution_id, expected, today(), merged, merge_labels()
            )
        except MergeNeeded as exc:
            return _merge_page(access, contribution_id, exc, changed=True), 409
        except VersionConflict:
            merge = moderation_service.proposal_merge(db, access, contribution_id, merge_labels())
            return _merge_page(access, contribution_id, merge, changed=True), 409
        except InvalidInput as exc:
            merge = moderation_service.proposal_merge(db, access, contribution_id, merge_labels())
            return _merge_page(
                access,
                contribution_id,
                merge,
                text=merged if merged is not None else merge.merge.merged,
                expected=expected,
                error=merge_error(exc),
            ), 400
        flash(_("Accepted; version %(number)s of the draft is saved.", number=number), "notice")
    elif action == "address":
        address = AddressForm()
        if not address.validate():
            message = _("The note is too long. Nothing was changed.")
            return render_template("drafting/problem.html", message=message, status=400), 400
        moderation_service.address(db, access, contribution_id, address.note.data or "", today())
        flash(_("Marked as addressed."), "notice")
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


@blueprint.route("/rooms/<room_id>/moderation/<contribution_id>/accept")
@login_required
def accept_with_edits(room_id: str, contribution_id: str) -> Any:
    """The proposed change, merged with the section as it is now, in a box to edit first."""
    access = open_access(room_id)
    access.require_coordinator()
    merge = moderation_service.proposal_merge(
        get_session(), access, contribution_id, merge_labels()
    )
    return _merge_page(access, contribution_id, merge)


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
        if form.moderation.data != access.room.moderation and two_person(room_id):
            return proposed(
                ControlAction.MODERATION,
                room_id,
                control_actions.moderation_change(
                    access, form.moderation.data or "", form.reason.data or ""
                ),
            )
        room_service.set_moderation_mode(
            get_session(), access, form.moderation.data or "", form.reason.data or "", today()
        )
    except InvalidInput:
        form.reason.errors = [_("Say why.")]
        return _moderation_page(access, form, 400)
    flash(_("The moderation mode is changed."), "notice")
    return redirect(url_for("drafting.moderation", room_id=room_id))


def _merge_page(
    access: RoomAccess,
    contribution_id: str,
    merge: MergeNeeded,
    *,
    changed: bool = False,
    text: str | None = None,
    expected: int | None = None,
    error: str | None = None,
) -> str:
    """The page where a change is accepted with edits: what it changes, what changed in the
    section since, and the three-way merge in a box (conflicts marked), with Cancel and
    Reject instead. `text` and `expected` keep what the coordinator sent when it is refused."""
    contribution = contribution_service.find_contribution(get_session(), access, contribution_id)
    form = MergeForm(formdata=None)
    form.merged_text.data = merge.merge.merged if text is None else text
    form.expected_version.data = merge.number if expected is None else expected
    if error:
        form.merged_text.errors = [error]
    return render_template(
        "drafting/conflict.html",
        form=form,
        contribution_id=contribution_id,
        kind=contribution.kind,
        section_number=section_numbers(access).get(contribution.anchor or "", "?"),
        merge=merge.merge,
        changed=changed,
        reject_form=RejectForm(formdata=None),
        **room_context(access),
    )
