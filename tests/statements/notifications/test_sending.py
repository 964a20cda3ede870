"""send-notifications, end to end: a real SMTP server receives the digest and notices."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.author_messages import ask_author
from statements.drafting.contributions import flag
from statements.i18n import LANGUAGES
from statements.models import Account, AuditAction, Role, StaffNoticeSent
from statements.notifications import contacts
from statements.notifications.digest import room_number
from statements.staff import audit
from tests.statements.notifications.conftest import SENDER, SMTP_USER, Inbox
from tests.support import app_now, join_room, make_room, member_identity, staff_identity

TITLE = "Kestrel harbour declaration"
WORDS = "Marigold wording about the detention centre"
QUESTION = "Quokka question for the author"
MailingApp = Callable[..., Flask]


def _seed(
    app: Flask, session: Session, key: str, *, frequency: str = "digest", language: str = "fa"
) -> tuple[Identity, Identity, str]:
    """A coordinator with an address, a room with a known title, a member's contribution
    (flagged, and asked about)."""
    today = app.extensions["clock"]().date()
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator, title=TITLE, today=today)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    access = drafting.open_room(session, room_id, member)
    anchors = [s.anchor for s in drafting.version(session, access).sections]
    contribution = drafting.submit_contribution(
        session, access, "comment", anchors[0], WORDS, today
    )
    other = member_identity(app, session)
    join_room(session, coordinator, room_id, other)
    flag(session, drafting.open_room(session, room_id, other), contribution.id)
    ask_author(
        session, drafting.open_room(session, room_id, coordinator), contribution.id, QUESTION, today
    )
    contacts.save_contact(
        session,
        contacts.NotificationKeys.derive(key),
        coordinator.account,
        "coordinator@example.org",
        frequency,
        language,
        frozenset(LANGUAGES),
    )
    session.commit()
    return coordinator, member, room_id


def _send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    return result.output


def _translated(app: Flask, language: str, text: str) -> str:
    with app.app_context(), force_locale(language):
        return gettext(text)


def test_the_digest_arrives_in_the_recipients_language_without_words(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _coordinator, _member, room_id = _seed(app, session, notification_key)
    mailer = mailing_app(plain_smtp)
    before = app_now().replace(microsecond=0)
    assert "1 notifications sent" in _send(mailer)

    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.recipients == [["coordinator@example.org"]]
    assert message["From"] == SENDER
    subject = _translated(mailer, "fa", "Joint statements: your daily digest")
    assert subject != "Joint statements: your daily digest"
    assert message["Subject"] == subject
    body = message.get_content()
    assert _translated(mailer, "fa", "What waits for you in your rooms today.") in body
    with mailer.app_context(), force_locale("fa"):
        pending = ngettext(
            "%(num)d contribution waits for a decision",
            "%(num)d contributions wait for a decision",
            1,
        )
    assert pending in body
    assert room_number(room_id) in body
    assert room_id not in body
    # Nothing encrypted at rest leaves in the mail: no title, no contribution, no question.
    raw = message.as_string()
    for secret in (TITLE, "Kestrel", WORDS, "Marigold", QUESTION, "Quokka", "right to work"):
        assert secret.lower() not in raw.lower()
    # Date: now, as RFC 5322 writes it; Message-ID: unique, at the sender's domain.
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert sent_at.tzinfo is not None
    assert before - timedelta(minutes=1) <= sent_at <= app_now() + timedelta(minutes=1)
    assert re.fullmatch(r"<[^<>@\s]+@statements\.test>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_second_run_sends_nothing_twice(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _seed(app, session, notification_key)
    mailer = mailing_app(plain_smtp)
    _send(mailer)
    assert "0 notifications sent" in _send(mailer)
    assert len(inbox.messages) == 1
    # The next day brings the next digest, once.
    app.extensions["clock"].advance(days=1)
    _send(mailer)
    _send(mailer)
    assert len(inbox.messages) == 2


def test_immediate_notices_say_only_what_is_new(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _coordinator, member, room_id = _seed(
        app, session, notification_key, frequency="immediate", language="en"
    )
    mailer = mailing_app(plain_smtp)
    _send(mailer)
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"] == "Joint statements: news in your rooms"
    _send(mailer)
    assert len(inbox.messages) == 1, "nothing new: nothing sent"

    # A second contribution: news.
    today = app.extensions["clock"]().date()
    access = drafting.open_room(session, room_id, member)
    anchors = [s.anchor for s in drafting.version(session, access).sections]
    drafting.submit_contribution(session, access, "comment", anchors[0], "More words", today)
    session.commit()
    _send(mailer)
    assert len(inbox.messages) == 2
    assert "2 contributions wait for a decision" in inbox.messages[1].get_content()
    _send(mailer)
    assert len(inbox.messages) == 2


def test_deadline_reminders_three_days_and_one_day_before(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _coordinator, _member, room_id = _seed(
        app, session, notification_key, frequency="immediate", language="en"
    )
    mailer = mailing_app(plain_smtp)
    _send(mailer)
    assert "Reminder" not in inbox.messages[0].get_content()
    clock = app.extensions["clock"]
    # make_room's contribution deadline is fourteen days away.
    deadline = clock().date() + timedelta(days=14)
    clock.advance(days=11)
    _send(mailer)
    _send(mailer)
    assert len(inbox.messages) == 2
    body = inbox.messages[1].get_content()
    assert f"Reminder: the deadline is {deadline.isoformat()}, in 3 days" in body
    assert f"Room {room_number(room_id)}" in body
    clock.advance(days=1)
    _send(mailer)
    assert len(inbox.messages) == 2, "two days before: no reminder of its own"
    clock.advance(days=1)
    _send(mailer)
    _send(mailer)
    assert len(inbox.messages) == 3
    assert "in 1 day" in inbox.messages[2].get_content()


def test_admins_hear_of_account_and_signing_key_events(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    admin = staff_identity(app, session, "admin", Role.ADMIN)
    contacts.save_contact(
        session,
        contacts.NotificationKeys.derive(notification_key),
        admin.account,
        "admin@example.org",
        "immediate",
        "en",
        frozenset(LANGUAGES),
    )
    today = app.extensions["clock"]().date()
    audit.record(session, admin.account, AuditAction.SIGNING_KEY_REPLACED, "abcd1234", today)
    audit.record(session, admin.account, AuditAction.ACCOUNT_CREATED, "newcoord", today)
    session.commit()
    mailer = mailing_app(plain_smtp)
    _send(mailer)
    _send(mailer)
    assert len(inbox.messages) == 1
    body = inbox.messages[0].get_content()
    assert "Signing key replaced: 1" in body
    assert "Account created: 1" in body
    # Names and key ids stay on the audit page.
    assert "newcoord" not in body
    assert "abcd1234" not in body


def test_starttls_with_credentials_and_a_verified_certificate(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    starttls_smtp: str,
    tls_files: tuple[Path, Path],
    inbox: Inbox,
    notification_key: str,
) -> None:
    _seed(app, session, notification_key, language="ar")
    mailer = mailing_app(starttls_smtp, tls_files[0])
    _send(mailer)
    assert inbox.logins == [SMTP_USER]
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"] == _translated(
        mailer, "ar", "Joint statements: your daily digest"
    )


def test_an_untrusted_certificate_sends_nothing_and_says_why(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    starttls_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _seed(app, session, notification_key)
    mailer = mailing_app(starttls_smtp)  # the system's trust store: the test cert is unknown
    result = mailer.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code != 0
    assert "nothing was sent" in result.output
    assert "p@ss" not in result.output
    assert "secret" not in result.output
    assert inbox.messages == []
    # Nothing is recorded as sent: the next run (with the right trust) sends it.
    assert session.scalar(select(func.count()).select_from(StaffNoticeSent)) == 0


def test_without_smtp_url_nothing_is_sent(
    app: Flask, session: Session, mailing_app: MailingApp, inbox: Inbox, notification_key: str
) -> None:
    _seed(app, session, notification_key)
    output = _send(mailing_app(None))
    assert "SMTP_URL is not set" in output
    assert session.scalar(select(func.count()).select_from(StaffNoticeSent)) == 0


def test_disabled_accounts_and_those_who_chose_nothing_get_nothing(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    coordinator, _member, _room_id = _seed(app, session, notification_key)
    keys = contacts.NotificationKeys.derive(notification_key)
    account = session.get(Account, coordinator.account.id)
    assert account is not None
    contacts.save_contact(
        session, keys, account, "c@example.org", "never", "en", frozenset(LANGUAGES)
    )
    session.commit()
    mailer = mailing_app(plain_smtp)
    _send(mailer)
    contacts.save_contact(
        session, keys, account, "c@example.org", "digest", "en", frozenset(LANGUAGES)
    )
    account.disabled = True
    session.commit()
    _send(mailer)
    assert inbox.messages == []


def test_tls_from_the_first_byte(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    tls_smtp: str,
    tls_files: tuple[Path, Path],
    inbox: Inbox,
    notification_key: str,
) -> None:
    _seed(app, session, notification_key, language="my")
    _send(mailing_app(tls_smtp, tls_files[0]))
    assert inbox.logins == [SMTP_USER]
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Subject"] == _translated(
        mailing_app(None), "my", "Joint statements: your daily digest"
    )


def test_smtp_without_starttls_on_offer_sends_nothing(
    app: Flask,
    session: Session,
    mailing_app: MailingApp,
    plain_smtp: str,
    inbox: Inbox,
    notification_key: str,
) -> None:
    _seed(app, session, notification_key)
    # The same server, asked for smtp:// (STARTTLS required): it offers none.
    mailer = mailing_app(plain_smtp.replace("smtp+plain://", "smtp://"))
    result = mailer.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code != 0
    assert "does not offer STARTTLS" in result.output
    assert inbox.messages == []
    assert session.scalar(select(func.count()).select_from(StaffNoticeSent)) == 0
