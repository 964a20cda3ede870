"""Drafting forms. Lengths are capped here too, so over-long input is refused early."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from statements.drafting.service import (
    LANGUAGES,
    MAX_CONTRIBUTION,
    MAX_DRAFT,
    MAX_INVITATION_USES,
    MAX_NOTE,
    MAX_SUMMARY,
    MAX_TITLE,
    REJECT_REASONS,
)

REASON_LABELS = {
    "duplicate": "Duplicate of another contribution",
    "out_of_scope": "Out of scope for this statement",
    "offensive": "Offensive",
    "unsafe": "Unsafe: it could identify someone",
    "other": "Other (explain in the note)",
}


class RoomForm(FlaskForm):
    """Open a drafting room."""

    title = StringField("Working title", validators=[InputRequired(), Length(max=MAX_TITLE)])
    language = SelectField(
        "Language of the statement",
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[InputRequired()],
    )
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=MAX_SUMMARY)])
    markdown = TextAreaField(
        "Initial draft (Markdown)",
        validators=[Optional(), Length(max=MAX_DRAFT)],
        description="Headings start with #; leave a blank line between paragraphs.",
    )
    upload = FileField(
        "…or upload a Markdown file",
        validators=[FileAllowed(["md", "markdown", "txt"], "Upload a .md file.")],
    )
    contribution_deadline = DateField("Contributions close on", validators=[InputRequired()])
    signon_deadline = DateField("Sign-on closes on", validators=[InputRequired()])


class ContributionForm(FlaskForm):
    """Propose, add or comment."""

    text = TextAreaField(
        "Your text (Markdown)",
        validators=[
            InputRequired(message="Write something first."),
            Length(
                max=MAX_CONTRIBUTION,
                message="That is longer than 10,000 characters. Nothing was saved.",
            ),
        ],
    )


class EditDraftForm(FlaskForm):
    """A coordinator's direct edit of the draft."""

    markdown = TextAreaField(
        "The draft (Markdown)", validators=[InputRequired(), Length(max=MAX_DRAFT)]
    )
    note = StringField("What changed", validators=[InputRequired(), Length(max=MAX_NOTE)])
    expected_version = IntegerField(validators=[InputRequired()])


class RejectForm(FlaskForm):
    """Reject a contribution with a reason."""

    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(code, REASON_LABELS[code]) for code in REJECT_REASONS],
        validators=[InputRequired(message="Choose a reason.")],
    )
    note = TextAreaField(
        "Note for the author (optional)", validators=[Optional(), Length(max=MAX_NOTE)]
    )


class MergeForm(FlaskForm):
    """The coordinator's hand-merged text on the conflict screen."""

    merged_text = TextAreaField("Merged text", validators=[InputRequired(), Length(max=MAX_DRAFT)])
    expected_version = IntegerField(validators=[InputRequired()])


class InvitationForm(FlaskForm):
    """Create an invitation link."""

    uses = IntegerField(
        "How many people may use it",
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_INVITATION_USES)],
    )
    expires_on = DateField("Valid until", validators=[InputRequired()])


class CoordinatorForm(FlaskForm):
    """Make another coordinator account a coordinator of this room."""

    username = StringField("Username", validators=[InputRequired(), Length(max=64)])


class SealForm(FlaskForm):
    """Type the working title to seal."""

    title = StringField("Working title", validators=[InputRequired(), Length(max=MAX_TITLE)])
