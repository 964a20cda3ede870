"""Rooms: the list, opening one, its page, its stages, leaving and sealing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from statements.control import actions as control_actions
from statements.control.propose import proposed, two_person
from statements.db import destroyed_keys, get_session
from statements.drafting import contribution_lists
from statements.drafting import rooms as room_service
from statements.drafting import versions as version_service
from statements.drafting.deadlines import deadline_notice
from statements.drafting.errors import (
    InvalidInput,
    NotEligible,
    TitleMismatch,
    UndecidedContributions,
    WrongState,
)
from statements.drafting.forms import (
    RoomForm,
    SealForm,
)
from statements.drafting.room_languages import reading_language
from statements.drafting.rooms import FEW_MEMBERS, RoomInput
from statements.drafting.translations import section_texts
from statements.drafting.versions import MAX_DRAFT
from statements.drafting.views.common import (
    STATUS_NAMES,
    blueprint,
    draft_error,
    open_access,
    room_context,
    section_numbers,
)
from statements.mixing import request_writes
from statements.models import AuditAction, ContributionStatus, ControlAction, RoomState
from statements.news import feeds as feed_service
from statements.news import markers as news_service
from statements.pages import INVISIBLE_CHARACTERS, STATE_NAMES, today
from statements.staff import audit

# --- rooms ----------------------------------------------------------------------------


@blueprint.route("/rooms")
@login_required
def rooms() -> Any:
    """The rooms this account belongs to, with what changed in each since the last visit."""
    mine = room_service.my_rooms(get_session(), current_user.identity)
    return render_template(
        "drafting/rooms.html",
        rooms=mine,
        state_names=STATE_NAMES,
        status_names=STATUS_NAMES,
        news=news_service.rooms_news(
            get_session(),
            current_user.identity.keys.author_secret,
            [summary.room for summary in mine],
            today(),
            request_writes(),
        ),
    )


def _room_form_input(form: RoomForm) -> RoomInput:
    markdown = form.markdown.data or ""
    upload = form.upload.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(MAX_DRAFT * 4 + 1)
        try:
            markdown = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("upload", "encoding") from None
    return RoomInput(
        title=form.title.data or "",
        language=form.language.data or "",
        summary=form.summary.data or "",
        markdown=markdown,
        contribution_deadline=form.contribution_deadline.data,
        signon_deadline=form.signon_deadline.data,
        moderation=form.moderation.data or "",
        working_languages=tuple(form.working_languages.data or ()),
    )


ROOM_FIELD_ERRORS: dict[str, LazyString] = {
    "required": _l("This is required."),
    "too_long": _l("This is too long."),
    "one_line": _l("Write this on one line."),
    "invisible": INVISIBLE_CHARACTERS,
    "unknown": _l("Choose a language from the list."),
    "past": _l("Choose today or a later date."),
    "before_contribution_deadline": _l("Sign-on cannot close before contributions do."),
    "encoding": _l("The file must be UTF-8 text."),
    "source": _l(
        "The language of the statement is its source: leave it out of the working languages."
    ),
    "too_many": _l("Choose fewer working languages."),
}


@blueprint.route("/rooms/new", methods=["GET", "POST"])
@login_required
def new_room() -> Any:
    """Open a drafting room."""
    if current_user.role not in ("coordinator", "admin"):
        raise NotEligible
    form = RoomForm()
    if not form.is_submitted():
        form.contribution_deadline.data = today() + timedelta(days=14)
        form.signon_deadline.data = today() + timedelta(days=28)
    if not form.validate_on_submit():
        return render_template("drafting/new_room.html", form=form), (
            400 if form.is_submitted() else 200
        )
    try:
        room = room_service.create_room(
            get_session(), current_user.identity, _room_form_input(form), today()
        )
    except InvalidInput as exc:
        target = {"upload": form.upload, "markdown": form.markdown}.get(exc.field)
        target = target or getattr(form, exc.field, form.title)
        error = draft_error(exc) or ROOM_FIELD_ERRORS.get(exc.reason)
        target.errors = [str(error) if error is not None else _("This is not valid.")]
        return render_template("drafting/new_room.html", form=form), 400
    audit.record(get_session(), current_user.account, AuditAction.ROOM_OPENED, room.id, today())
    flash(_("The room is open. Invite members from its Invitations page."), "notice")
    return redirect(url_for("drafting.room", room_id=room.id))


@blueprint.route("/rooms/<room_id>")
@login_required
def room(room_id: str) -> Any:
    """The current draft, as numbered sections."""
    access = open_access(room_id)
    current = version_service.version(get_session(), access)
    # The multilingual room: each section in the member's reading language, beside its source.
    reading = reading_language(get_session(), access)
    # Read before it is marked seen: what changed since the member last looked.
    news = news_service.room_news(get_session(), access, today())
    return render_template(
        "drafting/room.html",
        current=current,
        reading=reading,
        reading_texts={
            text.anchor: text for text in section_texts(get_session(), access, reading, current)
        },
        news=news,
        room_number=feed_service.room_number(room_id),
        numbers={section.anchor: n for n, section in enumerate(current.sections, start=1)},
        members=room_service.member_count(get_session(), room_id),
        few_members=FEW_MEMBERS,
        deadline_notice=deadline_notice(access),
        **room_context(access),
    )


@blueprint.route("/rooms/<room_id>/state", methods=["POST"])
@login_required
def change_state(room_id: str) -> Any:
    """Move the room to another stage."""
    access = open_access(room_id)
    # Checked here as well as in the service: a member's request stops before any work.
    access.require_coordinator()
    target = request.form.get("target", "")
    if target not in set(RoomState):
        raise WrongState(access.room.state)
    # Leaving drafting closes the consent checks without forcing their queued answers
    # in (statements/mixing.py): the results are counted once the answers are in.
    try:
        room_service.change_state(
            get_session(),
            access,
            target,
            today(),
            leave_undecided=request.form.get("leave_undecided") == "1",
        )
    except UndecidedContributions as error:
        # Show what still waits, and let the coordinator decide it or confirm.
        views, _total = contribution_lists.contributions_page(
            get_session(), access, 1, statuses=[ContributionStatus.PENDING]
        )
        return render_template(
            "drafting/undecided.html",
            target=target,
            target_name=STATE_NAMES[target],
            count=error.count,
            views=views,
            numbers=section_numbers(access),
            **room_context(access),
        ), 409
    flash(_("The room is now at: %(stage)s.", stage=STATE_NAMES[target]), "notice")
    return redirect(url_for("drafting.room", room_id=room_id))


@blueprint.route("/rooms/<room_id>/leave", methods=["POST"])
@login_required
def leave(room_id: str) -> Any:
    """Leave the room."""
    room_service.leave_room(get_session(), open_access(room_id))
    flash(_("You have left the room."), "notice")
    return redirect(url_for("drafting.rooms"))


@blueprint.route("/rooms/<room_id>/seal", methods=["GET", "POST"])
@login_required
def seal(room_id: str) -> Any:
    """Destroy the room's keys, after typing its working title."""
    access = open_access(room_id)
    access.require_coordinator()
    form = SealForm()
    if form.validate_on_submit():
        try:
            if two_person(room_id):
                return proposed(
                    ControlAction.SEAL,
                    room_id,
                    control_actions.sealing(get_session(), access, form.title.data or ""),
                )
            room_service.seal_room(get_session(), access, form.title.data or "")
            destroyed_keys()
        except TitleMismatch:
            form.title.errors = [_("That is not the room's working title. Nothing was sealed.")]
        else:
            audit.record(
                get_session(), current_user.account, AuditAction.ROOM_SEALED, room_id, today()
            )
            flash(_("The room is sealed. Its drafting history can never be read again."), "notice")
            return redirect(url_for("drafting.rooms"))
    status = 400 if form.is_submitted() else 200
    return render_template("drafting/seal.html", form=form, **room_context(access)), status
