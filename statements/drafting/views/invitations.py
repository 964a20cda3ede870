"""Invitations and members: links, QR codes, removing members, and joining by a link."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from statements.auth import auth_config, now
from statements.auth import codename as codenames
from statements.auth.forms import ButtonForm, JoinForm
from statements.db import Database, checkpoint, destroyed_keys, get_session
from statements.drafting import invitations as invitation_service
from statements.drafting import rooms as room_service
from statements.drafting import workshops
from statements.drafting.errors import (
    InvalidInput,
    NotEligible,
)
from statements.drafting.forms import (
    CoordinatorForm,
    InvitationForm,
)
from statements.drafting.views.common import blueprint, open_access, room_context
from statements.pages import INVISIBLE_CHARACTERS, today

LABEL_ERRORS: dict[str, LazyString] = {
    "too_long": _l("Keep the label within 120 characters."),
    "one_line": _l("Write the label on one line."),
    "invisible": INVISIBLE_CHARACTERS,
}

# --- invitations and members ----------------------------------------------------------


@blueprint.route("/rooms/<room_id>/invitations", methods=["GET", "POST"])
@login_required
def invitations(room_id: str) -> Any:
    """Create, list and revoke invitation links.

    Creating one answers with a redirect (POST/redirect/GET): reloading the page that
    shows the new link cannot create a second one. That page shows the link once, from
    the invitation row where it waits sealed under this login session's key; the URL
    carries only the invitation's id, never its secret.
    """
    access = open_access(room_id)
    access.require_coordinator()
    db = get_session()
    form = InvitationForm()
    status = 200
    if not form.is_submitted():
        form.expires_on.data = today() + timedelta(days=7)
    elif form.validate_on_submit():
        try:
            invitation, _token = invitation_service.create_invitation(
                db,
                access,
                form.uses.data or 1,
                form.expires_on.data,
                today(),
                label=form.label.data or "",
            )
        except InvalidInput as exc:
            if exc.field == "label":
                form.label.errors = [str(LABEL_ERRORS.get(exc.reason, LABEL_ERRORS["too_long"]))]
            else:
                form.expires_on.errors = [_("Choose a date between today and a year from now.")]
            status = 400
        else:
            return redirect(
                url_for("drafting.invitations", room_id=room_id, created=invitation.id), 303
            )
    else:
        status = 400
    created = None
    shown_before = False
    created_id = request.args.get("created", "") if request.method == "GET" else ""
    if created_id:
        token = invitation_service.shown_link(db, access, created_id)
        if token is None:
            shown_before = True
        else:
            # The sealed copy of the link is gone: on SQLite, fold it out of the -wal too.
            destroyed_keys()
            link = url_for("drafting.invitation", token=token, _external=True)
            created = (link, _qr(link))
    rows = invitation_service.invitations(db, access)
    return render_template(
        "drafting/invitations.html",
        form=form,
        created=created,
        shown_before=shown_before,
        invitations=rows,
        labels=invitation_service.invitation_labels(access, rows),
        today=today(),
        now=now(),
        **room_context(access),
    ), status


def _qr(link: str) -> Markup:
    from statements.pages import qr_svg

    # segno's SVG holds only paths and the fixed title: no user text.
    return Markup(qr_svg(link, _("QR code of the invitation link")))  # noqa: S704


@blueprint.route("/rooms/<room_id>/invitations/<invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(room_id: str, invitation_id: str) -> Any:
    """Revoke an invitation."""
    invitation_service.revoke_invitation(get_session(), open_access(room_id), invitation_id)
    destroyed_keys()
    flash(_("The invitation no longer works."), "notice")
    return redirect(url_for("drafting.invitations", room_id=room_id))


@blueprint.route("/rooms/<room_id>/invitations/<invitation_id>/workshop", methods=["POST"])
@login_required
def workshop(room_id: str, invitation_id: str) -> Any:
    """Mark an invitation for a workshop: many may join through it from one network."""
    access = open_access(room_id)
    access.require_coordinator()
    if not ButtonForm().validate_on_submit():
        return redirect(url_for("drafting.invitations", room_id=room_id))
    try:
        workshops.start_workshop(get_session(), access, invitation_id, now())
    except InvalidInput:
        flash(_("That invitation no longer works, so it cannot be used for a workshop."), "notice")
    else:
        flash(
            ngettext(
                "For the next %(num)d hours, people joining through this invitation from "
                "one network (a workshop's Wi-Fi, say) are not stopped after a few.",
                "For the next %(num)d hours, people joining through this invitation from "
                "one network (a workshop's Wi-Fi, say) are not stopped after a few.",
                workshops.WORKSHOP_HOURS,
            ),
            "notice",
        )
    return redirect(url_for("drafting.invitations", room_id=room_id))


def workshop_request() -> str | None:
    """The invitation this request joins through, if it is marked for a workshop now.

    Asked by the join budgets (statements.auth.throttle_joins) before the view runs.
    """
    token = str((request.view_args or {}).get("token", ""))
    # Only joining (a POST) is budgeted; reading the invitation's page costs nothing.
    if request.method != "POST" or not token or len(token) > 200:
        return None
    # A short read of its own: the request's transaction begins in the view, after the
    # purge of expired invitations has committed (see _purge_expired_invitations).
    database: Database = current_app.extensions["db"]
    with database.sessionmaker() as look:
        return workshops.workshop_invitation(look, token, now())


@blueprint.route("/rooms/<room_id>/members", methods=["GET", "POST"])
@login_required
def members(room_id: str) -> Any:
    """Members by room number; add a coordinator."""
    access = open_access(room_id)
    form = CoordinatorForm()
    status = 200
    if form.validate_on_submit():
        try:
            room_service.add_coordinator(get_session(), access, form.username.data or "")
        except NotEligible:
            form.username.errors = [
                _("There is no active coordinator or admin with that username.")
            ]
            status = 400
        else:
            flash(_("They are now a coordinator of this room."), "notice")
            return redirect(url_for("drafting.members", room_id=room_id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "drafting/members.html",
        form=form,
        members=room_service.members(get_session(), access),
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/members/<number>/remove", methods=["POST"])
@login_required
def remove_member(room_id: str, number: str) -> Any:
    """Remove a member; the room key is rotated."""
    access = open_access(room_id)
    # Checked here as well as in the service: a member's request stops before any work.
    access.require_coordinator()
    kept = room_service.remove_member(get_session(), access, number, today())
    if kept:
        flash(
            _(
                "The member is removed and the room's key has been changed. Open "
                "invitations still work: they received the new key."
            ),
            "notice",
        )
    else:
        # A coordinator may know the links: none of them can be trusted now.
        destroyed_keys()
        flash(
            _(
                "The coordinator is removed and the room's key has been changed. Open "
                "invitations were withdrawn, since they may know the links."
            ),
            "notice",
        )
    return redirect(url_for("drafting.members", room_id=room_id))


# --- joining by invitation ------------------------------------------------------------


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """Follow an invitation: join with this account, or create a codename account and join."""
    from statements.auth import service as auth_service
    from statements.auth.signin import codename_page, open_session_response

    day = today()
    _purge_expired_invitations(day)
    db = get_session()
    title = invitation_service.invitation_room_title(db, token, day)
    # A new member chooses a codename of words or of digits, as on the sign-up page.
    form = JoinForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        page = render_template("drafting/invitation.html", title=title, form=form, token=token)
        return page, status
    # The last use of an invitation destroys its keys.
    destroyed_keys()
    if current_user.is_authenticated:
        room = invitation_service.accept_invitation(db, token, current_user.identity, day)
        flash(_("Welcome to the drafting room."), "notice")
        return redirect(url_for("drafting.room", room_id=room.id))
    account, codename, keys = auth_service.create_member(
        db, auth_config(), form.kind.data or codenames.WORDS
    )
    identity = auth_service.Identity(account, keys, session_id_hash=b"", session_key=b"")
    room = invitation_service.accept_invitation(db, token, identity, day)
    return open_session_response(
        account,
        keys,
        lambda: codename_page(account, codename, url_for("drafting.room", room_id=room.id)),
        201,
    )


def _purge_expired_invitations(day: date) -> None:
    """Destroy expired invitations' keys in a transaction of their own, committed now.

    The request that follows may well end in a 404, and a 4xx writes nothing: the keys
    of the expired link it was asked about must not survive that.
    """
    database: Database = current_app.extensions["db"]
    with database.sessionmaker() as purge:
        if invitation_service.purge_expired_invitations(purge, day):
            purge.commit()
            checkpoint(database.engine)
