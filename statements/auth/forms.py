"""Forms of the auth pages. Lengths are capped so over-long input is refused early."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, Optional

from statements.auth.codename import KINDS, MAX_CODENAME_CHARS
from statements.auth.service import MAX_PASSPHRASE
from statements.forms import Form

CODE_FIELD = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
SECRET_FIELD = {
    "autocomplete": "off",
    "autocapitalize": "off",
    "autocorrect": "off",
    "spellcheck": "false",
}


class ButtonForm(Form):
    """A form that is only a button: it carries the CSRF token."""


# A codename is typed into a text area, not a password field: a person told "word 4 is
# not a codename word" must be able to see word 4, and a codename copied from notes
# keeps its line breaks (a password field drops them, gluing two words together).
CODENAME_FIELD = {**SECRET_FIELD, "rows": "3", "dir": "ltr"}


class CodenameLoginForm(Form):
    """Sign in with a codename."""

    codename = TextAreaField(
        _l("Codename"),
        validators=[InputRequired(), Length(max=MAX_CODENAME_CHARS)],
        render_kw=CODENAME_FIELD,
    )


def _kind_field() -> StringField:
    """Which kind of codename: the value of the submit button pressed (words by default)."""
    # Stripped first: Optional() lets blank text through unchecked, which must mean words.
    return StringField(filters=[_stripped], validators=[Optional(), AnyOf(KINDS)])


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class JoinForm(Form):
    """Create an anonymous account, with a codename of words or of digits."""

    kind = _kind_field()


class ReplaceCodenameForm(Form):
    """Replace a member's codename: the current one, and the kind of the new one."""

    current = TextAreaField(
        _l("Your current codename"),
        validators=[InputRequired(), Length(max=MAX_CODENAME_CHARS)],
        render_kw=CODENAME_FIELD,
    )
    kind = _kind_field()


class PracticeForm(Form):
    """Type two parts of a new codename; the hidden fields say which and carry a MAC."""

    first = StringField(validators=[Length(max=64)], render_kw=SECRET_FIELD)
    second = StringField(validators=[Length(max=64)], render_kw=SECRET_FIELD)
    kind = HiddenField(validators=[InputRequired(), AnyOf(KINDS)])
    positions = HiddenField(validators=[InputRequired(), Length(max=8)])
    check = HiddenField(validators=[InputRequired(), Length(max=64)])
    next = HiddenField(validators=[Length(max=2000)])


def _code_field() -> StringField:
    return StringField(
        _l("Code from your authenticator app"),
        validators=[InputRequired(), Length(max=12)],
        render_kw=CODE_FIELD,
    )


class StaffLoginForm(Form):
    """Sign in as a coordinator or admin."""

    username = StringField(
        _l("Username"),
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false"},
    )
    passphrase = PasswordField(
        _l("Passphrase"),
        validators=[InputRequired(), Length(max=MAX_PASSPHRASE)],
        render_kw={"autocomplete": "current-password"},
    )
    # A recovery code may stand in for the app's code: letters allowed, room for dashes.
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[InputRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class NewPassphraseForm(Form):
    """A new passphrase, typed twice, confirmed with a code from the authenticator app."""

    passphrase = PasswordField(
        _l("New passphrase"),
        validators=[InputRequired(), Length(max=MAX_PASSPHRASE)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("The new passphrase again"),
        validators=[
            InputRequired(),
            EqualTo("passphrase", message=_l("The two passphrases differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    code = _code_field()


class EnrolForm(NewPassphraseForm):
    """Choose a passphrase and confirm the authenticator app."""

    totp_secret = HiddenField(validators=[InputRequired(), Length(max=64)])


class ChangePassphraseForm(NewPassphraseForm):
    """Change a coordinator's or admin's passphrase."""

    current = PasswordField(
        _l("Current passphrase"),
        validators=[InputRequired(), Length(max=MAX_PASSPHRASE)],
        render_kw={"autocomplete": "current-password"},
    )
