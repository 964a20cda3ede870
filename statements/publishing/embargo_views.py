"""A room's embargo: when it is released, changing or cancelling it, press links. Thin."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from statements.auth.forms import ButtonForm
from statements.db import get_session
from statements.drafting.access import RoomAccess
from statements.pages import today
from statements.publishing import embargo, signing_keys
from statements.publishing.errors import InvalidInput, StatementNotFound
from statements.publishing.forms import PressLinkForm, ReleaseForm
from statements.publishing.release_input import release_error, release_from
from statements.publishing.views import _field_error, _open, blueprint


def _coordinating(room_id: str) -> RoomAccess:
    access = _open(room_id)
    access.require_coordinator()
    return access


def _page(
    access: RoomAccess,
    *,
    change: ReleaseForm | None = None,
    press: PressLinkForm | None = None,
    new_link: str | None = None,
    status: int = 200,
) -> Any:
    session = get_session()
    row = embargo.of_room(session, access.room.id)
    if row is None:
        raise StatementNotFound
    if change is None:
        change = ReleaseForm(formdata=None)
        change.release_at.data = embargo.local_time(row.release_at, row.zone).strftime(
            "%Y-%m-%dT%H:%M"
        )
        change.zone.data = row.zone
    response = Response(
        render_template(
            "publishing/embargo.html",
            access=access,
            room=access.room,
            details=access.details(),
            embargo=row,
            statement=embargo.statement_of(row),
            links=embargo.press_links(session, access.room.id),
            change=change,
            press=press or PressLinkForm(formdata=None),
            button=ButtonForm(),
            new_link=new_link,
            zones=embargo.zones(),
            key=signing_keys.key_status(session, access.identity),
        ),
        status=status,
        mimetype="text/html",
    )
    return response


@blueprint.route("/rooms/<room_id>/embargo")
@login_required
def embargo_page(room_id: str) -> Any:
    """The statement waiting for its release time, and what a coordinator can do."""
    return _page(_coordinating(room_id))


@blueprint.route("/rooms/<room_id>/embargo/change", methods=["POST"])
@login_required
def embargo_change(room_id: str) -> Any:
    """Move the release to another time (signed again for its new date)."""
    access = _coordinating(room_id)
    form = ReleaseForm()
    if not form.validate():
        return _page(access, change=form, status=400)
    try:
        release = release_from(form, required=True)
        assert release is not None  # noqa: S101 (required=True)
        embargo.change(get_session(), access, release[0], release[1], today())
    except InvalidInput as error:
        release_error(form, error)
        return _page(access, change=form, status=400)
    flash(_("The release time is changed. The statement is signed again for it."), "notice")
    return redirect(url_for("publishing.embargo_page", room_id=room_id))


@blueprint.route("/rooms/<room_id>/embargo/cancel", methods=["POST"])
@login_required
def embargo_cancel(room_id: str) -> Any:
    """Call the release off: nothing was public; the room is in sign-on again."""
    access = _coordinating(room_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    embargo.cancel(get_session(), access, today())
    flash(
        _("The release is cancelled. Nothing was published; its press links no longer work."),
        "notice",
    )
    return redirect(url_for("publishing.signon", room_id=room_id))


@blueprint.route("/rooms/<room_id>/embargo/press-links", methods=["POST"])
@login_required
def press_link_make(room_id: str) -> Any:
    """A new press preview link, shown on this answer only (only its hash is kept)."""
    access = _coordinating(room_id)
    form = PressLinkForm()
    if not form.validate():
        return _page(access, press=form, status=400)
    try:
        token = embargo.make_press_link(get_session(), access, form.label.data or "", today())
    except InvalidInput as error:
        _field_error(form, error, "label")
        return _page(access, press=form, status=400)
    link = url_for("public.press_preview", token=token, _external=True)
    return _page(access, new_link=link)


@blueprint.route("/rooms/<room_id>/embargo/press-links/<link_id>/revoke", methods=["POST"])
@login_required
def press_link_revoke(room_id: str, link_id: str) -> Any:
    """Stop a press link working."""
    access = _coordinating(room_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    embargo.revoke_press_link(get_session(), access, link_id, today())
    flash(_("The press link is revoked: it opens nothing now."), "notice")
    return redirect(url_for("publishing.embargo_page", room_id=room_id))
