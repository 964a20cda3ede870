"""Languages: Flask-Babel, the reader's choice of language, and its writing direction.

The reader chooses from a menu that works without JavaScript (a GET form that sets a
cookie), or the browser's Accept-Language decides. The cookie holds only the language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response as WerkzeugResponse

from statements.settings import Settings

# Languages the interface is translated into, each named in itself.
LANGUAGES = {
    "en": "English",
    "th": "ไทย",
    "my": "မြန်မာ",
    "ms": "Bahasa Melayu",
    "fa": "فارسی",
}
RIGHT_TO_LEFT = frozenset({"fa"})
DEFAULT = "en"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
COOKIE_DAYS = 365

blueprint = Blueprint("i18n", __name__)


def cookie_name(settings: Settings) -> str:
    """__Host- prefixed outside development, like the other cookies."""
    return "lang" if settings.development else "__Host-lang"


def select_locale() -> str:
    """The reader's language: the menu's cookie, else the browser's preference."""
    from flask import current_app

    chosen = request.cookies.get(cookie_name(current_app.extensions["settings"]))
    if chosen in LANGUAGES:
        return chosen
    # In the browser's order of preference, each tag or its primary language: "ms-MY"
    # means Malay before a lower-weighted "en" does.
    for tag, _quality in request.accept_languages:
        primary = tag.lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT


def current_language() -> str:
    """The language of this response."""
    locale = get_locale()
    return str(locale.language) if locale else DEFAULT


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
        response.set_cookie(
            cookie_name(settings),
            language,
            max_age=COOKIE_DAYS * 24 * 60 * 60,
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

    @app.context_processor
    def _language() -> dict[str, Any]:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "languages": LANGUAGES,
        }

    @app.after_request
    def _vary(response: Response) -> Response:
        # The same address answers in the reader's language.
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
