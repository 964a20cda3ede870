"""Sign-on and publication forms, with lengths capped so over-long input is refused early."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from statements.publishing.service import (
    MAX_ANONYMOUS,
    MAX_BODY,
    MAX_COUNTRY,
    MAX_ORGANISATION,
    MAX_TITLE,
    SLUG_MAX,
)


class EndorseForm(FlaskForm):
    """Sign on for an organisation, publicly or anonymously."""

    kind = RadioField(
        "How your organisation signs",
        choices=[
            SelectChoice(
                "public", "Publicly: the organisation's name appears on the published statement"
            ),
            SelectChoice("anonymous", "Anonymously: only counted, never named"),
        ],
        validators=[InputRequired(message="Choose how your organisation signs.")],
    )
    name = StringField(
        "Organisation's name (for a public endorsement)",
        validators=[Optional(), Length(max=MAX_ORGANISATION)],
    )
    country = StringField(
        "Country (optional)",
        validators=[Optional(), Length(max=MAX_COUNTRY)],
        description="Leave it out if naming the country could put anyone at risk.",
    )


class ReceivedForm(FlaskForm):
    """A coordinator adds a public endorsement received by other means."""

    name = StringField(
        "Organisation's name", validators=[InputRequired(), Length(max=MAX_ORGANISATION)]
    )
    country = StringField("Country (optional)", validators=[Optional(), Length(max=MAX_COUNTRY)])


class PublishForm(FlaskForm):
    """Publish the frozen text."""

    slug = StringField(
        "Web address of the statement",
        validators=[InputRequired(), Length(max=SLUG_MAX)],
        description="Lower-case letters, digits and hyphens: /statements/<this>.",
    )
    confirm = BooleanField(
        "I have read the final text and the list of signatories, and they are ready to publish.",
        validators=[InputRequired(message="Confirm that the text is ready.")],
    )


class CorrectionForm(FlaskForm):
    """Publish a corrected version."""

    title = StringField("Title", validators=[InputRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField("Text (Markdown)", validators=[InputRequired(), Length(max=MAX_BODY)])
    signatories = TextAreaField(
        "Public signatories",
        validators=[Optional(), Length(max=MAX_BODY)],
        description='One per line; put the country after a vertical bar: "Name | Country".',
    )
    anonymous = IntegerField(
        "Organisations counted anonymously",
        validators=[InputRequired(), NumberRange(min=0, max=MAX_ANONYMOUS)],
    )


class RetractForm(FlaskForm):
    """Publish a retraction notice."""

    notice = TextAreaField(
        "Retraction notice (Markdown)",
        validators=[InputRequired(), Length(max=MAX_BODY)],
        description="Say why the statement is retracted. The earlier versions stay readable.",
    )
    slug = StringField(
        "Type the statement's web address to confirm",
        validators=[InputRequired(), Length(max=SLUG_MAX)],
    )


class VerifyForm(FlaskForm):
    """Check a bundle: pasted or uploaded."""

    # Verifying changes nothing, so this form needs no CSRF token (and public readers
    # get no cookie for it).
    class Meta:
        """No CSRF: the form has no effect beyond its own answer."""

        csrf = False

    bundle_text = TextAreaField("Paste a bundle (bundle.json)", validators=[Optional()])
    bundle_file = FileField("…or upload it")
