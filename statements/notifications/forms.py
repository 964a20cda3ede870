"""The form of the staff notification settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from statements.forms import Form
from statements.i18n import LANGUAGES
from statements.notifications.contacts import MAX_EMAIL


class NotificationForm(Form):
    """An email address (or none), how often, and in which language."""

    email = StringField(
        _l("Email address"),
        validators=[Length(max=MAX_EMAIL, message=_l("That address is too long."))],
        render_kw={"inputmode": "email", "dir": "ltr"},
    )
    frequency = RadioField(
        _l("What to send"),
        choices=[
            SelectChoice("digest", _l("A daily digest")),
            SelectChoice("immediate", _l("A notice soon after something new waits for you")),
            SelectChoice("never", _l("Nothing")),
        ],
        default="digest",
        validators=[InputRequired(message=_l("Choose what to send."))],
    )
    language = SelectField(
        _l("Language of the messages"),
        # Each named in itself, marked with its language for screen readers.
        choices=[
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()
        ],
        validators=[InputRequired(message=_l("Choose a language."))],
    )
