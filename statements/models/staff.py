"""Staff recovery, resets by two admins, the audit trail, and staff notifications."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id

# --- staff recovery and the audit trail ---------------------------------------------------
#
# Staff only. Nothing here names or points to a member, a contribution or an address.


class RecoveryCode(Base):
    """One unused recovery code of a coordinator or admin, kept only as a slow hash.

    All of an account's codes share one salt, so checking a typed code costs a single
    derivation; the codes are random (80 bits), so a shared salt gives nothing away.
    """

    __tablename__ = "recovery_codes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    kdf_params: Mapped[str] = mapped_column(String(200))


class StaffReset(Base):
    """A reset of a staff account, proposed by one admin and waiting for a second."""

    __tablename__ = "staff_resets"
    __table_args__ = ({"sqlite_with_rowid": False},)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    proposed_by: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    proposed_on: Mapped[date]


class AuditAction(enum.StrEnum):
    """What a staff member did, as the audit log names it."""

    ACCOUNT_CREATED = "account-created"
    ACCOUNT_ENROLLED = "account-enrolled"
    ACCOUNT_DISABLED = "account-disabled"
    ACCOUNT_ENABLED = "account-enabled"
    RESET_PROPOSED = "reset-proposed"
    RESET_APPROVED = "reset-approved"
    RESET_ON_SERVER = "reset-on-server"
    RECOVERY_CODES_REPLACED = "recovery-codes-replaced"
    RECOVERY_CODE_USED = "recovery-code-used"
    ROOM_KEYS_RESTORED = "room-keys-restored"
    SIGNING_KEY_SHARED = "signing-key-shared"
    SIGNING_KEY_REPLACED = "signing-key-replaced"
    ROOM_OPENED = "room-opened"
    ROOM_SEALED = "room-sealed"
    PUBLISHED = "published"
    CORRECTED = "corrected"
    RETRACTED = "retracted"


class AuditEntry(Base):
    """One staff action: who (a staff username), what, on which staff account, room,
    statement or key, and the day. Never the time of day, never a member.

    Append-only: the database refuses UPDATE and DELETE (migration 0010).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        one_of("action", AuditAction),
        Index("ix_audit_log_day", "day"),
        # No rowid: random ids, so rows do not keep the order they were written in.
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    day: Mapped[date]
    # The staff account's username; None for the server's command line.
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    # A staff username, a room id, a statement's slug or a signing key id; never a member.
    subject: Mapped[str | None] = mapped_column(String(200))


# --- staff notifications ------------------------------------------------------------------
#
# Coordinators and admins are not anonymous: they may give an email address for digests
# and notices. Nothing here names a member, a contribution or a time of day.


class NoticeFrequency(enum.StrEnum):
    """How often a coordinator or admin wants news by email."""

    DIGEST = "digest"
    IMMEDIATE = "immediate"
    NEVER = "never"


class StaffContact(Base):
    """A staff account's email address and choice of news, for send-notifications.

    The address is sealed under the server's notification key (NOTIFICATION_KEY, kept in
    the settings, never in the database), so the command that sends needs no one's
    unlocked key; `marks` holds, sealed the same way, the counts per room the last
    immediate notice reported, so the next one says only what is new.
    """

    __tablename__ = "staff_contacts"
    __table_args__ = (
        one_of("frequency", NoticeFrequency),
        {"sqlite_with_rowid": False},
    )

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[bytes] = mapped_column(LargeBinary)
    frequency: Mapped[str] = mapped_column(String(16))
    # The interface language the messages are written in.
    language: Mapped[str] = mapped_column(String(16))
    marks: Mapped[bytes | None] = mapped_column(LargeBinary)


class StaffNoticeSent(Base):
    """One digest or notice sent to a staff account, so no second run sends it again.

    `event` is a keyed hash (under the notification key) of what was sent: a digest's
    day, a deadline reminder's room, deadline and lead, an audit entry's id. `day` is the
    day it was sent, so old rows can be pruned.
    """

    __tablename__ = "staff_notices_sent"
    __table_args__ = ({"sqlite_with_rowid": False},)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
