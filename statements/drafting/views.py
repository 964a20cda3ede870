"""Drafting pages. Thin: parse, call one service function, map its errors, render."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from statements.auth import auth_config, carries, now
from statements.auth.forms import ButtonForm
from statements.db import Database, checkpoint, destroyed_keys, get_session
from statements.drafting import access as access_service
from statements.drafting import contributions as contribution_service
from statements.drafting import diff as diffs
from statements.drafting import invitations as invitation_service
from statements.drafting import log as log_service
from statements.drafting import moderation as moderation_service
from statements.drafting import rooms as room_service
from statements.drafting import versions as version_service
from statements.drafting.access import PAGE_SIZE, RoomAccess
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    DraftingError,
    EditConflict,
    FlagRefused,
    InvalidInput,
    InvitationInvalid,
    MemberNotFound,
    NotCoordinator,
    NotEligible,
    NotPending,
    PendingCapReached,
    RoomNotFound,
    RoomSealed,
    SupportRefused,
    TitleMismatch,
    UndecidedContributions,
    UnknownSection,
    VersionConflict,
    VersionNotFound,
    WrongState,
)
from statements.drafting.forms import (
    MODERATION_MODES,
    REASON_LABELS,
    ContributionForm,
    CoordinatorForm,
    EditDraftForm,
    InvitationForm,
    MergeForm,
    ModerationModeForm,
    RejectForm,
    RoomForm,
    SealForm,
    draft_too_long_message,
    section_too_long_message,
)
from statements.drafting.markdown import render
from statements.drafting.rooms import FEW_MEMBERS, RoomInput
from statements.drafting.versions import MAX_DRAFT
from statements.languages import direction
from statements.mixing import request_writes
from statements.models import ContributionKind, ContributionStatus, RoomState
from statements.text_checks import identifying_details

blueprint = Blueprint("drafting", __name__)

STATE_NAMES: dict[str, LazyString] = {
    "drafting": _l("Drafting: contributions are open"),
    "consolidating": _l("Consolidating: coordinators are merging contributions"),
    "sign-on": _l("Sign-on: the text is frozen"),
    "published": _l("Published"),
}
KIND_NAMES: dict[str, LazyString] = {
    "amendment": _l("Proposed change"),
    "addition": _l("Proposed addition"),
    "comment": _l("Comment"),
}
# Where a contribution is in moderation (ContributionStatus), as its list shows it.
STATUS_NAMES: dict[str, LazyString] = {
    "pending": _l("pending"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "hidden": _l("hidden"),
    "incorporated": _l("incorporated"),
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
}
# What the preview names when a text seems to hold a detail that identifies someone.
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
}


def markdown_html(text: str) -> Markup:
    """Markdown as HTML for templates (the |markdown filter)."""
    # render() escapes raw HTML and passes its output through bleach's allowlist.
    return Markup(render(text))  # noqa: S704


def diff_labels() -> dict[str, str]:
    """The words a screen reader says before a change, in the reader's language."""
    return {"deleted_label": _("deleted: "), "inserted_label": _("inserted: ")}


def safe_diff(old: str, new: str) -> Markup:
    """A word diff as HTML; diff_html escapes every piece of text itself."""
    return Markup(diffs.diff_html(old, new, **diff_labels()))  # noqa: S704


def today() -> date:
    """Today, UTC, by the app's clock."""
    return now().date()


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,4}", raw) else 1


def _open(room_id: str) -> RoomAccess:
    return access_service.open_room(get_session(), room_id, current_user.identity, request_writes())


def _room_context(access: RoomAccess) -> dict[str, Any]:
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
    }


@blueprint.errorhandler(DraftingError)
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


# --- rooms ----------------------------------------------------------------------------


@blueprint.route("/rooms")
@login_required
def rooms() -> Any:
    """The rooms this account belongs to."""
    return render_template(
        "drafting/rooms.html",
        rooms=room_service.my_rooms(get_session(), current_user.identity),
        state_names=STATE_NAMES,
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
    )


TEXT_ERRORS: dict[str, LazyString] = {
    "required": _l("Write something, within 10,000 characters. Nothing was saved."),
    "too_long": _l("That is longer than 10,000 characters. Nothing was saved."),
    "markup": _l(
        "HTML and scripts are not allowed: write plain text or Markdown. Nothing was saved."
    ),
}
INVISIBLE_CHARACTERS = _l(
    "Remove the invisible formatting characters, such as text-direction controls, from this."
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
}


def _draft_error(exc: InvalidInput) -> str | None:
    """The message, naming the limit, for a draft the service found too long."""
    if exc.field in ("markdown", "upload") and exc.reason == "too_long":
        return draft_too_long_message()
    if exc.reason == "section_too_long":
        return section_too_long_message()
    return None


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
        error = _draft_error(exc) or ROOM_FIELD_ERRORS.get(exc.reason)
        target.errors = [str(error) if error is not None else _("This is not valid.")]
        return render_template("drafting/new_room.html", form=form), 400
    flash(_("The room is open. Invite members from its Invitations page."), "notice")
    return redirect(url_for("drafting.room", room_id=room.id))


@blueprint.route("/rooms/<room_id>")
@login_required
def room(room_id: str) -> Any:
    """The current draft, as numbered sections."""
    access = _open(room_id)
    current = version_service.version(get_session(), access)
    return render_template(
        "drafting/room.html",
        current=current,
        members=room_service.member_count(get_session(), room_id),
        few_members=FEW_MEMBERS,
        **_room_context(access),
    )


@blueprint.route("/rooms/<room_id>/state", methods=["POST"])
@login_required
def change_state(room_id: str) -> Any:
    """Move the room to another stage."""
    access = _open(room_id)
    # Checked here as well as in the service: a member's request stops before any work.
    access.require_coordinator()
    target = request.form.get("target", "")
    if target not in set(RoomState):
        raise WrongState(access.room.state)
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
        views, _total = contribution_service.contributions_page(
            get_session(), access, 1, statuses=[ContributionStatus.PENDING]
        )
        return render_template(
            "drafting/undecided.html",
            target=target,
            target_name=STATE_NAMES[target],
            count=error.count,
            views=views,
            numbers=_section_numbers(access),
            **_room_context(access),
        ), 409
    flash(_("The room is now at: %(stage)s.", stage=STATE_NAMES[target]), "notice")
    return redirect(url_for("drafting.room", room_id=room_id))


@blueprint.route("/rooms/<room_id>/leave", methods=["POST"])
@login_required
def leave(room_id: str) -> Any:
    """Leave the room."""
    room_service.leave_room(get_session(), _open(room_id))
    flash(_("You have left the room."), "notice")
    return redirect(url_for("drafting.rooms"))


@blueprint.route("/rooms/<room_id>/seal", methods=["GET", "POST"])
@login_required
def seal(room_id: str) -> Any:
    """Destroy the room's keys, after typing its working title."""
    access = _open(room_id)
    access.require_coordinator()
    form = SealForm()
    if form.validate_on_submit():
        try:
            room_service.seal_room(get_session(), access, form.title.data or "")
            destroyed_keys()
        except TitleMismatch:
            form.title.errors = [_("That is not the room's working title. Nothing was sealed.")]
        else:
            flash(_("The room is sealed. Its drafting history can never be read again."), "notice")
            return redirect(url_for("drafting.rooms"))
    status = 400 if form.is_submitted() else 200
    return render_template("drafting/seal.html", form=form, **_room_context(access)), status


# --- contributions --------------------------------------------------------------------


def _restoring(form: ContributionForm) -> bool:
    """Fill the form with text carried over a new sign-in (see carries); True if so."""
    if request.method != "POST" or "restore" not in request.form:
        return False
    form.text.data = request.form.get("text", "")
    return True


@blueprint.route("/rooms/<room_id>/contribute", methods=["GET", "POST"])
@login_required
@carries("text", "kind", "section")
def contribute(room_id: str) -> Any:
    """Propose a change or an addition to a section, or comment; preview first if wished."""
    access = _open(room_id)
    kind = request.values.get("kind", "comment")
    anchor = request.values.get("section") or None
    if kind not in set(ContributionKind):
        raise UnknownSection
    current = version_service.version(get_session(), access)
    section = current.section(anchor) if anchor else None
    form = ContributionForm()
    preview = None
    found: tuple[str, ...] = ()
    restored = _restoring(form)
    if not restored and form.validate_on_submit():
        if "preview" in request.form:
            preview = form.text.data or ""
            # A warning, never a refusal: only the member knows whether it is safe.
            found = identifying_details(preview)
        else:
            try:
                contribution_service.submit_contribution(
                    get_session(), access, kind, anchor, form.text.data or "", today()
                )
            except InvalidInput as exc:
                form.text.errors = [str(TEXT_ERRORS.get(exc.reason, TEXT_ERRORS["required"]))]
            else:
                flash(_("Thank you. Your contribution is waiting for moderation."), "notice")
                return redirect(url_for("drafting.mine", room_id=room_id))
    elif not form.is_submitted() and section is not None and kind == "amendment":
        form.text.data = section.markdown
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template(
        "drafting/contribute.html",
        form=form,
        kind=kind,
        section=section,
        preview=preview,
        identifying=[IDENTIFYING_DETAILS[detail] for detail in found],
        **_room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/contributions")
@login_required
def contributions(room_id: str) -> Any:
    """Everyone's contributions in section order, with supports."""
    access = _open(room_id)
    page = _page()
    section = request.args.get("section") or None
    views, total = contribution_service.contributions_page(
        get_session(), access, page, anchor=section
    )
    return render_template(
        "drafting/contributions.html",
        views=views,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        numbers=_section_numbers(access),
        **_room_context(access),
    )


def _section_numbers(access: RoomAccess) -> dict[str, int]:
    current = version_service.version(get_session(), access)
    return {section.anchor: index for index, section in enumerate(current.sections, start=1)}


@blueprint.route("/rooms/<room_id>/mine")
@login_required
def mine(room_id: str) -> Any:
    """This member's own contributions, their status, and reasons for rejections."""
    access = _open(room_id)
    views = contribution_service.my_contributions(get_session(), access)
    return render_template(
        "drafting/mine.html",
        views=views,
        numbers=_section_numbers(access),
        **_room_context(access),
    )


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/support", methods=["POST"])
@login_required
def support(room_id: str, contribution_id: str) -> Any:
    """Add or withdraw an anonymous +1."""
    access = _open(room_id)
    contribution_service.support(
        get_session(), access, contribution_id, request.form.get("supported") == "1"
    )
    return redirect(url_for("drafting.contributions", room_id=room_id))


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/flag", methods=["POST"])
@login_required
def flag(room_id: str, contribution_id: str) -> Any:
    """Ask the coordinators, anonymously, to review a contribution for safety."""
    access = _open(room_id)
    contribution_service.flag(get_session(), access, contribution_id)
    flash(
        _("Thank you. The coordinators will review it for safety. Nobody can see who asked."),
        "notice",
    )
    return redirect(url_for("drafting.contributions", room_id=room_id))


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/edit", methods=["GET", "POST"])
@login_required
@carries("text")
def edit_contribution(room_id: str, contribution_id: str) -> Any:
    """Change one's own pending contribution."""
    access = _open(room_id)
    own = {view.id: view for view in contribution_service.my_contributions(get_session(), access)}
    view = own.get(contribution_id)
    if view is None:
        raise ContributionNotFound
    form = ContributionForm()
    if _restoring(form):
        return render_template(
            "drafting/edit_contribution.html", form=form, view=view, **_room_context(access)
        )
    if form.validate_on_submit():
        try:
            contribution_service.edit_contribution(
                get_session(), access, contribution_id, form.text.data or "", today()
            )
        except InvalidInput as exc:
            form.text.errors = [str(TEXT_ERRORS.get(exc.reason, TEXT_ERRORS["required"]))]
        else:
            flash(_("Your contribution is updated."), "notice")
            return redirect(url_for("drafting.mine", room_id=room_id))
    elif not form.is_submitted():
        form.text.data = view.text
    status = 400 if form.is_submitted() else 200
    return render_template(
        "drafting/edit_contribution.html", form=form, view=view, **_room_context(access)
    ), status


@blueprint.route("/rooms/<room_id>/contributions/<contribution_id>/withdraw", methods=["POST"])
@login_required
def withdraw(room_id: str, contribution_id: str) -> Any:
    """Withdraw one's own pending contribution."""
    contribution_service.withdraw_contribution(get_session(), _open(room_id), contribution_id)
    flash(_("Your contribution is withdrawn and deleted."), "notice")
    return redirect(url_for("drafting.mine", room_id=room_id))


# --- versions -------------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/versions")
@login_required
def versions(room_id: str) -> Any:
    """Every version of the draft, and a word-level diff between any two."""
    access = _open(room_id)
    session = get_session()
    # Versions are numbered 1 to the current one without gaps: the choosers need no
    # decryption, and only the two compared and one page of the list are decrypted.
    newest = access.room.current_version
    first = _version_arg("from", max(newest - 1, 1))
    second = _version_arg("to", newest)
    if not (first <= newest and second <= newest):
        raise VersionNotFound
    old = version_service.version(session, access, first)
    new = old if second == first else version_service.version(session, access, second)
    page = _page()
    pieces = diffs.word_diff(old.markdown, new.markdown)
    inserted, deleted = diffs.counts(pieces)
    # pieces_html escapes every piece of text itself.
    diff = Markup(diffs.pieces_html(pieces, **diff_labels()))  # noqa: S704
    return render_template(
        "drafting/versions.html",
        numbers=range(newest, 0, -1),
        versions=version_service.versions(session, access, page),
        page=page,
        page_size=PAGE_SIZE,
        total=newest,
        old=old,
        new=new,
        diff=diff,
        inserted=inserted,
        deleted=deleted,
        **_room_context(access),
    )


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,5}", raw) else default


@blueprint.route("/rooms/<room_id>/draft", methods=["GET", "POST"])
@login_required
def edit_draft(room_id: str) -> Any:
    """A coordinator edits the draft directly; a new version with a change note."""
    access = _open(room_id)
    access.require_coordinator()
    current = version_service.version(get_session(), access)
    form = EditDraftForm()
    if not form.is_submitted():
        form.markdown.data = current.markdown
        form.expected_version.data = current.number
    conflict = None
    if form.validate_on_submit():
        try:
            number = version_service.edit_draft(
                get_session(),
                access,
                form.markdown.data or "",
                form.note.data or "",
                form.expected_version.data or 0,
                today(),
            )
        except VersionConflict as exc:
            # Their text stays in the form; the newer version is shown beside it.
            conflict = version_service.version(get_session(), access, exc.current_version)
            form.expected_version.data = exc.current_version
        except InvalidInput as exc:
            getattr(form, exc.field, form.markdown).errors = [
                _draft_error(exc) or _("This is required, within limits.")
            ]
        else:
            flash(_("Version %(number)s is saved.", number=number), "notice")
            return redirect(url_for("drafting.room", room_id=room_id))
    status = 409 if conflict else (400 if form.is_submitted() else 200)
    return render_template(
        "drafting/edit_draft.html",
        form=form,
        conflict=conflict,
        conflict_diff=safe_diff(conflict.markdown, form.markdown.data or "") if conflict else None,
        **_room_context(access),
    ), status


# --- moderation -----------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/moderation")
@login_required
def moderation(room_id: str) -> Any:
    """The queue of pending contributions, filterable by section and kind."""
    access = _open(room_id)
    access.require_coordinator()
    mode_form = ModerationModeForm(formdata=None)
    mode_form.moderation.data = access.room.moderation
    return _moderation_page(access, mode_form)


def _moderation_page(access: RoomAccess, mode_form: ModerationModeForm, status: int = 200) -> Any:
    page = _page()
    section = request.args.get("section") or None
    kind = request.args.get("kind") or None
    if kind is not None and kind not in set(ContributionKind):
        kind = None
    views, total = contribution_service.contributions_page(
        get_session(),
        access,
        page,
        statuses=["pending"],
        anchor=section,
        kind=kind,
        flagged_first=True,
    )
    current = version_service.version(get_session(), access)
    return render_template(
        "drafting/moderation.html",
        mode_form=mode_form,
        views=views,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        current=current,
        numbers=_section_numbers(access),
        section=section,
        kind=kind,
        reject_form=RejectForm(formdata=None),
        log=log_service.moderation_log(get_session(), access, 1),
        **_room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/moderation/<contribution_id>", methods=["POST"])
@login_required
def moderate(room_id: str, contribution_id: str) -> Any:
    """Accept, reject, hide, release, or mark as incorporated."""
    access = _open(room_id)
    access.require_coordinator()
    db = get_session()
    action = request.form.get("action", "")
    if action == "accept":
        merge = MergeForm()
        merged = merge.merged_text.data if "merged_text" in request.form else None
        expected_raw = request.form.get("expected_version", "")
        expected = int(expected_raw) if re.fullmatch(r"[0-9]{1,6}", expected_raw) else 0
        try:
            number = moderation_service.accept(
                db, access, contribution_id, expected, today(), merged
            )
        except (EditConflict, VersionConflict) as exc:
            return _conflict(access, contribution_id, exc, merged), 409
        except InvalidInput:
            return _conflict(access, contribution_id, None, merged), 400
        flash(
            _("Accepted; version %(number)s of the draft is saved.", number=number)
            if number
            else _("Accepted."),
            "notice",
        )
    elif action == "reject":
        form = RejectForm()
        if not form.validate():
            message = _("Choose a reason to reject a contribution. Nothing was changed.")
            return render_template("drafting/problem.html", message=message, status=400), 400
        moderation_service.reject(
            db, access, contribution_id, form.reason.data, form.note.data or "", today()
        )
        if moderation_service.destroys_words("reject", form.reason.data):
            # The old ciphertext must not linger in SQLite's write-ahead log.
            destroyed_keys()
            flash(
                _("Rejected as unsafe. Its words are destroyed; the author will see the reason."),
                "notice",
            )
        else:
            flash(_("Rejected. The author will see the reason."), "notice")
    elif action == "hide":
        moderation_service.hide(db, access, contribution_id, today())
        destroyed_keys()
        flash(_("Hidden. Its words are destroyed: nobody can read them any more."), "notice")
    elif action == "release":
        moderation_service.release(db, access, contribution_id, today())
        flash(_("Released: members can now see it. It is still pending."), "notice")
    elif action == "incorporate":
        moderation_service.mark_incorporated(db, access, contribution_id, today())
        flash(_("Marked as incorporated by hand."), "notice")
    else:
        raise NotPending
    return redirect(url_for("drafting.moderation", room_id=room_id))


@blueprint.route("/rooms/<room_id>/moderation-mode", methods=["POST"])
@login_required
def moderation_mode(room_id: str) -> Any:
    """Switch between pre- and post-moderation, with a reason for the log."""
    access = _open(room_id)
    access.require_coordinator()
    form = ModerationModeForm()
    if not form.validate_on_submit():
        # The page again, with what they typed and the message beside the field.
        return _moderation_page(access, form, 400)
    try:
        room_service.set_moderation_mode(
            get_session(), access, form.moderation.data or "", form.reason.data or "", today()
        )
    except InvalidInput:
        form.reason.errors = [_("Say why.")]
        return _moderation_page(access, form, 400)
    flash(_("The moderation mode is changed."), "notice")
    return redirect(url_for("drafting.moderation", room_id=room_id))


def _conflict(
    access: RoomAccess,
    contribution_id: str,
    exc: EditConflict | VersionConflict | None,
    merged: str | None,
) -> str:
    current = version_service.version(get_session(), access)
    own = {
        view.id: view
        for view in contribution_service.contributions_page(
            get_session(), access, 1, statuses=["pending"]
        )[0]
    }
    proposed = exc.proposed_text if isinstance(exc, EditConflict) else ""
    section_text = exc.current_text if isinstance(exc, EditConflict) else ""
    form = MergeForm(formdata=None)
    form.merged_text.data = merged if merged is not None else proposed
    form.expected_version.data = current.number
    return render_template(
        "drafting/conflict.html",
        form=form,
        contribution_id=contribution_id,
        view=own.get(contribution_id),
        proposed=proposed,
        section_text=section_text,
        version_changed=isinstance(exc, VersionConflict),
        **_room_context(access),
    )


# --- invitations and members ----------------------------------------------------------


@blueprint.route("/rooms/<room_id>/invitations", methods=["GET", "POST"])
@login_required
def invitations(room_id: str) -> Any:
    """Create, list and revoke invitation links."""
    access = _open(room_id)
    access.require_coordinator()
    form = InvitationForm()
    created = None
    status = 200
    if not form.is_submitted():
        form.expires_on.data = today() + timedelta(days=7)
    elif form.validate_on_submit():
        try:
            _invitation, token = invitation_service.create_invitation(
                get_session(), access, form.uses.data or 1, form.expires_on.data, today()
            )
        except InvalidInput:
            form.expires_on.errors = [_("Choose a date between today and a year from now.")]
            status = 400
        else:
            link = url_for("drafting.invitation", token=token, _external=True)
            created = (link, _qr(link))
            status = 201
    else:
        status = 400
    return render_template(
        "drafting/invitations.html",
        form=form,
        created=created,
        invitations=invitation_service.invitations(get_session(), access),
        today=today(),
        **_room_context(access),
    ), status


def _qr(link: str) -> Markup:
    from statements.auth.views import qr_svg

    # segno's SVG holds only paths and the fixed title: no user text.
    return Markup(qr_svg(link, _("QR code of the invitation link")))  # noqa: S704


@blueprint.route("/rooms/<room_id>/invitations/<invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(room_id: str, invitation_id: str) -> Any:
    """Revoke an invitation."""
    invitation_service.revoke_invitation(get_session(), _open(room_id), invitation_id)
    destroyed_keys()
    flash(_("The invitation no longer works."), "notice")
    return redirect(url_for("drafting.invitations", room_id=room_id))


@blueprint.route("/rooms/<room_id>/members", methods=["GET", "POST"])
@login_required
def members(room_id: str) -> Any:
    """Members by room number; add a coordinator."""
    access = _open(room_id)
    form = CoordinatorForm()
    status = 200
    if form.validate_on_submit():
        try:
            room_service.add_coordinator(get_session(), access, form.username.data or "")
        except NotEligible:
            form.username.errors = [
                _("There is no active coordinator or admin with that username.")
            ]
            status = 400
        else:
            flash(_("They are now a coordinator of this room."), "notice")
            return redirect(url_for("drafting.members", room_id=room_id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "drafting/members.html",
        form=form,
        members=room_service.members(get_session(), access),
        **_room_context(access),
    ), status


@blueprint.route("/rooms/<room_id>/members/<number>/remove", methods=["POST"])
@login_required
def remove_member(room_id: str, number: str) -> Any:
    """Remove a member; the room key is rotated."""
    access = _open(room_id)
    # Checked here as well as in the service: a member's request stops before any work.
    access.require_coordinator()
    room_service.remove_member(get_session(), access, number, today())
    flash(_("The member is removed and the room's key has been changed."), "notice")
    return redirect(url_for("drafting.members", room_id=room_id))


# --- joining by invitation ------------------------------------------------------------


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """Follow an invitation: join with this account, or create a codename account and join."""
    from statements.auth import service as auth_service
    from statements.auth.views import codename_page, open_session_response

    day = today()
    _purge_expired_invitations(day)
    db = get_session()
    title = invitation_service.invitation_room_title(db, token, day)
    form = ButtonForm()
    if not form.validate_on_submit():
        return render_template("drafting/invitation.html", title=title, form=form, token=token)
    # The last use of an invitation destroys its keys.
    destroyed_keys()
    if current_user.is_authenticated:
        room = invitation_service.accept_invitation(db, token, current_user.identity, day)
        flash(_("Welcome to the drafting room."), "notice")
        return redirect(url_for("drafting.room", room_id=room.id))
    account, codename, keys = auth_service.create_member(db, auth_config())
    identity = auth_service.Identity(account, keys, session_id_hash=b"", session_key=b"")
    room = invitation_service.accept_invitation(db, token, identity, day)
    return open_session_response(
        account,
        keys,
        lambda: codename_page(account, codename, url_for("drafting.room", room_id=room.id)),
        201,
    )


def _purge_expired_invitations(day: date) -> None:
    """Destroy expired invitations' keys in a transaction of their own, committed now.

    The request that follows may well end in a 404, and a 4xx writes nothing: the keys
    of the expired link it was asked about must not survive that.
    """
    database: Database = current_app.extensions["db"]
    with database.sessionmaker() as purge:
        if invitation_service.purge_expired_invitations(purge, day):
            purge.commit()
            checkpoint(database.engine)
