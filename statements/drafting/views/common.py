"""What every drafting page shares: the blueprint, the words for states and kinds, the
room context, and the page for a named failure."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from statements.auth.forms import ButtonForm
from statements.db import get_session
from statements.drafting import access as access_service
from statements.drafting import rooms as room_service
from statements.drafting import versions as version_service
from statements.drafting.access import RoomAccess
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    DraftingError,
    FlagRefused,
    InvalidInput,
    InvitationInvalid,
    MemberNotFound,
    NotAChange,
    NotAComment,
    NotCoordinator,
    NotEligible,
    NotPending,
    PendingCapReached,
    RoomNotFound,
    RoomSealed,
    SupportRefused,
    UnknownSection,
    VersionNotFound,
    WrongState,
)
from statements.drafting.forms import (
    MODERATION_MODES,
    REASON_LABELS,
    draft_too_long_message,
    section_too_long_message,
)
from statements.drafting.translations import room_languages
from statements.languages import direction
from statements.mixing import request_writes
from statements.pages import LANGUAGE_NAMES, STATE_NAMES
from statements.text.merge import Labels

blueprint = Blueprint("drafting", __name__)

KIND_NAMES: dict[str, LazyString] = {
    "amendment": _l("Proposed change"),
    "addition": _l("Proposed addition"),
    "comment": _l("Comment"),
    "translation": _l("Translation"),
}
# Where a contribution is in moderation (ContributionStatus), as its list shows it.
STATUS_NAMES: dict[str, LazyString] = {
    "pending": _l("pending"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "hidden": _l("hidden"),
    "incorporated": _l("incorporated"),
    "addressed": _l("addressed"),
    # Still pending once the text is frozen: nobody will decide it now.
    "undecided": _l("not decided before the text was frozen"),
}
# A member's role in the room (RoomRole), as the members page shows it.
ROLE_NAMES: dict[str, LazyString] = {
    "member": _l("member"),
    "coordinator": _l("coordinator"),
}
# What a moderation-log entry records (the action log.log_action was given).
LOG_ACTIONS: dict[str, LazyString] = {
    "state": _l("state"),
    "member_removed": _l("member removed"),
    "edited": _l("edited"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "hidden": _l("hidden"),
    "incorporated": _l("incorporated"),
    "released": _l("released to members"),
    "moderation_mode": _l("moderation mode changed"),
    "addressed": _l("comment addressed"),
    "deadlines": _l("deadlines moved"),
    "languages": _l("working languages changed"),
}
# What the preview names when a text seems to hold a detail that identifies someone.
TEXT_ERRORS: dict[str, LazyString] = {
    "required": _l("Write something, within 10,000 characters. Nothing was saved."),
    "too_long": _l("That is longer than 10,000 characters. Nothing was saved."),
    "markup": _l(
        "HTML and scripts are not allowed: write plain text or Markdown. Nothing was saved."
    ),
    "conflict_markers": _l(
        "A line starts with <<<<<<< or >>>>>>>, or is made of =======: these mark "
        "conflicts when texts are merged. Change or remove that line. Nothing was saved."
    ),
    # The language a contribution or reply is said to be written in.
    "unknown": _l("Choose one of the room's languages. Nothing was saved."),
}
IDENTIFYING_DETAILS: dict[str, LazyString] = {
    "phone": _l("a phone number"),
    "email": _l("an email address"),
    "url": _l("a web address"),
    "id_number": _l("a long number, such as an ID card, case, passport or phone number"),
    "date": _l("the date of a particular day"),
}
# What each named failure means to the person who met it, and its status.
PROBLEMS: dict[type[DraftingError], tuple[int, LazyString]] = {
    RoomNotFound: (404, _l("There is no room here, or you are not a member of it.")),
    RoomSealed: (
        410,
        _l("This room has been sealed: its drafting history can no longer be read."),
    ),
    NotCoordinator: (403, _l("Only the room's coordinators can do that.")),
    WrongState: (409, _l("The room's current stage does not allow that.")),
    DeadlinePassed: (409, _l("The deadline for contributions has passed. Nothing was saved.")),
    UnknownSection: (
        400,
        _l("That section does not exist in the current draft. Nothing was saved."),
    ),
    ContributionNotFound: (
        404,
        _l("That contribution does not exist, or is not yours to change."),
    ),
    NotPending: (409, _l("That contribution has already been moderated.")),
    SupportRefused: (409, _l("You can support other people's pending contributions only.")),
    FlagRefused: (
        409,
        _l("You can ask for a safety review of other people's pending contributions only."),
    ),
    MemberNotFound: (404, _l("There is no member with that number in this room.")),
    NotEligible: (400, _l("Only coordinator and administrator accounts can do that.")),
    VersionNotFound: (404, _l("There is no such version of the draft.")),
    NotAChange: (
        409,
        _l("A comment is not accepted: mark it as addressed, or leave it open."),
    ),
    NotAComment: (409, _l("Only comments are marked as addressed. Nothing was changed.")),
}


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,4}", raw) else 1


def open_access(room_id: str) -> RoomAccess:
    return access_service.open_room(get_session(), room_id, current_user.identity, request_writes())


def room_context(access: RoomAccess) -> dict[str, Any]:
    return {
        "access": access,
        "room": access.room,
        "details": access.details(),
        "state_names": STATE_NAMES,
        "kind_names": KIND_NAMES,
        "status_names": STATUS_NAMES,
        "role_names": ROLE_NAMES,
        "log_actions": LOG_ACTIONS,
        "reason_labels": REASON_LABELS,
        "moderation_modes": MODERATION_MODES,
        "member_number": room_service.member_number(access.room.id, current_user.account.id),
        "button": ButtonForm(),
        # The draft is in the room's language, whatever the reader's interface is in.
        "text_dir": direction(access.room.language),
        # The multilingual room: its languages, their names, and each one's direction.
        "room_languages": room_languages(access.room),
        "language_names": LANGUAGE_NAMES,
        "direction": direction,
    }


# Every feature that opens a room (publishing too) answers its failures with this page.
@blueprint.app_errorhandler(DraftingError)
@blueprint.app_errorhandler(InvalidInput)
def problem(error: DraftingError) -> tuple[str, int]:
    status, lazy = PROBLEMS.get(type(error), (400, _l("That could not be done.")))
    message = str(lazy)
    if isinstance(error, PendingCapReached):
        status = 409
        message = ngettext(
            "You already have %(num)d contribution waiting for moderation in this room. "
            "Wait for it to be moderated, or withdraw it. Nothing was saved.",
            "You already have %(num)d contributions waiting for moderation in this room. "
            "Wait for some to be moderated, or withdraw one. Nothing was saved.",
            error.cap,
        )
    if isinstance(error, InvitationInvalid):
        # One answer for a mistyped, unknown, expired, used-up or withdrawn link: a
        # different one would tell whoever holds an old link that it once existed.
        return render_template("drafting/invitation_invalid.html"), 404
    return render_template("drafting/problem.html", message=message, status=status), status


def section_numbers(access: RoomAccess) -> dict[str, int]:
    current = version_service.version(get_session(), access)
    return {section.anchor: index for index, section in enumerate(current.sections, start=1)}


def draft_error(exc: InvalidInput) -> str | None:
    """The message, naming the limit, for a draft the service found too long."""
    if exc.field in ("markdown", "upload") and exc.reason == "too_long":
        return draft_too_long_message()
    if exc.reason == "section_too_long":
        return section_too_long_message()
    return None


# --- three-way merges -----------------------------------------------------------------


def merge_labels() -> Labels:
    """What a conflict's markers say, in the coordinator's language."""
    return Labels(current=_("the text now"), proposed=_("the proposal"))


def draft_merge_labels() -> Labels:
    """What a conflict's markers say when two edits of the whole draft meet."""
    return Labels(current=_("the draft now"), proposed=_("your text"))


def merge_error(exc: InvalidInput) -> str:
    """Why a merged text was refused; the text stays in the box."""
    if exc.reason == "conflict_markers":
        message: str = _(
            "The text still holds a conflict marked with <<<<<<< and >>>>>>>. Choose the "
            "words to keep, delete the marker lines, and try again. Nothing was saved."
        )
        return message
    if exc.reason == "required":
        required: str = _("Write the text to accept. Nothing was saved.")
        return required
    return draft_error(exc) or draft_too_long_message()
