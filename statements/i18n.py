"""Languages: Flask-Babel, the reader's choice of language, and its writing direction.

The reader chooses from a menu that works without JavaScript (a GET form that sets a
cookie), or the browser's Accept-Language decides. The cookie holds only the language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, flash, redirect, request, url_for
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from statements.settings import Settings
from statements.text.clean import converted_from_zawgyi

# Languages the interface is translated into, each named in itself.
LANGUAGES = {
    "en": "English",
    "th": "ไทย",
    "my": "မြန်မာ",
    "ms": "Bahasa Melayu",
    "fa": "فارسی",
    "prs": "دری",
    "ps": "پښتو",
    "ar": "العربية",
}
RIGHT_TO_LEFT = frozenset({"fa", "prs", "ps", "ar"})
# Dari has no locale of its own in CLDR, and so in Babel: CLDR names Afghanistan's Persian,
# fa_AF, "Dari". Its catalogue lives under that name (translations/fa_AF); pages, the menu
# and the cookie say "prs", the language's own code.
BABEL_LOCALES = {"prs": "fa_AF"}
# Browsers in Afghanistan send fa-AF for Dari.
_ACCEPTED_AS = {"fa-af": "prs"}
DEFAULT = "en"
TRANSLATED_TYPES = frozenset({"text/html", "application/atom+xml"})
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The PDF's fonts (static/fonts) that style.css offers browsers for the scripts a device
# may not draw, each for its Unicode range: a browser fetches one only for a page that has
# characters in it. The static mirror copies them.
WEB_FONTS = frozenset(
    {
        "NotoSansMyanmar-Regular.ttf",
        "NotoSansThai-Regular.ttf",
        "NotoSansBengali-Regular.ttf",
        "NotoSansKhmer-Regular.ttf",
        "NotoNaskhArabic-Regular.ttf",
    }
)

blueprint = Blueprint("i18n", __name__)


def _zawgyi_note() -> str:
    return str(
        _(
            "Your Burmese text was typed in the Zawgyi encoding. It has been converted to "
            "Unicode so that everyone can read it; please check that it reads as you meant."
        )
    )


def cookie_name(settings: Settings) -> str:
    """__Host- prefixed outside development, like the other cookies."""
    return "lang" if settings.development else "__Host-lang"


def chosen_language(chosen: str | None, accepted: Iterable[tuple[str, float]]) -> str:
    """The reader's language (a code of LANGUAGES): the menu's cookie, else the browser's
    preference. Plain values, so that the fast path (publishing/fast_path.py) chooses
    exactly as a page does."""
    if chosen in LANGUAGES:
        return chosen
    # In the browser's order of preference, each tag or its primary language: "ms-MY"
    # means Malay before a lower-weighted "en" does.
    for tag, _quality in accepted:
        tag = tag.lower().replace("_", "-")
        region = "-".join(tag.split("-")[:2])
        primary = tag.split("-")[0]
        for language in (_ACCEPTED_AS.get(region), primary):
            if language in LANGUAGES:
                return language
    return DEFAULT


def select_locale() -> str:
    """The reader's locale: the menu's cookie, else the browser's preference."""
    from flask import current_app

    cookie = request.cookies.get(cookie_name(current_app.extensions["settings"]))
    return catalogue_locale(chosen_language(cookie, request.accept_languages))


def catalogue_locale(language: str) -> str:
    """The Babel locale (and catalogue folder) of an interface language."""
    return BABEL_LOCALES.get(language, language)


def current_language() -> str:
    """The language of this response, by its code in LANGUAGES."""
    locale = get_locale()
    if not locale:
        return DEFAULT
    name = str(locale)
    return next((code for code, babel in BABEL_LOCALES.items() if babel == name), locale.language)


def isodate(value: date | str) -> Markup:
    """A date as YYYY-MM-DD, kept whole and left to right inside any sentence."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    # Escaped by Markup.format; the class keeps it on one line and isolated (style.css).
    return Markup('<time class="date" datetime="{0}">{0}</time>').format(text)


def _safe_next(target: str | None) -> str:
    home = url_for("public.index")
    if not target or len(target) > 2000 or not target.startswith("/"):
        return home
    if any(ch <= " " or ch in "\\\x7f" for ch in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return home
    return target


@blueprint.route("/language")
def choose() -> WerkzeugResponse:
    """Remember the language chosen from the menu, and go back to the page."""
    from flask import current_app

    settings: Settings = current_app.extensions["settings"]
    response = redirect(_safe_next(request.args.get("next")))
    language = request.args.get("lang", "")
    if language in LANGUAGES:
        # A session cookie: a choice kept for months would be a lasting trace, on a shared
        # or seized device, of the visit and of the reader's language.
        response.set_cookie(
            cookie_name(settings),
            language,
            httponly=True,
            secure=not settings.development,
            samesite="Lax",
            path="/",
        )
    return response


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the language menu and what templates need to know."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(blueprint)
    app.add_template_filter(isodate, "isodate")

    @app.context_processor
    def _language() -> dict[str, Any]:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "languages": LANGUAGES,
        }

    @app.before_request
    def _note_zawgyi() -> None:
        # normalise_text converts Burmese typed in Zawgyi wherever typed text is stored; the
        # writer is told here, once for the whole form, on the page this request shows (a
        # preview) or the one it leads to (after saving). Only the fact is noted, no text.
        if request.method == "POST" and any(
            converted_from_zawgyi(value)
            for key, value in request.form.items(multi=True)
            if key != "csrf_token"
        ):
            flash(_zawgyi_note(), "notice")

    @app.after_request
    def _vary(response: Response) -> Response:
        # Pages and the feed answer in the reader's language; bundles, keys, the log, the
        # PDF and static files are the same for everyone and stay cacheable as such.
        if response.mimetype in TRANSLATED_TYPES:
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
            response.headers["Content-Language"] = current_language()
        return response
