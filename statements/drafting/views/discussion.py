"""Discussion: a contribution's thread, replies and their moderation, resolving a thread,
and the private line between the coordinators and a contribution's anonymous author."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from statements.db import destroyed_keys, get_session
from statements.drafting import author_messages as message_service
from statements.drafting import discussion as discussion_service
from statements.drafting.access import PAGE_SIZE, RoomAccess
from statements.drafting.contribution_lists import ContributionView
from statements.drafting.errors import (
    InvalidInput,
    MessageNotFound,
    ReplyFlagRefused,
    ReplyNotFound,
    ThreadClosed,
    ThreadFull,
)
from statements.drafting.room_languages import reading_language
from statements.drafting.translation_offers import translations_beside
from statements.drafting.views.common import (
    LOG_ACTIONS,
    PROBLEMS,
    blueprint,
    open_access,
    page_number,
    room_context,
    section_numbers,
)
from statements.forms import Form
from statements.pages import today

# This capability's failures and log entries, in the words of the shared tables.
PROBLEMS.update(
    {
        ThreadClosed: (
            409,
            _l("This contribution's words were removed: its thread takes no replies or questions."),
        ),
        ThreadFull: (
            409,
            _l("This thread is full. Start a new comment instead. Nothing was saved."),
        ),
        ReplyNotFound: (404, _l("That reply does not exist, or you cannot see it.")),
        ReplyFlagRefused: (
            409,
            _l("You can ask for a safety review of other people's replies only."),
        ),
        MessageNotFound: (404, _l("There is no such question for you.")),
    }
)
LOG_ACTIONS.update(
    {
        "reply_released": _l("reply released to members"),
        "reply_hidden": _l("reply hidden and its words destroyed"),
        "resolved": _l("thread marked resolved"),
        "reopened": _l("thread reopened"),
        "asked_author": _l("question sent to the author"),
    }
)
FIELD_ERRORS: dict[str, LazyString] = {
    "required": _l("Write something first. Nothing was saved."),
    "too_long": _l("That is too long. Nothing was saved: shorten it and try again."),
    "markup": _l(
        "HTML and scripts are not allowed: write plain text or Markdown. Nothing was saved."
    ),
    "one_line": _l("Write the summary on one line. Nothing was saved."),
    "invisible": _l("The summary holds a hidden character. Nothing was saved."),
    "unknown": _l("Choose one of the room's languages. Nothing was saved."),
}


class ReplyForm(Form):
    """A reply in a thread."""

    text = TextAreaField(
        _l("Your reply"),
        validators=[
            InputRequired(message=FIELD_ERRORS["required"]),
            Length(max=discussion_service.MAX_REPLY, message=FIELD_ERRORS["too_long"]),
        ],
    )


class ResolveForm(Form):
    """A coordinator's one-line summary of how a thread was resolved."""

    summary = StringField(
        _l("Summary (one line)"),
        validators=[
            InputRequired(message=FIELD_ERRORS["required"]),
            Length(max=discussion_service.MAX_RESOLUTION, message=FIELD_ERRORS["too_long"]),
        ],
    )


class QuestionForm(Form):
    """A coordinator's private question to a contribution's author."""

    question = TextAreaField(
        _l("Your question"),
        validators=[
            InputRequired(message=FIELD_ERRORS["required"]),
            Length(max=message_service.MAX_QUESTION, message=FIELD_ERRORS["too_long"]),
        ],
    )


class AnswerForm(Form):
    """The author's answer to a question."""

    answer = TextAreaField(
        _l("Your answer"),
        validators=[
            InputRequired(message=FIELD_ERRORS["required"]),
            Length(max=message_service.MAX_ANSWER, message=FIELD_ERRORS["too_long"]),
        ],
    )


def _error(exc: InvalidInput) -> str:
    return str(FIELD_ERRORS.get(exc.reason, FIELD_ERRORS["required"]))


# --- what other drafting pages show of the discussion ------------------------------------


@blueprint.app_context_processor
def discussion_helpers() -> dict[str, Any]:
    """Lookups the room's pages call: each thread's replies and resolution on a list of
    contributions, and how many questions wait for this member's answer."""

    def threads(
        access: RoomAccess, views: list[ContributionView]
    ) -> dict[str, discussion_service.ThreadSummary]:
        return discussion_service.thread_summaries(
            get_session(), access, [view.id for view in views]
        )

    def questions_waiting(access: RoomAccess) -> int:
        return message_service.unanswered_for_me(get_session(), access)

    return {"discussion_threads": threads, "author_questions_waiting": questions_waiting}


# --- the thread --------------------------------------------------------------------------


def _thread_page(
    access: RoomAccess,
    contribution_id: str,
    *,
    reply_form: ReplyForm | None = None,
    parent: str | None = None,
    resolve_form: ResolveForm | None = None,
    question_form: QuestionForm | None = None,
    status: int = 200,
) -> Any:
    db = get_session()
    found = discussion_service.thread(db, access, contribution_id)
    resolve_form = resolve_form or ResolveForm(formdata=None)
    if resolve_form.summary.data is None and found.resolution:
        resolve_form.summary.data = found.resolution
    return render_template(
        "drafting/thread.html",
        thread=found,
        messages=message_service.messages(db, access, found.head.id)
        if access.is_coordinator or found.head.mine
        else [],
        reply_form=reply_form or ReplyForm(formdata=None),
        # The form at the foot answers the contribution; one under a reply answers that.
        top_reply_form=reply_form
        if reply_form is not None and parent is None
        else ReplyForm(formdata=None),
        parent=parent,
        resolve_form=resolve_form,
        question_form=question_form or QuestionForm(formdata=None),
        numbers=section_numbers(access),
        short_id=found.head.id[: message_service.SHORT_ID],
        # The multilingual room: replies in any working language, translations beside.
        reading=reading_language(db, access),
        beside=translations_beside(db, access),
        **room_context(access),
    ), status


def _to_thread(room_id: str, contribution_id: str) -> Any:
    return redirect(url_for("drafting.thread", room_id=room_id, contribution_id=contribution_id))


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/thread")
@login_required
def thread(room_id: str, contribution_id: str) -> Any:
    """A contribution, the replies to it, its resolution, and (for coordinators and the
    author) the questions to its author."""
    return _thread_page(open_access(room_id), contribution_id)


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/replies", methods=["POST"])
@login_required
def reply(room_id: str, contribution_id: str) -> Any:
    """Reply to a contribution or to a reply in its thread."""
    access = open_access(room_id)
    form = ReplyForm()
    parent = request.form.get("parent") or None
    if form.validate_on_submit():
        try:
            discussion_service.submit_reply(
                get_session(),
                access,
                contribution_id,
                parent,
                form.text.data or "",
                language=request.form.get("language") or None,
            )
        except InvalidInput as exc:
            form.text.errors = [_error(exc)]
        else:
            if access.is_coordinator:
                flash(_("Your reply is posted as the secretariat's."), "notice")
            elif access.room.moderation == "pre":
                flash(
                    _("Thank you. Your reply is shown to others once a coordinator releases it."),
                    "notice",
                )
            else:
                flash(_("Thank you. Your reply is posted; nobody can see who wrote it."), "notice")
            return _to_thread(room_id, contribution_id)
    return _thread_page(access, contribution_id, reply_form=form, parent=parent, status=400)


@blueprint.route("/rooms/<room_id>/replies/<reply_id>/flag", methods=["POST"])
@login_required
def flag_reply(room_id: str, reply_id: str) -> Any:
    """Ask the coordinators, anonymously, to review a reply for safety."""
    access = open_access(room_id)
    db = get_session()
    contribution_id = discussion_service.flag_reply(db, access, reply_id)
    flash(
        _("Thank you. The coordinators will review it for safety. Nobody can see who asked."),
        "notice",
    )
    return _to_thread(room_id, contribution_id)


@blueprint.route("/rooms/<room_id>/replies/<reply_id>/moderate", methods=["POST"])
@login_required
def moderate_reply(room_id: str, reply_id: str) -> Any:
    """Release a reply to members, or hide it and destroy its words (coordinators)."""
    access = open_access(room_id)
    access.require_coordinator()
    db = get_session()
    action = request.form.get("action", "")
    if action == "hide":
        contribution_id = discussion_service.hide_reply(db, access, reply_id, today())
        # The old ciphertext must not linger in SQLite's write-ahead log.
        destroyed_keys()
        flash(_("Hidden. Its words are destroyed: nobody can read them any more."), "notice")
    elif action == "release":
        contribution_id = discussion_service.release_reply(db, access, reply_id, today())
        flash(_("Released: members can now see this reply."), "notice")
    else:
        raise ReplyNotFound
    if request.form.get("back") == "queue":
        return redirect(url_for("drafting.discussion", room_id=room_id))
    return _to_thread(room_id, contribution_id)


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/resolve", methods=["POST"])
@login_required
def resolve(room_id: str, contribution_id: str) -> Any:
    """Mark a thread resolved with a one-line summary, or reopen it (coordinators)."""
    access = open_access(room_id)
    access.require_coordinator()
    db = get_session()
    if request.form.get("action") == "reopen":
        discussion_service.reopen_thread(db, access, contribution_id, today())
        flash(_("The thread is open again."), "notice")
        return _to_thread(room_id, contribution_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            discussion_service.resolve_thread(
                db, access, contribution_id, form.summary.data or "", today()
            )
        except InvalidInput as exc:
            form.summary.errors = [_error(exc)]
        else:
            flash(_("The thread is marked resolved; everyone in the room sees why."), "notice")
            return _to_thread(room_id, contribution_id)
    return _thread_page(access, contribution_id, resolve_form=form, status=400)


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/ask", methods=["POST"])
@login_required
def ask_author(room_id: str, contribution_id: str) -> Any:
    """Send a private question to the contribution's anonymous author (coordinators)."""
    access = open_access(room_id)
    access.require_coordinator()
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            message_service.ask_author(
                get_session(), access, contribution_id, form.question.data or "", today()
            )
        except InvalidInput as exc:
            form.question.errors = [_error(exc)]
        else:
            flash(
                _("Sent. Only the author will see it, at their next visit. Nobody learns who."),
                "notice",
            )
            return _to_thread(room_id, contribution_id)
    return _thread_page(access, contribution_id, question_form=form, status=400)


# --- questions to authors, and the coordinators' review of replies --------------------------


def _questions_page(
    access: RoomAccess, posted: tuple[str, AnswerForm] | None = None, status: int = 200
) -> Any:
    """Every form on the page is named alike; the one just sent comes back with its
    words and its message."""
    page = page_number()
    return render_template(
        "drafting/questions.html",
        found=message_service.messages(get_session(), access, page=page),
        posted_id=posted[0] if posted else None,
        posted=posted[1] if posted else None,
        page=page,
        page_size=PAGE_SIZE,
        **room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/questions")
@login_required
def questions(room_id: str) -> Any:
    """Questions addressed to this member as an author (coordinators: every question)."""
    return _questions_page(open_access(room_id))


@blueprint.route("/rooms/<room_id>/questions/<message_id>/answer", methods=["POST"])
@login_required
def answer_author(room_id: str, message_id: str) -> Any:
    """The author answers a coordinator's question; only coordinators and they read it."""
    access = open_access(room_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            message_service.answer_author(get_session(), access, message_id, form.answer.data or "")
        except InvalidInput as exc:
            form.answer.errors = [_error(exc)]
        else:
            flash(_("Your answer is sent. Only the coordinators will read it."), "notice")
            return redirect(url_for("drafting.questions", room_id=room_id))
    else:
        # Refuse a question that is not theirs before showing any form for it.
        message_service.addressed_to_me(get_session(), access, message_id)
    return _questions_page(access, (message_id, form), status=400)


@blueprint.route("/rooms/<room_id>/discussion")
@login_required
def discussion(room_id: str) -> Any:
    """Replies waiting for a coordinator, flagged ones first (coordinators)."""
    access = open_access(room_id)
    access.require_coordinator()
    page = page_number()
    items, total = discussion_service.review_queue(get_session(), access, page)
    return render_template(
        "drafting/discussion.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        unanswered=message_service.unanswered_author_messages(get_session(), [access.room.id])[
            access.room.id
        ],
        **room_context(access),
    )
