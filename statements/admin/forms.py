"""Admin forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from statements.forms import Form


class InviteStaffForm(Form):
    """Create a coordinator or admin account awaiting enrolment."""

    username = StringField(
        _l("Username"),
        validators=[InputRequired(), Length(min=3, max=32)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
        description=_l("3 to 32 characters: lower-case letters, digits, dot, dash, underscore."),
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("coordinator", _l("Coordinator")),
            SelectChoice("admin", _l("Admin")),
        ],
        validators=[InputRequired()],
    )
