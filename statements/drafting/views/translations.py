"""The multilingual room's pages: working languages, the reading language, the
help-translate list, offering a translation, and accepting one in moderation."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from statements.db import get_session
from statements.drafting import room_languages as language_service
from statements.drafting import translation_offers as offer_service
from statements.drafting import translations as translation_service
from statements.drafting.errors import InvalidInput
from statements.drafting.rooms import LANGUAGES
from statements.drafting.views.common import (
    TEXT_ERRORS,
    blueprint,
    open_access,
    room_context,
    section_numbers,
)
from statements.forms import Form
from statements.languages import direction
from statements.pages import today

# Where a text in a working language stands, as members read it.
STATUS_WORDS: dict[str, LazyString] = {
    "current": _l("up to date"),
    "out-of-date": _l("out of date: the source has changed since it was translated"),
    "missing": _l("not translated yet: the source text is shown"),
}
TARGET_WORDS: dict[str, LazyString] = {
    "section": _l("Section"),
    "contribution": _l("Contribution"),
    "reply": _l("Reply"),
}
OFFER_ERRORS: dict[str, LazyString] = {
    "same": _l("That is the language it is written in: choose another. Nothing was saved."),
    "unknown": _l("Choose one of the room's working languages. Nothing was saved."),
    "too_long": _l("That is longer than 20,000 characters. Nothing was saved."),
}


class TranslationForm(Form):
    """A member's translation of a section, the title, a contribution or a reply."""

    text = TextAreaField(
        _l("Your translation (Markdown)"),
        validators=[
            InputRequired(message=_l("Write something first.")),
            Length(max=offer_service.MAX_TRANSLATION, message=OFFER_ERRORS["too_long"]),
        ],
    )


def _engine() -> offer_service.Suggest | None:
    """A self-hosted machine-translation engine, if the deployment wired one in."""
    engine: offer_service.Suggest | None = current_app.extensions.get("translation_engine")
    return engine


@blueprint.route("/rooms/<room_id>/languages", methods=["GET", "POST"])
@login_required
def languages(room_id: str) -> Any:
    """Coordinators: the room's working languages, and how far each one's text is."""
    access = open_access(room_id)
    access.require_coordinator()
    status = 200
    error = None
    if request.method == "POST":
        try:
            language_service.set_working_languages(
                get_session(), access, request.form.getlist("language"), today()
            )
        except InvalidInput:
            error = _("Choose languages from the list, other than the source language.")
            status = 400
        else:
            flash(_("The working languages are saved."), "notice")
            return redirect(url_for("drafting.languages", room_id=room_id))
    return render_template(
        "drafting/languages.html",
        all_languages=[code for code in LANGUAGES if code != access.room.language],
        texts=translation_service.language_texts(get_session(), access),
        status_words=STATUS_WORDS,
        error=error,
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/reading-language", methods=["POST"])
@login_required
def reading_language(room_id: str) -> Any:
    """Remember the working language this member reads the room in."""
    access = open_access(room_id)
    language_service.choose_language(get_session(), access, request.form.get("language", ""))
    return redirect(url_for("drafting.room", room_id=room_id))


@blueprint.route("/rooms/<room_id>/help-translate")
@login_required
def help_translate(room_id: str) -> Any:
    """What waits for a translation, in one working language or in all of them."""
    access = open_access(room_id)
    db = get_session()
    room_langs = translation_service.room_languages(access.room)
    language = request.args.get("language") or None
    if language is not None and language not in room_langs:
        raise InvalidInput("language", "unknown")
    tasks = offer_service.help_translate(
        db, access, [language] if language else None, suggest=_engine()
    )
    return render_template(
        "drafting/help_translate.html",
        tasks=tasks,
        language=language,
        reading=language_service.reading_language(db, access),
        numbers=section_numbers(access),
        status_words=STATUS_WORDS,
        **room_context(access),
    )


@blueprint.route("/rooms/<room_id>/translate", methods=["GET", "POST"])
@login_required
def translate(room_id: str) -> Any:
    """Offer a translation: of a section (or the title), a contribution or a reply."""
    access = open_access(room_id)
    db = get_session()
    target_type = request.values.get("type", "")
    target_id = request.values.get("id", "")
    original = offer_service.find_original(db, access, target_type, target_id)
    language = request.values.get("language") or language_service.reading_language(db, access)
    if request.method == "GET" and language == original.language:
        # Offered from a page read in the original's own language: into the next one.
        others = [code for code in translation_service.room_languages(access.room)]
        language = next((code for code in others if code != original.language), language)
    form = TranslationForm()
    if form.validate_on_submit():
        try:
            offer_service.offer_translation(
                db, access, target_type, target_id, language, form.text.data or "", today()
            )
        except InvalidInput as exc:
            message = OFFER_ERRORS.get(exc.reason) or TEXT_ERRORS.get(exc.reason)
            form.text.errors = [str(message or TEXT_ERRORS["required"])]
        else:
            flash(_("Thank you. Your translation is waiting for moderation."), "notice")
            return redirect(url_for("drafting.help_translate", room_id=room_id))
    elif not form.is_submitted():
        suggest = _engine()
        if suggest is not None and language != original.language:
            form.text.data = suggest(original.text, original.language, language) or ""
    # Typed in the target language: the box takes its direction.
    form.text.render_kw = {"lang": language, "dir": direction(language)}
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "drafting/translate.html",
        form=form,
        original=original,
        language=language,
        target_words=TARGET_WORDS,
        numbers=section_numbers(access),
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/moderation/<contribution_id>/translation", methods=["POST"])
@login_required
def accept_translation(room_id: str, contribution_id: str) -> Any:
    """A coordinator accepts a member's translation."""
    access = open_access(room_id)
    access.require_coordinator()
    offer_service.accept_translation(get_session(), access, contribution_id, today())
    flash(_("The translation is accepted."), "notice")
    return redirect(url_for("drafting.moderation", room_id=room_id))
