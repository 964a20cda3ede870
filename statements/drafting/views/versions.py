"""Versions of the draft: the history, diffs between versions, and whole-draft edits."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from statements.db import get_session
from statements.drafting import versions as version_service
from statements.drafting.access import PAGE_SIZE
from statements.drafting.errors import (
    InvalidInput,
    MergeNeeded,
    VersionNotFound,
)
from statements.drafting.forms import (
    EditDraftForm,
)
from statements.drafting.views.common import (
    blueprint,
    draft_error,
    draft_merge_labels,
    merge_error,
    open_access,
    page_number,
    room_context,
)
from statements.pages import diff_labels, today
from statements.text import diff as diffs

# --- versions -------------------------------------------------------------------------


@blueprint.route("/rooms/<room_id>/versions")
@login_required
def versions(room_id: str) -> Any:
    """Every version of the draft, and a word-level diff between any two."""
    access = open_access(room_id)
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
    page = page_number()
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
        **room_context(access),
    )


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if re.fullmatch(r"[1-9][0-9]{0,5}", raw) else default


@blueprint.route("/rooms/<room_id>/draft", methods=["GET", "POST"])
@login_required
def edit_draft(room_id: str) -> Any:
    """A coordinator edits the draft directly; a new version with a change note.

    If another coordinator saved meanwhile, edits of different sections are merged and
    saved; edits of the same section come back merged three ways, conflicts marked."""
    access = open_access(room_id)
    access.require_coordinator()
    current = version_service.version(get_session(), access)
    form = EditDraftForm()
    if not form.is_submitted():
        form.markdown.data = current.markdown
        form.expected_version.data = current.number
    merge = None
    if form.validate_on_submit():
        started_from = form.expected_version.data or 0
        try:
            number = version_service.edit_draft(
                get_session(),
                access,
                form.markdown.data or "",
                form.note.data or "",
                started_from,
                today(),
                draft_merge_labels(),
            )
        except MergeNeeded as exc:
            # The box gets the merge, never their stale text: saving it as offered keeps
            # the other coordinator's edit.
            merge = exc.merge
            form.markdown.data = exc.merge.merged
            form.expected_version.data = exc.number
        except InvalidInput as exc:
            getattr(form, exc.field, form.markdown).errors = [
                merge_error(exc)
                if exc.reason == "conflict_markers"
                else draft_error(exc) or _("This is required, within limits.")
            ]
        else:
            if number > started_from + 1:
                flash(
                    _(
                        "Someone else saved a version while you were editing; your changes "
                        "were to other sections and are merged with theirs. Version "
                        "%(number)s is saved.",
                        number=number,
                    ),
                    "notice",
                )
            else:
                flash(_("Version %(number)s is saved.", number=number), "notice")
            return redirect(url_for("drafting.room", room_id=room_id))
    status = 409 if merge else (400 if form.is_submitted() else 200)
    return render_template(
        "drafting/edit_draft.html",
        form=form,
        merge=merge,
        **room_context(access),
    ), status
