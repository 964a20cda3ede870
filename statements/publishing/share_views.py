"""A statement where it is shared: its card image and its embed page. Routes of the
public blueprint, like public.py's: the same for every reader, cacheable by anyone."""

from __future__ import annotations

import functools
import hashlib
import json

from babel.support import Translations
from flask import Response, current_app, request, url_for

from statements.db import get_session
from statements.i18n import TRANSLATIONS, catalogue_locale
from statements.languages import direction
from statements.publishing import service, sharing
from statements.publishing.public import IMMUTABLE, SHORT, _page, blueprint
from statements.publishing.render_cache import kept
from statements.security import allow_framing
from statements.settings import Settings

# Part of the card's tag: a new layout (or a new network name) is a new image.
CARD_LAYOUT = "1"


@functools.lru_cache(maxsize=64)
def _card(bundle_sha256: str, bundle: bytes, network_name: str) -> bytes:
    """A version's card, kept per process: a published version never changes (the key
    starts with its bundle's hash)."""
    # Imported here: Pillow, fontTools and PyICU load only when someone asks for a card.
    from statements.publishing.card import card_png

    statement = json.loads(bundle)["statement"]
    words = Translations.load(str(TRANSLATIONS), [catalogue_locale(statement["language"])])
    title, name = sharing.card_words(statement, network_name, words)
    return card_png(title, statement["language"], name)


def _network_name() -> str:
    settings: Settings = current_app.extensions["settings"]
    return settings.network_name


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/card.png")
def card(slug: str, number: int) -> Response:
    """The version's card: a 1200 x 630 picture of its title, for link previews."""
    view = service.published_version(get_session(), slug, number)
    network = _network_name()
    layout = hashlib.sha256(f"{CARD_LAYOUT}\n{network}".encode()).hexdigest()[:12]
    etag = f"card-{view.row.bundle_sha256[:40]}-{layout}"
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(
            _card(view.row.bundle_sha256, view.row.bundle, network), mimetype="image/png"
        )
    response.set_etag(etag)
    response.cacheable = True  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@blueprint.route("/statements/<slug>/embed")
@allow_framing
@kept(SHORT)
def embed(slug: str) -> Response:
    """The latest version in brief, for other sites to show in a frame: the only page
    that may be framed (statements/security.py), with no script and nothing to submit."""
    session = get_session()
    published = service.statement(session, slug)
    latest = service.versions(session, slug)[-1]
    statement = latest.statement
    return _page(
        "public/embed.html",
        SHORT,
        statement=statement,
        description=sharing.first_paragraph(statement["body_markdown"]),
        statement_url=url_for("public.statement", slug=published.slug, _external=True),
        text_dir=direction(statement["language"]),
    )
