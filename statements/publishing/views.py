"""Sign-on, publication, corrections and the signing key. Thin: parse, call, map, render."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from statements.auth import roles_required
from statements.auth.forms import ButtonForm
from statements.control import actions as control_actions
from statements.control.propose import proposed, two_person
from statements.db import destroyed_keys, get_session
from statements.drafting.access import RoomAccess, open_room
from statements.drafting.versions import version
from statements.languages import direction
from statements.mixing import flush_queued_writes, request_writes
from statements.models import AuditAction, ControlAction
from statements.pages import INVISIBLE_CHARACTERS, LANGUAGE_NAMES, STATE_NAMES, today
from statements.publishing import (
    commitments,
    embargo,
    endorsement_check,
    endorsements,
    families,
    organisations,
    service,
    signing_keys,
)
from statements.publishing.errors import (
    EndorsementNotFound,
    InvalidInput,
    InvitationRevoked,
    NoSigningKey,
    NotAllowed,
    PublishingError,
    SigningKeyNotShared,
    SignOnClosed,
    SlugTaken,
    StatementNotFound,
    StatementRetracted,
    UnreviewedEndorsements,
)
from statements.publishing.forms import (
    CorrectionForm,
    EndorseForm,
    PublishForm,
    ReceivedForm,
    RetractForm,
)
from statements.publishing.release_input import RELEASE_FIELDS, release_error, release_from
from statements.settings import Settings
from statements.staff import audit
from statements.writes import QueueBusy

blueprint = Blueprint("publishing", __name__)

PROBLEMS: dict[type[PublishingError], tuple[int, LazyString]] = {
    SignOnClosed: (409, _l("Sign-on is not open in this room. Nothing was changed.")),
    EndorsementNotFound: (404, _l("There is no such endorsement. Nothing was changed.")),
    InvitationRevoked: (
        410,
        _l(
            "The coordinators revoked this invitation link: it no longer works. If your "
            "organisation should still sign, ask them for a new one."
        ),
    ),
    NoSigningKey: (409, _l("No signing key exists yet.")),
    SigningKeyNotShared: (
        403,
        _l(
            "Your account does not hold the signing key yet, so it cannot sign. A coordinator "
            "or administrator who holds it shares it by opening the Signing key page. Nothing "
            "was published."
        ),
    ),
    NotAllowed: (403, _l("Only the coordinators of this statement's room can do that.")),
    StatementNotFound: (404, _l("There is no such published statement.")),
    StatementRetracted: (409, _l("This statement was retracted: it takes no further versions.")),
    SlugTaken: (409, _l("Another statement already uses that web address.")),
    UnreviewedEndorsements: (
        409,
        _l(
            "Some public endorsements were typed by members and are not yet reviewed: confirm "
            "or remove each one marked self-declared on the sign-on page. Nothing was published."
        ),
    ),
}
FIELD_ERRORS: dict[str, LazyString] = {
    "required": _l("This is required."),
    "too_long": _l("This is too long."),
    "one_line": _l("Write this on one line."),
    "invisible": INVISIBLE_CHARACTERS,
    "format": _l("Use 3 to 80 lower-case letters, digits and single hyphens."),
    "too_many": _l("That is too many lines."),
    "range": _l("That number is out of range."),
    "unknown": _l("Choose one of the options."),
    "same_language": _l("A statement of that family is already published in this language."),
    "commitment": _l(
        "Write one commitment per line: its 64 characters, a vertical bar, then the reason."
    ),
    "reason_required": _l("Give the public reason for each removal."),
    "twice": _l("That commitment is listed twice."),
    "not_counted": _l("That commitment is not counted in the current version."),
    "no_commitments": _l(
        "This statement was published before anonymous endorsements had commitments: its "
        "anonymous count stays as it was signed."
    ),
}


# Rooms are opened through the drafting service: its failures read the same here.


@blueprint.errorhandler(PublishingError)
def _problem(error: PublishingError) -> tuple[str, int]:
    status, message = PROBLEMS.get(type(error), (400, _l("That could not be done.")))
    return render_template("drafting/problem.html", message=message, status=status), status


def _language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _origin() -> str:
    return _settings().log_origin


def _field_error(form: Any, error: InvalidInput, fallback: str) -> None:
    target = getattr(form, error.field, None) or getattr(form, fallback)
    known = FIELD_ERRORS.get(error.reason)
    target.errors = [str(known) if known is not None else _("This is not valid.")]


# --- sign-on --------------------------------------------------------------------------


def _signon_page(
    access: RoomAccess,
    form: EndorseForm,
    received: ReceivedForm,
    status: int = 200,
) -> tuple[str, int]:
    session = get_session()
    signon = endorsements.sign_on(session, access, today())
    key = signing_keys.key_status(session, current_user.identity) if access.is_coordinator else None
    inclusion = None
    if signon.mine_commitment is not None:
        inclusion = commitments.check(
            commitments.signon_fields(access.room.id, signon.commitments),
            signon.mine_commitment,
        )
    return render_template(
        "publishing/signon.html",
        access=access,
        scheduled=embargo.of_room(session, access.room.id),
        room=access.room,
        text_dir=direction(access.room.language),
        details=access.details(),
        state_names=STATE_NAMES,
        current=version(session, access),
        language_texts=families.signon_texts(session, access),
        language_names=LANGUAGE_NAMES,
        direction=direction,
        signon=signon,
        form=form,
        received=received,
        invite=ReceivedForm(prefix="org", formdata=None),
        key=key,
        button=ButtonForm(),
        inclusion=inclusion,
        links=organisations.links(session, access) if access.is_coordinator else [],
    ), status


def _open(room_id: str) -> RoomAccess:
    return open_room(get_session(), room_id, current_user.identity, request_writes())


@blueprint.route("/rooms/<room_id>/sign-on", methods=["GET", "POST"])
@login_required
def signon(room_id: str) -> Any:
    """The frozen text, the signatories so far, and this member's endorsement."""
    access = _open(room_id)
    form = EndorseForm()
    if not form.is_submitted():
        return _signon_page(access, form, ReceivedForm(formdata=None))
    if form.validate():
        kind = form.kind.data or ""
        if kind == "public" and not (form.name.data or "").strip():
            form.name.errors = [_("Give the organisation's name, or choose to sign anonymously.")]
        else:
            try:
                endorsements.endorse(
                    get_session(),
                    access,
                    kind,
                    form.name.data or "",
                    form.country.data or "",
                    today(),
                )
            except InvalidInput as error:
                _field_error(form, error, "name")
            else:
                flash(
                    _("Your organisation's endorsement is recorded.")
                    if kind == "public"
                    else _(
                        "Your anonymous endorsement is counted. Nothing names your organisation."
                    ),
                    "notice",
                )
                return redirect(url_for("publishing.signon", room_id=room_id))
    return _signon_page(access, form, ReceivedForm(formdata=None), 400)


@blueprint.route("/rooms/<room_id>/sign-on/withdraw", methods=["POST"])
@login_required
def withdraw(room_id: str) -> Any:
    """Take this member's endorsement back."""
    access = _open(room_id)
    if ButtonForm().validate_on_submit():
        endorsements.withdraw_endorsement(get_session(), access, today())
        flash(_("Your endorsement is withdrawn."), "notice")
    return redirect(url_for("publishing.signon", room_id=room_id))


@blueprint.route("/rooms/<room_id>/sign-on/received", methods=["POST"])
@login_required
def add_received(room_id: str) -> Any:
    """A coordinator adds an endorsement received by letter or email."""
    access = _open(room_id)
    access.require_coordinator()
    received = ReceivedForm()
    if received.validate_on_submit():
        try:
            endorsements.add_received(
                get_session(), access, received.name.data or "", received.country.data or ""
            )
        except InvalidInput as error:
            _field_error(received, error, "name")
        else:
            flash(_("The endorsement is added, marked as received."), "notice")
            return redirect(url_for("publishing.signon", room_id=room_id))
    return _signon_page(access, EndorseForm(formdata=None), received, 400)


@blueprint.route("/rooms/<room_id>/sign-on/<endorsement_id>/remove", methods=["POST"])
@login_required
def remove(room_id: str, endorsement_id: str) -> Any:
    """A coordinator takes a public endorsement off the list."""
    access = _open(room_id)
    if ButtonForm().validate_on_submit():
        endorsements.remove_public_endorsement(get_session(), access, endorsement_id)
        flash(_("The endorsement is removed from the list."), "notice")
    return redirect(url_for("publishing.signon", room_id=room_id))


# --- publication ----------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/publish", methods=["GET", "POST"])
@login_required
def publish(room_id: str) -> Any:
    """Sign the frozen text with its signatories and publish it."""
    session = get_session()
    access = _open(room_id)
    access.require_coordinator()
    if access.room.state != "sign-on":
        raise SignOnClosed
    if families.several_languages(access):
        return redirect(url_for("publishing.publish_family", room_id=room_id))
    form = PublishForm()
    form.translation_of.choices = [
        SelectChoice("", _("No, it is not a translation")),
        *(
            SelectChoice(
                item.slug, f"{item.title} ({LANGUAGE_NAMES.get(item.language, item.language)})"
            )
            for item in service.statements(session)
            if item.translation_of is None
        ),
    ]
    if embargo.of_room(session, access.room.id) is not None:
        # Signed already, waiting for its date: its own page changes or cancels it.
        return redirect(url_for("publishing.embargo_page", room_id=room_id))
    details = access.details()
    if not form.is_submitted():
        form.title.data = details["title"]
        form.slug.data = service.suggest_slug(details["title"], today())
    elif form.validate():
        # Endorsements still queued by the mixer must be in what is signed. Only here,
        # for a coordinator about to publish: a flush anyone could trigger would let them
        # commit batches of one request at will.
        try:
            flush_queued_writes(access.room.id)
        except QueueBusy:
            abort(409)
        access = _open(room_id)
        access.require_coordinator()
        if access.room.state != "sign-on":
            raise SignOnClosed
        try:
            release = release_from(form)
            if two_person(access.room.id):
                content = control_actions.publication(
                    session,
                    access,
                    form.slug.data or "",
                    today(),
                    translation_of=form.translation_of.data or None,
                    title=form.title.data,
                )
                if release is not None:
                    # What the second person approves is "publish at this time".
                    content.update(release_at=release[0].isoformat(), zone=release[1])
                return proposed(ControlAction.PUBLISH, access.room.id, content)
            if release is not None:
                embargo.schedule(
                    session,
                    access,
                    form.slug.data or "",
                    _origin(),
                    release[0],
                    release[1],
                    today(),
                    translation_of=form.translation_of.data or None,
                    title=form.title.data,
                )
                flash(
                    _("The statement is signed. It will be published at the time you set."),
                    "notice",
                )
                return redirect(url_for("publishing.embargo_page", room_id=room_id))
            published = service.publish(
                session,
                access,
                form.slug.data or "",
                _origin(),
                today(),
                translation_of=form.translation_of.data or None,
                # Absent (None) from a form without the field: the working title.
                title=form.title.data,
            )
            # The endorsements' tags and sealed names were deleted: out of SQLite's log too.
            destroyed_keys()
        except InvalidInput as error:
            if error.field in RELEASE_FIELDS:
                release_error(form, error)
            else:
                _field_error(
                    form, error, "slug" if error.field != "translation_of" else error.field
                )
        except SlugTaken:
            form.slug.errors = [_("Another statement already uses that web address.")]
        except QueueBusy:
            abort(409)
        else:
            audit.record(
                session, current_user.account, AuditAction.PUBLISHED, published.slug, today()
            )
            flash(_("The statement is published, signed and logged."), "notice")
            return redirect(url_for("public.statement", slug=published.slug))
    return render_template(
        "publishing/publish.html",
        access=access,
        room=access.room,
        text_dir=direction(access.room.language),
        details=details,
        current=version(session, access),
        signon=endorsements.sign_on(session, access, today()),
        key=signing_keys.key_status(session, current_user.identity),
        form=form,
        zones=embargo.zones(),
    ), (400 if form.errors else 200)


@blueprint.route("/rooms/<room_id>/published")
@login_required
def room_statement(room_id: str) -> Any:
    """The public statement a room produced."""
    access = _open(room_id)
    published = service.room_statement(get_session(), access.room.id)
    if published is None:
        raise StatementNotFound
    return redirect(url_for("public.statement", slug=published.slug))


@blueprint.route("/published")
@roles_required("coordinator", "admin")
def published() -> Any:
    """The statements this coordinator may correct or retract."""
    return render_template(
        "publishing/published.html",
        statements=service.coordinated_statements(get_session(), current_user.identity),
    )


def _latest_for_editing(slug: str) -> service.PublishedView:
    return service.editable_statement(get_session(), current_user.identity, slug)


@blueprint.route("/published/<slug>/correct", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def correct(slug: str) -> Any:
    """Publish a corrected version."""
    latest = _latest_for_editing(slug)
    if latest.statement["status"] == "retracted":
        raise StatementRetracted
    form = CorrectionForm()
    if not form.is_submitted():
        statement = latest.statement
        form.title.data = statement["title"]
        form.body.data = statement["body_markdown"]
        form.signatories.data = "\n".join(
            f"{s['name']} | {s['country']}" if s["country"] else s["name"]
            for s in statement["signatories"]
        )
        form.letters.data = 0
    elif form.validate():
        try:
            if two_person(service.statement(get_session(), slug).room_id):
                return proposed(
                    ControlAction.CORRECT,
                    service.statement(get_session(), slug).room_id,
                    control_actions.correction(
                        get_session(),
                        current_user.identity,
                        slug,
                        title=form.title.data or "",
                        body=form.body.data or "",
                        signatories=form.signatories.data or "",
                        reason=form.reason.data or "",
                        letters=form.letters.data or 0,
                        removals=form.removals.data or "",
                        for_safety=bool(form.for_safety.data),
                    ),
                )
            service.correct(
                get_session(),
                current_user.identity,
                slug,
                today(),
                title=form.title.data or "",
                body=form.body.data or "",
                signatories=form.signatories.data or "",
                reason=form.reason.data or "",
                letters=form.letters.data or 0,
                removals=form.removals.data or "",
                for_safety=bool(form.for_safety.data),
            )
        except InvalidInput as error:
            _field_error(form, error, "body")
        else:
            audit.record(get_session(), current_user.account, AuditAction.CORRECTED, slug, today())
            flash(_("The corrected version is published, signed and logged."), "notice")
            return redirect(url_for("public.statement", slug=slug))
    return render_template("publishing/correct.html", latest=latest, form=form), (
        400 if form.errors else 200
    )


@blueprint.route("/published/<slug>/retract", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def retract(slug: str) -> Any:
    """Publish a signed retraction notice."""
    latest = _latest_for_editing(slug)
    form = RetractForm()
    if form.validate_on_submit():
        if (form.slug.data or "").strip() != slug:
            form.slug.errors = [
                _("That is not this statement's web address. Nothing was published.")
            ]
        else:
            try:
                room_id = service.statement(get_session(), slug).room_id
                if two_person(room_id):
                    return proposed(
                        ControlAction.RETRACT,
                        room_id,
                        control_actions.retraction(
                            get_session(),
                            current_user.identity,
                            slug,
                            form.notice.data or "",
                            reason=form.reason.data or "",
                        ),
                    )
                # Of a family published together, every language (see families.py).
                families.retract_family(
                    get_session(),
                    current_user.identity,
                    slug,
                    today(),
                    form.notice.data or "",
                    reason=form.reason.data or "",
                )
            except InvalidInput as error:
                _field_error(form, error, "notice")
            else:
                audit.record(
                    get_session(), current_user.account, AuditAction.RETRACTED, slug, today()
                )
                flash(_("The retraction notice is published, signed and logged."), "notice")
                return redirect(url_for("public.statement", slug=slug))
    return render_template("publishing/retract.html", latest=latest, form=form), (
        400 if form.errors else 200
    )


# --- a member's check of their anonymous endorsement -----------------------------------


@blueprint.route("/statements/<slug>/my-endorsement")
@login_required
def my_endorsement(slug: str) -> Any:
    """Whether this member's anonymous endorsement is counted, with its inclusion proof."""
    result = endorsement_check.check_published(
        get_session(), request_writes(), current_user.identity, slug
    )
    return render_template(
        "publishing/my_endorsement.html",
        published=service.statement(get_session(), slug),
        result=result,
    )


@blueprint.route("/statements/<slug>/my-endorsement/proof.json")
@login_required
def my_endorsement_proof(slug: str) -> Any:
    """The inclusion proof, to check offline with statement-verify --commitment-proof."""
    result = endorsement_check.check_published(
        get_session(), request_writes(), current_user.identity, slug
    )
    if result.inclusion is None or result.inclusion.proof is None:
        raise EndorsementNotFound
    response = current_app.response_class(
        json.dumps(result.inclusion.proof, indent=2, sort_keys=True) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-endorsement-proof.json"'
    return response


# --- the signing key ------------------------------------------------------------------


@blueprint.route("/signing-key", methods=["GET", "POST"])
@roles_required("coordinator", "admin")
def signing_key() -> Any:
    """The signing key: who holds it; share it with new staff; rotate it."""
    session = get_session()
    form = ButtonForm()
    if form.validate_on_submit():
        action = request.form.get("action", "")
        if action == "create":
            if signing_keys.active_key(session) is None:
                record, _key = signing_keys.unlock_signing_key(
                    session, current_user.identity, _origin(), today(), create=True
                )
                audit.record(
                    session,
                    current_user.account,
                    AuditAction.SIGNING_KEY_SHARED,
                    record.key_id,
                    today(),
                )
                flash(_("A signing key is made and sealed to every coordinator."), "notice")
        elif action == "share":
            count = signing_keys.share_signing_key(session, current_user.identity)
            if count:
                audit.record(
                    session, current_user.account, AuditAction.SIGNING_KEY_SHARED, None, today()
                )
            flash(
                ngettext(
                    "The signing key is shared with %(num)d more account.",
                    "The signing key is shared with %(num)d more accounts.",
                    count,
                ),
                "notice",
            )
        elif action == "rotate" and current_user.role == "admin":
            if two_person(None):
                return proposed(
                    ControlAction.REPLACE_KEY, None, control_actions.key_replacement(session)
                )
            record = signing_keys.rotate_signing_key(session, current_user.identity, today())
            audit.record(
                session,
                current_user.account,
                AuditAction.SIGNING_KEY_REPLACED,
                record.key_id,
                today(),
            )
            destroyed_keys()
            flash(_("The signing key is replaced; the change is signed and logged."), "notice")
        return redirect(url_for("publishing.signing_key"))
    return render_template(
        "publishing/signing_key.html",
        status=signing_keys.key_status(session, current_user.identity),
        keys=signing_keys.all_keys(session),
        button=form,
    )
