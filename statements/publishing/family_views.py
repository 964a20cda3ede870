"""Publishing a room drafted in several languages: one page, one family. Thin, like views.py.

The page lists every language's text with its status and a web address for each current
one. When a language is out of date or missing, the first POST publishes nothing: the page
comes back naming the languages that would be left out, with a second form that carries
them in an explicit `leave_out` field. Only that second POST publishes, and only if the
languages left out are still exactly those named (a translation accepted in between asks
again). Everything works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import escape
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional

from statements.control.propose import proposed, two_person
from statements.db import destroyed_keys, get_session
from statements.drafting.translations import language_texts
from statements.forms import Form
from statements.languages import direction
from statements.mixing import flush_queued_writes
from statements.models import AuditAction, ControlAction
from statements.pages import LANGUAGE_NAMES, today
from statements.publishing import endorsements, families, service, signing_keys
from statements.publishing.errors import InvalidInput, SignOnClosed
from statements.publishing.views import FIELD_ERRORS, _open, _origin, blueprint
from statements.staff import audit
from statements.writes import QueueBusy

STATUS_NAMES: dict[str, LazyString] = {
    "current": _l("Current"),
    "out-of-date": _l("Out of date"),
    "missing": _l("Missing"),
}
FAMILY_FIELD_ERRORS: dict[str, LazyString] = {
    "taken": _l("Another statement already uses that web address."),
    "twice": _l("Give each language its own web address."),
}
# A web address is at most 80 characters; anything much longer is refused unread.
_MAX_SLUG_INPUT = 200


class FamilyPublishForm(Form):
    """Publish every current language of the room as one family."""

    title = StringField(
        _l("Title of the source text"),
        validators=[Optional(), Length(max=service.MAX_TITLE)],
        description=_l("Each other language keeps its own translated title."),
    )
    # The languages the coordinator agreed to leave out, as named on the page before.
    leave_out = HiddenField(validators=[Optional(), Length(max=200)])
    confirm = BooleanField(
        _l(
            "I have read the final text in every language and the list of signatories, "
            "and they are ready to publish."
        ),
        validators=[InputRequired(message=_l("Confirm that the text is ready."))],
    )


def language_name(code: str) -> str:
    """A language's name in the reader's interface language."""
    return str(LANGUAGE_NAMES.get(code, code))


def _slugs() -> dict[str, str]:
    """Every `slug-<language>` field the form sent, by language (cut short: refused anyway)."""
    return {
        name.removeprefix("slug-"): value[:_MAX_SLUG_INPUT]
        for name, value in request.form.items()
        if name.startswith("slug-")
    }


def _field_message(error: InvalidInput) -> str:
    known = FAMILY_FIELD_ERRORS.get(error.reason) or FIELD_ERRORS.get(error.reason)
    return str(known) if known is not None else _("This is not valid.")


@blueprint.route("/rooms/<room_id>/publish-languages", methods=["GET", "POST"])
@login_required
def publish_family(room_id: str) -> Any:
    """Sign the room's current languages and publish them as one family."""
    session = get_session()
    access = _open(room_id)
    access.require_coordinator()
    if access.room.state != "sign-on":
        raise SignOnClosed
    form = FamilyPublishForm()
    texts = language_texts(session, access)
    try:
        plan = families.plan(texts)
    except families.NothingCurrent:
        plan = None
    slugs: dict[str, str] = {}
    slug_errors: dict[str, str] = {}
    problem = ""
    asking: tuple[str, ...] = ()
    status = 200
    if not form.is_submitted():
        form.title.data = texts[0].title if texts else ""
        slugs = families.suggest_slugs(plan, today()) if plan else {}
    elif form.validate():
        try:
            slugs = _slugs()
            left_out = tuple(form.leave_out.data.split()) if form.leave_out.data else ()
            if plan is None:
                raise families.NothingCurrent
            named = tuple(text.language for text in plan.left_out)
            # Mixer-queued endorsements must be in what is signed, as for one language.
            flush_queued_writes(access.room.id)
            access = _open(room_id)
            access.require_coordinator()
            if two_person(access.room.id):
                # As for one language: a different coordinator (or an admin) approves
                # exactly these texts, addresses and signatories, then they are signed.
                return proposed(
                    ControlAction.PUBLISH,
                    access.room.id,
                    families.family_publication(
                        session,
                        access,
                        language_texts(session, access),
                        slugs,
                        today(),
                        confirmed=bool(named) and left_out == named,
                        title=form.title.data or None,
                    ),
                )
            published = families.publish_family(
                session,
                access,
                language_texts(session, access),
                slugs,
                _origin(),
                today(),
                confirmed=bool(named) and left_out == named,
                # Blank or absent: the source text's own title.
                title=form.title.data or None,
            )
            destroyed_keys()
        except families.ConfirmationNeeded as needed:
            asking = needed.left_out
            status = 409
        except families.NothingCurrent:
            problem = _("No language's text is current: there is nothing to publish.")
            status = 409
        except InvalidInput as error:
            if error.field.startswith("slug-"):
                slug_errors[error.field.removeprefix("slug-")] = _field_message(error)
            elif error.field == "language":
                problem = _("That language is not one of this room's. Nothing was published.")
            else:
                form.title.errors = [_field_message(error)]
            status = 400
        except QueueBusy:
            abort(409)
        else:
            for row in published:
                audit.record(
                    session, current_user.account, AuditAction.PUBLISHED, row.slug, today()
                )
            flash(
                _(
                    "The statement is published in %(languages)s, each text signed and logged.",
                    languages=", ".join(language_name(row.language) for row in published),
                ),
                "notice",
            )
            return redirect(url_for("public.statement", slug=published[0].slug))
    else:
        slugs = _slugs()
        status = 400
    return render_template(
        "publishing/publish_family.html",
        access=access,
        room=access.room,
        details=access.details(),
        texts=texts,
        plan=plan,
        slugs=slugs,
        slug_errors=slug_errors,
        problem=problem,
        slug_hint=escape(_("Lower-case letters, digits and hyphens: /statements/<this>.")),
        asking=asking,
        form=form,
        signon=endorsements.sign_on(session, access, today()),
        key=signing_keys.key_status(session, current_user.identity),
        language_name=language_name,
        status_names=STATUS_NAMES,
        direction=direction,
    ), status
