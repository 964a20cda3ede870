"""The staff notification settings page. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from statements.auth import roles_required
from statements.db import get_session
from statements.i18n import LANGUAGES, current_language
from statements.notifications import contacts
from statements.settings import Settings

blueprint = Blueprint("notifications", __name__)

INVALID_EMAIL = _l("That is not an email address. Write it as name@example.org, or leave it empty.")
NOT_CONFIGURED = _l(
    "This server cannot keep email addresses: its administrator has not set a notification "
    "key. Nothing was saved."
)


def _keys() -> contacts.NotificationKeys | None:
    settings: Settings = current_app.extensions["settings"]
    if settings.notification_key is None:
        return None
    return contacts.NotificationKeys.derive(settings.notification_key)


def _page(form: Any, status: int = 200, error: str | None = None) -> Any:
    settings: Settings = current_app.extensions["settings"]
    return render_template(
        "staff/notifications.html",
        form=form,
        error=error,
        sending=settings.smtp is not None,
        can_keep=settings.notification_key is not None,
    ), status


@blueprint.route("/account/notifications", methods=["GET", "POST"])
@roles_required("admin", "coordinator")
def settings_page() -> Any:
    """An optional email address for digests or notices, how often, in which language."""
    from statements.notifications.forms import NotificationForm

    db = get_session()
    keys = _keys()
    form = NotificationForm()
    if not form.is_submitted():
        kept = contacts.contact_of(db, keys, current_user.account)
        form.email.data = kept.email if kept else ""
        form.frequency.data = kept.frequency if kept else "digest"
        form.language.data = kept.language if kept else current_language()
        return _page(form)
    if not form.validate():
        return _page(form, 400)
    try:
        saved = contacts.save_contact(
            db,
            keys,
            current_user.account,
            form.email.data or "",
            form.frequency.data or "",
            form.language.data or "",
            frozenset(LANGUAGES),
        )
    except contacts.InvalidEmail:
        form.email.errors = [str(INVALID_EMAIL)]
        return _page(form, 400)
    except contacts.InvalidChoice:
        return _page(form, 400, _("Choose one of the choices offered."))
    except contacts.NotConfigured:
        return _page(form, 409, str(NOT_CONFIGURED))
    if saved is None:
        flash(_("No email address is kept for your account: nothing will be sent."), "notice")
    else:
        flash(_("Your notification settings are saved."), "notice")
    return redirect(url_for("notifications.settings_page"), 303)
