"""What the pages of every feature share: the words for a room's stage and for the
languages, the Markdown and diff filters, and today's date by the app's clock.

Features never import each other's views; what two of them show alike lives here."""

from __future__ import annotations

from datetime import date

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from statements.auth import now
from statements.models import AuditAction
from statements.text import diff as diffs
from statements.text.changes import rendered_diff_html
from statements.text.markdown import render

LANGUAGE_NAMES: dict[str, LazyString] = {
    "en": _l("English"),
    "th": _l("Thai"),
    "my": _l("Burmese"),
    "ms": _l("Malay"),
    "fa": _l("Farsi"),
    "prs": _l("Dari"),
    "ps": _l("Pashto"),
    "id": _l("Indonesian"),
    "km": _l("Khmer"),
    "ar": _l("Arabic"),
    "bn": _l("Bengali"),
    "ur": _l("Urdu"),
}
STATE_NAMES: dict[str, LazyString] = {
    "drafting": _l("Drafting: contributions are open"),
    "consolidating": _l("Consolidating: coordinators are merging contributions"),
    "sign-on": _l("Sign-on: the text is frozen"),
    "published": _l("Published"),
}
INVISIBLE_CHARACTERS = _l(
    "Remove the invisible formatting characters, such as text-direction controls, from this."
)


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


def rendered_diff(old: str, new: str) -> Markup:
    """A word diff of two Markdown texts, formatted, changes announced (|rendered_diff)."""
    # rendered_diff_html renders through the sanitiser and escapes every piece of text.
    return Markup(rendered_diff_html(old, new, **diff_labels()))  # noqa: S704


def today() -> date:
    """Today, UTC, by the app's clock."""
    return now().date()


def qr_svg(data: str, title: str) -> str:
    """An inline SVG QR code: no image request, no JavaScript."""
    import segno  # on first use: only the invitation and set-up pages draw a QR code

    return str(segno.make(data, error="m").svg_inline(scale=4, border=4, title=title))


# What each audit action is called: on the audit page and in admins' notices.
AUDIT_ACTION_NAMES: dict[str, LazyString] = {
    AuditAction.ACCOUNT_CREATED: _l("Account created"),
    AuditAction.ACCOUNT_ENROLLED: _l("Account set up"),
    AuditAction.ACCOUNT_DISABLED: _l("Account disabled"),
    AuditAction.ACCOUNT_ENABLED: _l("Account enabled again"),
    AuditAction.RESET_PROPOSED: _l("Reset proposed"),
    AuditAction.RESET_APPROVED: _l("Reset approved"),
    AuditAction.RESET_ON_SERVER: _l("Reset on the server"),
    AuditAction.RECOVERY_CODES_REPLACED: _l("Recovery codes replaced"),
    AuditAction.RECOVERY_CODE_USED: _l("Recovery code used"),
    AuditAction.ROOM_KEYS_RESTORED: _l("Room keys restored"),
    AuditAction.SIGNING_KEY_SHARED: _l("Signing key shared"),
    AuditAction.SIGNING_KEY_REPLACED: _l("Signing key replaced"),
    AuditAction.ROOM_OPENED: _l("Room opened"),
    AuditAction.ROOM_SEALED: _l("Room sealed"),
    AuditAction.PUBLISHED: _l("Statement published"),
    AuditAction.CORRECTED: _l("Statement corrected"),
    AuditAction.RETRACTED: _l("Statement retracted"),
}
