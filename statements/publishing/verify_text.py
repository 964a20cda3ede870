"""/verify for forwarded copies: a pasted text, or a PDF or Word file from this site.

The view half of statements/publishing/forwarded.py: it reads what was sent, within
limits, and turns the verdict or the reason there is none into words. What was sent is
neither logged nor kept: it lives in this request only.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from statements.db import get_session
from statements.pages import diff_labels
from statements.publishing import forwarded, forwarded_files
from statements.publishing.errors import UnreadableDocument
from statements.publishing.forms import VerifyForm
from statements.text.diff import pieces_html

# A statement is at most 200,000 characters; with its title, signatories and a page's
# furniture, a paste of one stays well under this.
MAX_PASTE = 400_000

REASONS: dict[str, LazyString] = {
    "empty": _l("Paste the text of a statement, or choose its PDF or Word file."),
    "type": _l(
        "That file is not a PDF or a Word (.docx) file. Choose the PDF or Word file of a "
        "statement from this site, or paste its text."
    ),
    "encrypted": _l(
        "That PDF is locked with a password, so its text cannot be read. Paste its text instead."
    ),
    "corrupt": _l("That file is damaged or is not what its name says: its text cannot be read."),
    "too_large": _l("That holds more text than any statement of this site."),
    "no_text": _l("That file holds no text to compare (it may be a scan). Paste the text instead."),
    "too_short": _l(
        "That is too short to tell one statement from another: give at least a sentence or two."
    ),
}
STATUS = {"too_large": 413}


def check(form: VerifyForm) -> tuple[dict[str, Any], int]:
    """The page's context and status for a forwarded text or file."""
    try:
        text = _read(form)
    except UnreadableDocument as error:
        return {"text_problem": REASONS[error.reason]}, STATUS.get(error.reason, 400)
    index = forwarded.index_of(current_app.extensions)
    verdict = forwarded.identify(get_session(), index, text)
    if verdict.too_short:
        return {"text_problem": REASONS["too_short"]}, 400
    closest = None
    if verdict.closest is not None:
        # pieces_html escapes every piece of text itself.
        closest = Markup(pieces_html(verdict.closest.pieces, **diff_labels()))  # noqa: S704
    return {"verdict": verdict, "closest_diff": closest}, 200


def _read(form: VerifyForm) -> str:
    upload = form.statement_file.data
    if upload and getattr(upload, "filename", ""):
        data = upload.read()
        if not data:
            raise UnreadableDocument("empty")
        return forwarded_files.text_of(data)
    text = form.statement_text.data or ""
    if len(text) > MAX_PASTE:
        raise UnreadableDocument("too_large")
    if not text.strip():
        raise UnreadableDocument("empty")
    return text
