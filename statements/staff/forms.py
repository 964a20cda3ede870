"""Forms of the staff recovery and audit pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from statements.auth.forms import CODE_FIELD
from statements.auth.service import MAX_PASSPHRASE
from statements.forms import Form


class ReplaceCodesForm(Form):
    """New recovery codes: the passphrase and a code from the authenticator app."""

    passphrase = PasswordField(
        _l("Your passphrase"),
        validators=[InputRequired(), Length(max=MAX_PASSPHRASE)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[InputRequired(), Length(max=12)],
        render_kw=CODE_FIELD,
    )


class AuditFilterForm(Form):
    """Filters of the audit page, read from the query string."""

    class Meta(Form.Meta):
        """A GET form: its filters are in the address, and it changes nothing."""

        csrf = False

    actor = SelectField(_l("Staff account"), validators=[Optional()], validate_choice=False)
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
