"""Drafting forms. Lengths are capped here too, so over-long input is refused early."""

from __future__ import annotations

from flask_babel import LazyString, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    DateField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from statements.drafting.contributions import MAX_CONTRIBUTION
from statements.drafting.invitations import MAX_INVITATION_USES, MAX_LABEL
from statements.drafting.moderation import REJECT_REASONS
from statements.drafting.rooms import LANGUAGES, MAX_SUMMARY, MAX_TITLE
from statements.drafting.versions import MAX_DRAFT, MAX_SECTION, draft_length
from statements.forms import Form
from statements.pages import LANGUAGE_NAMES
from statements.text.clean import MAX_NOTE, normalise_text
from statements.text.markdown import split_sections

# The statement languages of rooms.LANGUAGES, by the same codes, named in the reader's
# language (the service keeps its plain English names: it cannot use Flask-Babel).
REASON_LABELS: dict[str, LazyString] = {
    "duplicate": _l("Duplicate of another contribution"),
    "out_of_scope": _l("Out of scope for this statement"),
    "offensive": _l("Offensive"),
    "unsafe": _l("Unsafe: it could identify someone"),
    "other": _l("Other (explain in the note)"),
}


MODERATION_MODES: dict[str, LazyString] = {
    "pre": _l(
        "Pre-moderation: a contribution is seen only by its author and the coordinators "
        "until a coordinator accepts or releases it"
    ),
    "post": _l("Post-moderation: every member sees every contribution at once"),
}


def draft_too_long_message() -> str:
    """Why a draft was refused for its length, naming the limit."""
    message: str = _(
        "The draft is longer than %(max)s characters. Nothing was saved: your text is "
        "still here, shorten it and try again.",
        max=format_decimal(MAX_DRAFT),
    )
    return message


def section_too_long_message(number: int | None = None) -> str:
    """Why a draft was refused for one long section, naming the limit (and the section)."""
    if number is None:
        message: str = _(
            "A section is longer than %(max)s characters. Split it with blank lines or "
            "headings. Nothing was saved: your text is still here.",
            max=format_decimal(MAX_SECTION),
        )
    else:
        message = _(
            "Section %(number)s is longer than %(max)s characters. Split it with blank "
            "lines or headings. Nothing was saved: your text is still here.",
            number=number,
            max=format_decimal(MAX_SECTION),
        )
    return message


class DraftLimits:
    """A draft within MAX_DRAFT characters and each section within MAX_SECTION.

    Measured as the service stores it (one kind of newline, NFC), so a browser's CRLF
    newlines do not count twice; the service checks the same limits again.
    """

    def __call__(self, form: Form, field: Field) -> None:
        """Raise ValidationError, with a message that names the limit, if over it."""
        raw = field.data or ""
        # Far over the limit is refused before any work on it.
        if len(raw) > 2 * MAX_DRAFT or len(text := normalise_text(raw)) > MAX_DRAFT:
            raise ValidationError(draft_too_long_message())
        blocks = split_sections(text)
        for number, block in enumerate(blocks, start=1):
            if len(block) > MAX_SECTION:
                raise ValidationError(section_too_long_message(number))
        # As stored, blocks are one blank line apart, which can add a little.
        if draft_length(blocks) > MAX_DRAFT:
            raise ValidationError(draft_too_long_message())


class RoomForm(Form):
    """Open a drafting room."""

    title = StringField(_l("Working title"), validators=[InputRequired(), Length(max=MAX_TITLE)])
    language = SelectField(
        _l("Language of the statement"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        validators=[InputRequired()],
    )
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=MAX_SUMMARY)])
    markdown = TextAreaField(
        _l("Initial draft (Markdown)"),
        validators=[Optional(), DraftLimits()],
        description=_l("Headings start with #; leave a blank line between paragraphs."),
    )
    upload = FileField(
        _l("…or upload a Markdown file"),
        validators=[FileAllowed(["md", "markdown", "txt"], _l("Upload a .md file."))],
    )
    contribution_deadline = DateField(_l("Contributions close on"), validators=[InputRequired()])
    signon_deadline = DateField(_l("Sign-on closes on"), validators=[InputRequired()])
    moderation = SelectField(
        _l("Moderation"),
        choices=[SelectChoice(code, label) for code, label in MODERATION_MODES.items()],
        # Left out of a form (an older page, a script): the mode that protects members.
        default="pre",
    )
    # The multilingual room: languages the draft is kept in besides its source language.
    working_languages = SelectMultipleField(
        _l("Working languages (optional)"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l(
            "The draft is also kept in these languages: members translate each section, "
            "and coordinators can change the list later."
        ),
    )


class ModerationModeForm(Form):
    """A coordinator switches the room's moderation mode, saying why."""

    moderation = SelectField(
        _l("Moderation"),
        choices=[SelectChoice(code, label) for code, label in MODERATION_MODES.items()],
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        _l("Why (for the moderation log)"),
        validators=[InputRequired(message=_l("Say why.")), Length(max=MAX_NOTE)],
    )


class ContributionForm(Form):
    """Propose, add or comment."""

    text = TextAreaField(
        _l("Your text (Markdown)"),
        validators=[
            InputRequired(message=_l("Write something first.")),
            Length(
                max=MAX_CONTRIBUTION,
                message=_l("That is longer than 10,000 characters. Nothing was saved."),
            ),
        ],
    )


class EditDraftForm(Form):
    """A coordinator's direct edit of the draft."""

    markdown = TextAreaField(
        _l("The draft (Markdown)"), validators=[InputRequired(), DraftLimits()]
    )
    note = StringField(_l("What changed"), validators=[InputRequired(), Length(max=MAX_NOTE)])
    expected_version = IntegerField(validators=[InputRequired()])


class RejectForm(Form):
    """Reject a contribution with a reason."""

    reason = SelectField(
        _l("Reason"),
        choices=[SelectChoice("", _l("Choose a reason"))]
        + [SelectChoice(code, REASON_LABELS[code]) for code in REJECT_REASONS],
        validators=[InputRequired(message=_l("Choose a reason."))],
    )
    note = TextAreaField(
        _l("Note for the author (optional)"), validators=[Optional(), Length(max=MAX_NOTE)]
    )


class MergeForm(Form):
    """The coordinator's hand-merged text on the conflict screen."""

    merged_text = TextAreaField(_l("Merged text"), validators=[InputRequired(), DraftLimits()])
    expected_version = IntegerField(validators=[InputRequired()])


class AddressForm(Form):
    """Mark a comment as addressed, with an optional note."""

    note = TextAreaField(
        _l("Note (optional): how it was addressed"), validators=[Optional(), Length(max=MAX_NOTE)]
    )


class InvitationForm(Form):
    """Create an invitation link."""

    uses = IntegerField(
        _l("How many people may use it"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_INVITATION_USES)],
    )
    expires_on = DateField(_l("Valid until"), validators=[InputRequired()])
    label = StringField(
        _l("Label (optional, only coordinators see it)"),
        description=_l("Whom it is for, such as “for the women's group”."),
        validators=[
            Optional(),
            Length(max=MAX_LABEL, message=_l("Keep the label within 120 characters.")),
        ],
    )


class DeadlineForm(Form):
    """A coordinator moves the deadlines, saying why."""

    contribution_deadline = DateField(_l("Contributions close on"), validators=[InputRequired()])
    signon_deadline = DateField(_l("Sign-on closes on"), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why (every member of the room reads it)"),
        validators=[
            InputRequired(message=_l("Say why the deadlines move.")),
            Length(max=MAX_NOTE, message=_l("Keep the reason within 2,000 characters.")),
        ],
    )


class CoordinatorForm(Form):
    """Make another coordinator account a coordinator of this room."""

    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])


class SealForm(Form):
    """Type the working title to seal."""

    title = StringField(_l("Working title"), validators=[InputRequired(), Length(max=MAX_TITLE)])
