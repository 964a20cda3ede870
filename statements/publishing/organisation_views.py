"""Organisation invitations and the review of self-declared names. Thin, like views.py."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from statements.auth.forms import ButtonForm
from statements.db import get_session
from statements.pages import today
from statements.publishing import organisations
from statements.publishing.errors import InvalidInput
from statements.publishing.forms import ReceivedForm
from statements.publishing.views import _field_error, _open, blueprint


@blueprint.route("/rooms/<room_id>/sign-on/organisations", methods=["POST"])
@login_required
def invite_organisation(room_id: str) -> Any:
    """A coordinator makes a link for one organisation's representative."""
    access = _open(room_id)
    access.require_coordinator()
    form = ReceivedForm(prefix="org")
    link = None
    if form.validate_on_submit():
        try:
            token = organisations.invite(
                get_session(), access, form.name.data or "", form.country.data or ""
            )
        except InvalidInput as error:
            _field_error(form, error, "name")
        else:
            # Shown once, on this page: the secret is not kept anywhere readable.
            link = url_for(
                "publishing.organisation_invitation", room_id=room_id, token=token, _external=True
            )
    return render_template(
        "publishing/organisation_invited.html",
        access=access,
        room=access.room,
        details=access.details(),
        form=form,
        link=link,
        name=form.name.data,
        country=form.country.data,
    ), (200 if link else 400)


@blueprint.route("/rooms/<room_id>/sign-on/organisation/<token>", methods=["GET", "POST"])
@login_required
def organisation_invitation(room_id: str, token: str) -> Any:
    """The representative signs publicly for the organisation the link names."""
    session = get_session()
    access = _open(room_id)
    button = ButtonForm()
    if button.is_submitted():
        if not button.validate():
            abort(400)
        organisations.endorse_invited(session, access, token, today())
        flash(_("Your organisation's endorsement is recorded."), "notice")
        return redirect(url_for("publishing.signon", room_id=room_id))
    return render_template(
        "publishing/organisation_invitation.html",
        access=access,
        room=access.room,
        details=access.details(),
        invited=organisations.invited(session, access, token),
        button=button,
    )


@blueprint.route("/rooms/<room_id>/sign-on/organisations/<invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(room_id: str, invitation_id: str) -> Any:
    """A coordinator revokes an organisation's invitation link."""
    access = _open(room_id)
    access.require_coordinator()
    if ButtonForm().validate_on_submit():
        organisations.revoke(get_session(), access, invitation_id)
        flash(_("The link is revoked: it no longer works."), "notice")
    return redirect(url_for("publishing.signon", room_id=room_id))


@blueprint.route("/rooms/<room_id>/sign-on/<endorsement_id>/confirm", methods=["POST"])
@login_required
def confirm(room_id: str, endorsement_id: str) -> Any:
    """A coordinator confirms a member's self-declared public endorsement."""
    access = _open(room_id)
    access.require_coordinator()
    if ButtonForm().validate_on_submit():
        organisations.confirm(get_session(), access, endorsement_id)
        flash(_("The endorsement is confirmed."), "notice")
    return redirect(url_for("publishing.signon", room_id=room_id))
