"""The words of a digest or notice, in the recipient's interface language.

Only numbers, stages and dates: never a title, a draft, a contribution, a reason or a
name, all of which are encrypted at rest and would leave the server in clear in a mail.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from statements.i18n import catalogue_locale
from statements.notifications.digest import Outgoing, RoomNews
from statements.pages import AUDIT_ACTION_NAMES, STATE_NAMES


def _room_lines(news: RoomNews, reminder: int | None) -> list[str]:
    lines = [
        _("Room %(number)s (%(stage)s):", number=news.number, stage=str(STATE_NAMES[news.state]))
    ]
    if news.pending:
        lines.append(
            ngettext(
                "%(num)d contribution waits for a decision",
                "%(num)d contributions wait for a decision",
                news.pending,
            )
        )
    if news.flags:
        lines.append(
            ngettext(
                "%(num)d contribution is flagged for a safety review",
                "%(num)d contributions are flagged for a safety review",
                news.flags,
            )
        )
    if news.questions:
        lines.append(
            ngettext(
                "%(num)d question to an author is not answered yet",
                "%(num)d questions to authors are not answered yet",
                news.questions,
            )
        )
    if news.signons is not None:
        lines.append(
            ngettext(
                "%(num)d organisation has signed on",
                "%(num)d organisations have signed on",
                news.signons,
            )
        )
    if news.deadline is not None and news.days_left is not None and news.deadline_near:
        if reminder is not None:
            lines.append(
                ngettext(
                    "Reminder: the deadline is %(date)s, in %(num)d day",
                    "Reminder: the deadline is %(date)s, in %(num)d days",
                    news.days_left,
                    date=news.deadline.isoformat(),
                )
                if news.days_left
                else _("Reminder: the deadline is today, %(date)s", date=news.deadline.isoformat())
            )
        else:
            lines.append(
                ngettext(
                    "The deadline is %(date)s, in %(num)d day",
                    "The deadline is %(date)s, in %(num)d days",
                    news.days_left,
                    date=news.deadline.isoformat(),
                )
                if news.days_left
                else _("The deadline is today, %(date)s", date=news.deadline.isoformat())
            )
    return [lines[0]] + [f"  - {line}" for line in lines[1:]]


def body_and_subject(item: Outgoing) -> tuple[str, str]:
    """The subject and plain-text body, in the recipient's language."""
    with force_locale(catalogue_locale(item.language)):
        if item.kind == "digest":
            subject = _("Joint statements: your daily digest")
            opening = _("What waits for you in your rooms today.")
        else:
            subject = _("Joint statements: news in your rooms")
            opening = _("Something new waits for you.")
        parts = [opening, ""]
        for news in item.rooms:
            parts.extend(_room_lines(news, item.reminders.get(news.room_id)))
            parts.append("")
        if item.events:
            parts.append(_("Account and signing-key events:"))
            for action, count in sorted(item.events.items()):
                parts.append(f"  - {AUDIT_ACTION_NAMES[action]}: {count}")
            parts.append("")
        parts.append(
            _(
                "Sign in to act on them. This message names rooms only by number and holds "
                "none of their words. To change or stop these messages, open your account's "
                "notification settings."
            )
        )
    return str(subject), "\n".join(parts) + "\n"


def compose(item: Outgoing, sender: str, moment: datetime) -> EmailMessage:
    """A plain-text message with correct Date and Message-ID headers."""
    subject, body = body_and_subject(item)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = item.email
    message["Subject"] = subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[1])
    message["Content-Language"] = item.language
    # Mark it automatic, so no mail server answers it with an out-of-office reply.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message
