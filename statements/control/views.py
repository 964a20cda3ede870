"""Proposals under the two-person rule: list, read, approve, cancel. Thin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from statements.auth import now, roles_required
from statements.auth.forms import ButtonForm
from statements.control import actions
from statements.control import service as control
from statements.control.errors import (
    AlreadyProposed,
    NotApprover,
    OwnProposal,
    ProposalChanged,
    ProposalClosed,
    ProposalNotFound,
)
from statements.control.propose import ACTION_NAMES, STATUS_NAMES
from statements.db import destroyed_keys, get_session
from statements.drafting.access import open_room
from statements.drafting.errors import DraftingError
from statements.drafting.log import log_action
from statements.mixing import flush_queued_writes, request_writes
from statements.models import AuditAction, ControlAction, Embargo
from statements.pages import LANGUAGE_NAMES, rendered_diff, today
from statements.publishing import service as publishing
from statements.publishing.errors import (
    PublishingError,
    SigningKeyNotShared,
    SlugTaken,
    StatementRetracted,
    UnreviewedEndorsements,
)
from statements.settings import Settings
from statements.staff import audit
from statements.writes import QueueBusy

blueprint = Blueprint("control", __name__)

PROBLEMS: dict[type[Exception], tuple[int, LazyString]] = {
    ProposalNotFound: (404, _l("There is no such proposal.")),
    ProposalClosed: (409, _l("This proposal was already decided, or it lapsed. Nothing was done.")),
    OwnProposal: (
        403,
        _l("A different coordinator, or an admin, must approve this. Nothing was done."),
    ),
    NotApprover: (403, _l("You may not decide this proposal.")),
    ProposalChanged: (
        409,
        _l(
            "This changed since it was proposed, so it was not carried out. Cancel it and "
            "propose again."
        ),
    ),
    AlreadyProposed: (409, _l("The same action already waits for approval.")),
    SigningKeyNotShared: (
        403,
        _l(
            "Your account does not hold the signing key yet, so it cannot sign. A coordinator "
            "or administrator who holds it shares it by opening the Signing key page. Nothing "
            "was published."
        ),
    ),
    SlugTaken: (409, _l("Another statement already uses that web address.")),
    StatementRetracted: (409, _l("This statement was retracted: it takes no further versions.")),
    UnreviewedEndorsements: (
        409,
        _l(
            "Some public endorsements were typed by members and are not yet reviewed: confirm "
            "or remove each one marked self-declared on the sign-on page. Nothing was published."
        ),
    ),
}


@blueprint.errorhandler(PublishingError)
def problem(error: Exception) -> tuple[str, int]:
    """A failed proposal or approval: its message and status."""
    status, message = PROBLEMS.get(type(error), (400, _l("That could not be done.")))
    return render_template("drafting/problem.html", message=message, status=status), status


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


@blueprint.route("/proposals")
@roles_required("coordinator", "admin")
def proposals() -> Any:
    """Every proposal this staff member may read, those waiting first."""
    return render_template(
        "control/proposals.html",
        proposals=control.readable(get_session(), current_user.identity, now()),
        action_names=ACTION_NAMES,
        status_names=STATUS_NAMES,
    )


def _diff(found: control.Proposal) -> Any:
    """For a correction or retraction: the change from the version it follows."""
    if found.row.action not in (ControlAction.CORRECT, ControlAction.RETRACT):
        return None
    try:
        latest = publishing.latest(get_session(), found.content["slug"])
    except PublishingError:
        return None
    return {
        "latest": latest,
        "body": rendered_diff(latest.statement["body_markdown"], found.content["body_markdown"]),
    }


@blueprint.route("/proposals/<proposal_id>")
@roles_required("coordinator", "admin")
def proposal(proposal_id: str) -> Any:
    """Exactly what would be signed or destroyed, and who proposed it."""
    session = get_session()
    found = control.proposal(session, current_user.identity, proposal_id, now())
    own = found.row.proposed_by == current_user.account.id
    return render_template(
        "control/proposal.html",
        proposal=found,
        content=found.content,
        own=own,
        may_decide=found.pending and control.may_decide(session, current_user.identity, found.row),
        diff=_diff(found),
        action_names=ACTION_NAMES,
        status_names=STATUS_NAMES,
        language_names=LANGUAGE_NAMES,
        button=ButtonForm(),
    )


def _room_log_embargo(session: Any, room_id: str, scheduled: Embargo) -> None:
    # In the room's log when the approver is one of its coordinators (it is sealed under
    # the room key, which an admin from outside the room does not hold).
    try:
        access = open_room(session, room_id, current_user.identity, request_writes())
    except DraftingError:
        return
    if access.is_coordinator:
        log_action(
            session,
            access,
            today(),
            "embargo_set",
            release_at=scheduled.release_at.isoformat(),
            zone=scheduled.zone,
        )


@blueprint.route("/proposals/<proposal_id>/approve", methods=["POST"])
@roles_required("coordinator", "admin")
def approve(proposal_id: str) -> Any:
    """A second staff member approves: the action is carried out now, in their name."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    session = get_session()
    identity = current_user.identity
    # Publication signs every endorsement in: the room's queued writes go in first.
    peek = control.proposal(session, identity, proposal_id, now())
    if peek.row.action == ControlAction.PUBLISH and peek.row.room_id and peek.pending:
        try:
            flush_queued_writes(peek.row.room_id)
        except QueueBusy:
            abort(409)
        session = get_session()
    found = control.begin_approval(
        session, identity, proposal_id, request.form.get("digest", ""), now()
    )
    content, room_id, action = found.content, found.row.room_id, found.row.action
    target: str
    try:
        release_at = actions.release_time(content, now())
        if action == ControlAction.PUBLISH and room_id and release_at is not None:
            scheduled = actions.schedule(
                session,
                identity,
                room_id,
                content,
                _settings().log_origin,
                release_at,
                today(),
                queued=bool(request_writes().pending(room_id)),
            )
            _room_log_embargo(session, room_id, scheduled)
            target = url_for("publishing.embargo_page", room_id=room_id)
        elif action == ControlAction.PUBLISH and room_id:
            published = actions.publish(
                session,
                identity,
                room_id,
                content,
                _settings().log_origin,
                today(),
                queued=bool(request_writes().pending(room_id)),
            )
            destroyed_keys()
            audit.record(
                session, current_user.account, AuditAction.PUBLISHED, published.slug, today()
            )
            target = url_for("public.statement", slug=published.slug)
        elif action == ControlAction.CORRECT:
            published = actions.correct(session, identity, content, today())
            audit.record(
                session, current_user.account, AuditAction.CORRECTED, published.slug, today()
            )
            target = url_for("public.statement", slug=published.slug)
        elif action == ControlAction.RETRACT:
            published = actions.retract(session, identity, content, today())
            audit.record(
                session, current_user.account, AuditAction.RETRACTED, published.slug, today()
            )
            target = url_for("public.statement", slug=published.slug)
        elif action == ControlAction.SEAL and room_id:
            actions.seal(session, room_id)
            destroyed_keys()
            audit.record(session, current_user.account, AuditAction.ROOM_SEALED, room_id, today())
            target = url_for("control.proposals")
        elif action == ControlAction.MODERATION and room_id:
            access = None
            try:
                opened = open_room(session, room_id, identity, request_writes())
                access = opened if opened.is_coordinator else None
            except DraftingError:
                access = None
            actions.change_moderation(session, room_id, content, today(), access)
            target = url_for("control.proposals")
        elif action == ControlAction.REPLACE_KEY:
            key_id = actions.replace_key(session, identity, content, today())
            destroyed_keys()
            audit.record(
                session, current_user.account, AuditAction.SIGNING_KEY_REPLACED, key_id, today()
            )
            target = url_for("publishing.signing_key")
        else:
            abort(400)
    except QueueBusy:
        abort(409)
    control.finish(session, identity, found, today())
    flash(_("Approved and carried out."), "notice")
    return redirect(target)


@blueprint.route("/proposals/<proposal_id>/cancel", methods=["POST"])
@roles_required("coordinator", "admin")
def cancel(proposal_id: str) -> Any:
    """The proposer or a possible approver withdraws the proposal."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    control.cancel(get_session(), current_user.identity, proposal_id, now())
    flash(_("The proposal is cancelled. Nothing was done."), "notice")
    return redirect(url_for("control.proposals"))


@blueprint.route("/rooms/<room_id>/two-person", methods=["POST"])
@roles_required("coordinator", "admin")
def raise_rule(room_id: str) -> Any:
    """A coordinator turns the two-person rule on for one room; nothing turns it off."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    session = get_session()
    access = open_room(session, room_id, current_user.identity, request_writes())
    control.raise_rule(session, access, today())
    flash(_("The two-person rule is on for this room."), "notice")
    return redirect(url_for("drafting.moderation", room_id=room_id))
