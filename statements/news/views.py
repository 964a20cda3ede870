"""Members' news pages: the private feed's settings, and the feed itself.

The feed's address is a secret: it is never logged (statements/logs.py replaces paths
and long tokens in every log line; gunicorn writes no access log; the nginx site has
`access_log off`), and it is answered with `no-store` and no referrer.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from statements.auth.forms import ButtonForm
from statements.db import get_session
from statements.i18n import LANGUAGES, catalogue_locale, current_language
from statements.mixing import request_writes
from statements.news import feeds
from statements.pages import today
from statements.publishing import feed as atom
from statements.settings import Settings

blueprint = Blueprint("news", __name__)


def _secret() -> bytes:
    return bytes(current_user.identity.keys.author_secret)


@blueprint.route("/account/feed", methods=["GET", "POST"])
@login_required
def feed_settings() -> Any:
    """Create, replace or revoke the member's private feed address."""
    settings: Settings = current_app.extensions["settings"]
    form = ButtonForm()
    if form.validate_on_submit():
        action = request.form.get("action", "")
        if action in ("create", "replace"):
            feeds.create_feed(
                current_user.account.id,
                _secret(),
                settings.lookup_pepper,
                current_language(),
                request_writes(),
            )
            flash(
                _("Your new feed address is below. Any address you had before no longer works."),
                "notice",
            )
        elif action == "revoke":
            feeds.revoke_feed(_secret(), request_writes())
            flash(_("Your feed address no longer works."), "notice")
        else:
            return render_template("news/feed.html", form=form, state=None), 400
        return redirect(url_for("news.feed_settings"), 303)
    state = feeds.current_feed(get_session(), _secret(), request_writes())
    address = (
        url_for("news.member_feed", address=state.address, _external=True)
        if state.address
        else None
    )
    status = 400 if form.is_submitted() else 200
    return render_template("news/feed.html", form=form, state=state, address=address), status


def _words(entry: feeds.RoomDay) -> str:
    """One entry's sentence: counts and dates only, in the feed's language."""
    parts = []
    if entry.versions:
        parts.append(ngettext("%(num)d new version", "%(num)d new versions", entry.versions))
    if entry.log_entries:
        parts.append(
            ngettext("%(num)d coordinators' step", "%(num)d coordinators' steps", entry.log_entries)
        )
    if entry.contributions:
        parts.append(
            ngettext("%(num)d new contribution", "%(num)d new contributions", entry.contributions)
        )
    if entry.checks_opened:
        parts.append(
            ngettext(
                "%(num)d consent check opened", "%(num)d consent checks opened", entry.checks_opened
            )
        )
    for kind, deadline in entry.deadlines:
        if kind == "contributions":
            parts.append(_("contributions close %(date)s", date=deadline.isoformat()))
        else:
            parts.append(_("sign-on closes %(date)s", date=deadline.isoformat()))
    return str(
        _("news in room %(number)s: %(news)s", number=entry.number, news=_(", ").join(parts))
    )


@blueprint.route("/feeds/<address>")
def member_feed(address: str) -> Response:
    """A member's private feed (Atom). Needs no session and no unlocked key."""
    settings: Settings = current_app.extensions["settings"]
    try:
        found = feeds.feed(get_session(), settings.lookup_pepper, address, today())
    except feeds.FeedNotFound:
        response = Response(_("No feed here."), 404, content_type="text/plain; charset=utf-8")
        return _private(response)
    language = found.language if found.language in LANGUAGES else "en"
    self_url = url_for("news.member_feed", address=address, _external=True)
    with force_locale(catalogue_locale(language)):
        title = _("Drafting room news")
        entries = [
            atom.Entry(
                id=feeds.entry_id(found, entry),
                title=_("Room %(number)s", number=entry.number),
                url=url_for("drafting.rooms", _external=True),
                updated=entry.day,
                summary=_words(entry),
            )
            for entry in found.entries
        ]
    body = atom.atom(
        feed_id=f"urn:statements:feed:{found.address_hash.hex()[:32]}",
        title=title,
        self_url=self_url,
        site_url=url_for("drafting.rooms", _external=True),
        entries=entries,
        language=language,
    )
    return _private(Response(body, 200, content_type="application/atom+xml; charset=utf-8"))


def _private(response: Response) -> Response:
    # The address is the secret: no copy in a cache, no trace in another site's logs.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
