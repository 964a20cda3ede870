"""Database models. The schema itself comes only from the Alembic migrations."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    LargeBinary,
    MetaData,
    String,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def random_id() -> str:
    """A random row id: ids must not reveal creation order (A3)."""
    return secrets.token_hex(16)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


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
        CheckConstraint("role IN ('admin', 'coordinator', 'member')", name="role"),
        CheckConstraint(
            "(role = 'member' AND lookup_id IS NOT NULL AND username IS NULL)"
            " OR (role <> 'member' AND username IS NOT NULL AND lookup_id IS NULL)",
            name="identity",
        ),
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

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Rounded up to the minute: enough for idle expiry, too coarse to time a request.
    expires_at: Mapped[datetime] = mapped_column(index=True)
