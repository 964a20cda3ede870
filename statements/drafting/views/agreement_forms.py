"""Forms of agreement: objecting to a proposal, consent checks, and showing reasons."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from statements.drafting.agreement import MAX_REASON
from statements.forms import Form

REASON_TOO_LONG = _l("Keep the reason within 500 characters. Nothing was saved.")

# The answers to a consent check (consent.CONSENT_ANSWERS), in the reader's language.
CONSENT_ANSWER_NAMES: dict[str, LazyString] = {
    "agree": _l("I agree"),
    "abstain": _l("I abstain"),
    "object": _l("I object (say why)"),
}


class ObjectionForm(Form):
    """A member objects to a proposal, saying why."""

    reason = TextAreaField(
        _l("Why do you object?"),
        description=_l(
            "Up to 500 characters. The coordinators read it; other members read it only "
            "if the room shows reasons. Nobody sees who wrote it."
        ),
        validators=[
            InputRequired(message=_l("Say why you object. Nothing was saved.")),
            Length(max=MAX_REASON, message=REASON_TOO_LONG),
        ],
        render_kw={"maxlength": MAX_REASON},
    )


class ConsentAnswerForm(Form):
    """A member's answer to a consent check."""

    answer = RadioField(
        _l("Your answer"),
        choices=[SelectChoice(code, label) for code, label in CONSENT_ANSWER_NAMES.items()],
        validators=[InputRequired(message=_l("Choose an answer. Nothing was saved."))],
    )
    reason = TextAreaField(
        _l("Your reason (needed if you object)"),
        validators=[Optional(), Length(max=MAX_REASON, message=REASON_TOO_LONG)],
        render_kw={"maxlength": MAX_REASON},
    )


class OpenCheckForm(Form):
    """A coordinator opens a consent check on a section or the whole text."""

    section = SelectField(_l("About"), validators=[InputRequired()], validate_choice=False)
    question = TextAreaField(
        _l("Question or note for the members (optional)"),
        validators=[Optional(), Length(max=MAX_REASON, message=REASON_TOO_LONG)],
        render_kw={"maxlength": MAX_REASON},
    )


class ShowReasonsForm(Form):
    """Whether members read the reasons of each other's objections."""

    shown = SelectField(
        _l("Reasons for objections"),
        choices=[
            SelectChoice("0", _l("Only coordinators read them")),
            SelectChoice("1", _l("Every member reads them")),
        ],
        validators=[InputRequired()],
    )
