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
    VersionConflict,
    VersionNotFound,
)
from statements.drafting.forms import (
    EditDraftForm,
)
from statements.drafting.views.common import (
    blueprint,
    draft_error,
    open_access,
    page_number,
    room_context,
)
from statements.pages import diff_labels, safe_diff, today
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
    """A coordinator edits the draft directly; a new version with a change note."""
    access = open_access(room_id)
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
                draft_error(exc) or _("This is required, within limits.")
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
        **room_context(access),
    ), status
