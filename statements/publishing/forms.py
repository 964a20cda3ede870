"""Sign-on and publication forms, with lengths capped so over-long input is refused early."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from markupsafe import escape
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from statements.forms import Form
from statements.publishing.commitments import MAX_LETTERS
from statements.publishing.endorsements import MAX_COUNTRY, MAX_ORGANISATION
from statements.publishing.service import MAX_BODY, MAX_REASON, MAX_TITLE, SLUG_MAX


def _as_text(message: LazyString) -> LazyString:
    """A message that holds "<" or "&", escaped when a template shows it.

    Templates trust a LazyString as HTML, so a message meant as plain text is escaped here.
    """
    return LazyString(lambda: str(escape(str(message))))


class EndorseForm(Form):
    """Sign on for an organisation, publicly or anonymously."""

    kind = RadioField(
        _l("How your organisation signs"),
        choices=[
            SelectChoice(
                "public", _l("Publicly: the organisation's name appears on the published statement")
            ),
            SelectChoice("anonymous", _l("Anonymously: only counted, never named")),
        ],
        validators=[InputRequired(message=_l("Choose how your organisation signs."))],
    )
    name = StringField(
        _l("Organisation's name (for a public endorsement)"),
        validators=[Optional(), Length(max=MAX_ORGANISATION)],
    )
    country = StringField(
        _l("Country (optional)"),
        validators=[Optional(), Length(max=MAX_COUNTRY)],
        description=_l("Leave it out if naming the country could put anyone at risk."),
    )


class ReceivedForm(Form):
    """A coordinator adds a public endorsement received by other means."""

    name = StringField(
        _l("Organisation's name"), validators=[InputRequired(), Length(max=MAX_ORGANISATION)]
    )
    country = StringField(
        _l("Country (optional)"), validators=[Optional(), Length(max=MAX_COUNTRY)]
    )


class ReleaseForm(Form):
    """When to release a statement: empty for now, else a time in a named time zone."""

    release_at = StringField(
        _l("Release on (date and time)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"type": "datetime-local"},
        description=_l(
            "Leave empty to publish at once. Until then only press preview links show it."
        ),
    )
    zone = StringField(
        _l("Time zone"),
        default="UTC",
        validators=[Optional(), Length(max=64)],
        render_kw={"list": "zones", "spellcheck": "false", "dir": "ltr"},
        description=_l("A time zone name, such as Europe/Berlin, Asia/Kabul or UTC."),
    )


class PressLinkForm(Form):
    """A new press preview link."""

    label = StringField(
        _l("Who the link is for (seen only by coordinators)"),
        validators=[Optional(), Length(max=80)],
    )


class PublishForm(ReleaseForm):
    """Publish the frozen text, now or on a date."""

    # The signed, permanent title: the room's working title unless changed here.
    title = StringField(_l("Title"), validators=[Optional(), Length(max=MAX_TITLE)])
    slug = StringField(
        _l("Web address of the statement"),
        validators=[InputRequired(), Length(max=SLUG_MAX)],
        description=_as_text(_l("Lower-case letters, digits and hyphens: /statements/<this>.")),
    )
    translation_of = SelectField(
        _l("Is it a translation of a statement already published?"),
        choices=[],
        validators=[Optional()],
        description=_l(
            "Each language is signed as a statement of its own; the pages link them together."
        ),
    )
    confirm = BooleanField(
        _l(
            "I have read the final text and the list of signatories, and they are ready to publish."
        ),
        validators=[InputRequired(message=_l("Confirm that the text is ready."))],
    )


class CorrectionForm(Form):
    """Publish a corrected version."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[InputRequired(), Length(max=MAX_BODY)])
    signatories = TextAreaField(
        _l("Public signatories"),
        validators=[Optional(), Length(max=MAX_BODY)],
        description=_l('One per line; put the country after a vertical bar: "Name | Country".'),
    )
    # The anonymous count is not typed: it follows from the signed commitments.
    letters = IntegerField(
        _l("Anonymous endorsements received by letter, to add"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_LETTERS, message=_l("That number is out of range.")),
        ],
        description=_l(
            "Each is counted with a new commitment marked “received by letter”. Keep the "
            "letters safe: the statement names nobody."
        ),
    )
    removals = TextAreaField(
        _l("Anonymous endorsements to remove"),
        validators=[Optional(), Length(max=MAX_BODY)],
        render_kw={"dir": "ltr", "spellcheck": "false"},
        description=_l(
            "One per line: the commitment (64 characters, from the statement's bundle), a "
            "vertical bar, then the public reason."
        ),
    )
    reason = TextAreaField(
        _l("Public reason for the correction"),
        validators=[InputRequired(), Length(max=MAX_REASON)],
        description=_l(
            "Signed into the new version and shown on the statement page and in the feed."
        ),
    )
    for_safety = BooleanField(
        _l(
            "The signatories removed here asked to be removed for their safety: say how many, "
            "never their names"
        )
    )


class RetractForm(Form):
    """Publish a retraction notice."""

    notice = TextAreaField(
        _l("Retraction notice (Markdown)"),
        validators=[InputRequired(), Length(max=MAX_BODY)],
        description=_l("Say why the statement is retracted. The earlier versions stay readable."),
    )
    reason = TextAreaField(
        _l("Public reason for the retraction"),
        validators=[InputRequired(), Length(max=MAX_REASON)],
        description=_l(
            "Signed into the new version and shown on the statement page and in the feed."
        ),
    )
    slug = StringField(
        _l("Type the statement's web address to confirm"),
        validators=[InputRequired(), Length(max=SLUG_MAX)],
    )


class VerifyForm(Form):
    """Check a bundle: pasted or uploaded."""

    # Verifying changes nothing, so this form needs no CSRF token (and public readers
    # get no cookie for it).
    class Meta:
        """No CSRF: the form has no effect beyond its own answer."""

        csrf = False

    # JSON reads left to right, even on a right-to-left page.
    bundle_text = TextAreaField(
        _l("Paste a bundle (bundle.json)"),
        validators=[Optional()],
        render_kw={"dir": "ltr", "spellcheck": "false"},
    )
    bundle_file = FileField(_l("…or upload it"))
    # A forwarded copy of a statement: its text pasted, or its PDF or Word file.
    statement_text = TextAreaField(
        _l("Paste the text of a statement, or a paragraph of it"),
        validators=[Optional()],
        # A statement's own direction, whatever the page's.
        render_kw={"dir": "auto"},
    )
    statement_file = FileField(
        _l("…or upload its PDF or Word (.docx) file"),
        render_kw={
            "accept": ".pdf,.docx,application/pdf,"
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        },
    )

    def checks_text(self) -> bool:
        """True when the form carries a forwarded text or file rather than a bundle."""
        upload = self.statement_file.data
        return bool(self.statement_text.data) or bool(getattr(upload, "filename", ""))
