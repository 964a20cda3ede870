"""Accounts and their login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id


class Role(enum.StrEnum):
    """What an account may do across the platform."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    MEMBER = "member"


class Account(Base):
    """An account. Members have no name: a peppered lookup id finds their row.

    Everything secret is wrapped under the account's master key, which is derived
    from the codename or passphrase and never stored. There is deliberately no
    creation time, last-login time, address or user agent column.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        one_of("role", Role),
        CheckConstraint(
            "(role = 'member' AND lookup_id IS NOT NULL AND username IS NULL)"
            " OR (role <> 'member' AND username IS NOT NULL AND lookup_id IS NULL)",
            name="identity",
        ),
        # No rowid anywhere: it would count insertions (migration 0004).
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    role: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    lookup_id: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    # Raised to end every login session of the account at once (see LoginSession).
    session_epoch: Mapped[int] = mapped_column(default=0)

    # Null until a coordinator or admin has completed enrolment.
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    kdf_params: Mapped[str | None] = mapped_column(String(200))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_author_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Coordinators and admins: the TOTP secret and the last time step used, wrapped
    # together under the master key so the last step (a login time) is not readable.
    wrapped_totp: Mapped[bytes | None] = mapped_column(LargeBinary)

    # A pending enrolment: SHA-256 of the one-time link token, and when it lapses.
    enrolment_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    enrolment_expires_at: Mapped[datetime | None]

    @property
    def enrolled(self) -> bool:
        """True once the account has keys."""
        return self.wrapped_private_key is not None

    @property
    def is_staff(self) -> bool:
        """Coordinators and admins sign in with a passphrase and TOTP."""
        return self.role != Role.MEMBER


class LoginSession(Base):
    """The server half of a login session.

    The cookie holds the session id and a random session key; this row holds only a
    hash of the id and, sealed under the session key, the account id, its session
    epoch and its unlocked keys. Neither half alone unlocks anything, and the row does
    not say whose it is. Idle expiry and logout delete the row.
    """

    __tablename__ = "login_sessions"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Rounded up to the minute: enough for idle expiry, too coarse to time a request.
    expires_at: Mapped[datetime] = mapped_column(index=True)
