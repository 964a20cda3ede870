"""Database models. The schema itself comes only from the Alembic migrations."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
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


def one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    """A CHECK that column holds one of an enum's values: the enum is the one source."""
    allowed = ", ".join(f"'{value.value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


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


# --- drafting -------------------------------------------------------------------------
#
# What is stored plain: that a room exists, its state, dates and language, who is a
# member, and per contribution its section anchor (a random id), kind, status and day.
# Everything anyone typed is a ciphertext under the room key. Tables whose rows must not
# reveal the order they were written in are WITHOUT ROWID on SQLite, and every id is
# random, so neither ids nor rowids count submissions.


class RoomState(enum.StrEnum):
    """Where a room is in the life of a statement."""

    DRAFTING = "drafting"
    CONSOLIDATING = "consolidating"
    SIGN_ON = "sign-on"
    PUBLISHED = "published"


class RoomRole(enum.StrEnum):
    """What an account may do in one room."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


class ModerationMode(enum.StrEnum):
    """When members see each other's contributions."""

    # Only the author and the coordinators see a contribution until it is accepted or
    # released: words that could hurt someone are caught before anyone reads them.
    PRE = "pre"
    # Every member sees every contribution at once (the behaviour before modes existed).
    POST = "post"


class Room(Base):
    """A drafting room: its title and summary are a ciphertext under the room key."""

    __tablename__ = "rooms"
    __table_args__ = (
        one_of("state", RoomState),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    state: Mapped[str] = mapped_column(String(16), default=RoomState.DRAFTING)
    language: Mapped[str] = mapped_column(String(16))
    contribution_deadline: Mapped[date]
    signon_deadline: Mapped[date]
    key_version: Mapped[int] = mapped_column(default=1)
    # The newest draft version; compared-and-swapped so two coordinators never
    # overwrite each other's work.
    current_version: Mapped[int] = mapped_column(default=1)
    pending_cap: Mapped[int] = mapped_column(default=20)
    # A member left: the next coordinator to open the room rotates its key.
    rotation_due: Mapped[bool] = mapped_column(default=False)
    sealed: Mapped[bool] = mapped_column(default=False)
    # New rooms are pre-moderated; rooms opened before modes existed (no value written)
    # stay post-moderated, since their members have already seen everything.
    moderation: Mapped[str] = mapped_column(
        String(16), default=ModerationMode.PRE, server_default=ModerationMode.POST
    )
    # Members see the reasons of each other's objections (coordinators always do).
    show_reasons: Mapped[bool] = mapped_column(default=False, server_default=false())
    details: Mapped[bytes] = mapped_column(LargeBinary)
    # The last change of the deadlines, as members read it on the room page: the new
    # dates and the coordinator's reason, sealed under the key version beside it.
    deadline_notice: Mapped[bytes | None] = mapped_column(LargeBinary)
    deadline_notice_key_version: Mapped[int | None]
    # The languages the draft is kept in besides its source language (Room.language),
    # space-separated codes: which languages a room works in is no more secret than its
    # source language, and pages need it before any key is open (migration 0011).
    working_languages: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The coordinators raised the two-person rule for this room (statements/control/):
    # a room can raise it above the deployment's setting, never lower it.
    two_person: Mapped[bool] = mapped_column(default=False, server_default=false())


class RoomMember(Base):
    """Membership is stored plain: the design allows who is in a room to be known."""

    __tablename__ = "room_members"
    __table_args__ = (
        one_of("role", RoomRole),
        # No rowid: it would record the order in which members joined.
        {"sqlite_with_rowid": False},
    )

    room_id: Mapped[str] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=RoomRole.MEMBER)


class RoomKey(Base):
    """One version of a room key, sealed to one member's public key."""

    __tablename__ = "room_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    room_id: Mapped[str] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class Invitation(Base):
    """An invitation link: the room's keys wrapped under the link's secret."""

    __tablename__ = "invitations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    # Destroyed when the invitation is used up, revoked, outdated by a key rotation,
    # or the room is sealed.
    wrapped_keys: Mapped[bytes | None] = mapped_column(LargeBinary)
    uses_left: Mapped[int]
    expires_on: Mapped[date]
    revoked: Mapped[bool] = mapped_column(default=False)
    # Invitations made since migration 0008 carry the room's keys sealed to a keypair of
    # their own: wrapped_keys then holds only its private half (under the link secret),
    # and sealed_keys each key version sealed to public_key. A key rotation seals the
    # new version to public_key without knowing the link, so the invitation lives on.
    # Older invitations (public_key None) hold the keys in wrapped_keys and are withdrawn.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    sealed_keys: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The coordinators' own note of whom it is for, sealed under the room key version
    # beside it: members never see it.
    label: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_key_version: Mapped[int | None]
    # The link, until the page after its creation has shown it once: sealed under the
    # creating login session's key, which only that browser's cookie holds.
    link_once: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A workshop: until then, joins through this link have a budget of their own, larger
    # than one address's, so a room of people on one network can all join (see
    # statements/throttle.py). Nothing else about the link is widened.
    workshop_until: Mapped[datetime | None]


class DraftVersion(Base):
    """One version of the draft: its sections and change note, encrypted."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("room_id", "number"), {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    number: Mapped[int]
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date]


class ContributionKind(enum.StrEnum):
    """What a contribution proposes."""

    AMENDMENT = "amendment"
    ADDITION = "addition"
    COMMENT = "comment"
    # The words of a contribution, a reply, a section or the title in another working
    # language (statements/drafting/translations.py): shown beside the original.
    TRANSLATION = "translation"


class ContributionStatus(enum.StrEnum):
    """Where a contribution is in moderation."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    HIDDEN = "hidden"
    INCORPORATED = "incorporated"
    # A comment a coordinator has dealt with (comments are not accepted: they change no text).
    ADDRESSED = "addressed"


class Contribution(Base):
    """A proposal or comment. No account id: only an author tag only its author can recompute."""

    __tablename__ = "contributions"
    __table_args__ = (
        one_of("kind", ContributionKind),
        one_of("status", ContributionStatus),
        Index("ix_contributions_room_status", "room_id", "status"),
        Index("ix_contributions_translates", "translates"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # None: a comment on the whole draft.
    anchor: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ContributionStatus.PENDING)
    author_tag: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # The coordinators' decision (reason and note), encrypted under the room key current
    # when it was made; None while pending.
    decision: Mapped[bytes | None] = mapped_column(LargeBinary)
    decision_key_version: Mapped[int | None]
    created_on: Mapped[date]
    # Pre-moderation: a coordinator let members see it while it is still pending.
    released: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A translation: the id of the contribution or reply it translates (None for a
    # section's or the title's, and for every other kind). Plain, so that the anonymous
    # writes, which hold no room key, can take a translation's copy of the original's
    # words away with the original (statements/writes.py). It links two anonymous items,
    # never an account; the language stays sealed in the content.
    translates: Mapped[str | None] = mapped_column(String(32))


class Support(Base):
    """An anonymous +1: the tag dedupes one per member without saying whose."""

    __tablename__ = "supports"
    __table_args__ = ({"sqlite_with_rowid": False},)

    contribution_id: Mapped[str] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


class Flag(Base):
    """A member's anonymous request for a safety review: one per member and contribution,
    deduplicated by a tag like a support, and written through the mixer like one."""

    __tablename__ = "flags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    contribution_id: Mapped[str] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


# --- agreement: objections and consent checks ---------------------------------------------
#
# An objection is a member's stance against a proposal, deduplicated like a support by a tag
# (its own purpose, bound to the room and the proposal) and written through the mixer; its
# reason is a ciphertext under the room key. A consent check is opened by a coordinator;
# its answers carry only a tag of the member for that check, and their content (answer and
# reason) is sealed, so a copy of the database cannot count them before the check closes.
# Closing tallies the answers into the check's sealed results and deletes them.


class Objection(Base):
    """An anonymous objection to a proposal: a tag and a sealed reason, nothing else."""

    __tablename__ = "objections"
    __table_args__ = ({"sqlite_with_rowid": False},)

    contribution_id: Mapped[str] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_version: Mapped[int]
    reason: Mapped[bytes] = mapped_column(LargeBinary)


class ConsentStatus(enum.StrEnum):
    """Whether a consent check still takes answers."""

    OPEN = "open"
    CLOSED = "closed"


class ConsentCheck(Base):
    """A coordinator's question to the room about a section or the whole text.

    `content` holds, sealed, the question and the text asked about; `results` the counts
    and reasons, sealed when the check closes (None while it is open).
    """

    __tablename__ = "consent_checks"
    __table_args__ = (
        one_of("status", ConsentStatus),
        Index("ix_consent_checks_room", "room_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # None: the whole text.
    anchor: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ConsentStatus.OPEN)
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    results_key_version: Mapped[int | None]
    results: Mapped[bytes | None] = mapped_column(LargeBinary)
    opened_on: Mapped[date]


class ConsentAnswer(Base):
    """One member's answer to a consent check: the member's tag for that check, sealed."""

    __tablename__ = "consent_answers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    check_id: Mapped[str] = mapped_column(
        ForeignKey("consent_checks.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ModerationEntry(Base):
    """The moderation log: action, contribution and reason, encrypted; by "a coordinator"."""

    __tablename__ = "moderation_log"
    __table_args__ = (
        Index("ix_moderation_log_room", "room_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[date]


# --- sign-on ----------------------------------------------------------------------------
#
# An endorsement carries an author tag (one per member and room) and, when public, the
# organisation's name and country as a ciphertext under the room key: which organisations
# mean to sign is sensitive until publication. An anonymous one is a tag and nothing more.


class EndorsementKind(enum.StrEnum):
    """How an organisation signs on."""

    PUBLIC = "public"
    ANONYMOUS = "anonymous"
    # Public, received by letter or email and added by a coordinator.
    RECEIVED = "received"


class Endorsement(Base):
    """One organisation's sign-on: no account id, only a tag its member can recompute."""

    __tablename__ = "endorsements"
    __table_args__ = (
        one_of("kind", EndorsementKind),
        # Members' endorsements are deduplicated by tag; coordinators add received ones.
        CheckConstraint("(kind = 'received') = (tag IS NULL)", name="tag"),
        CheckConstraint("(kind = 'anonymous') = (content IS NULL)", name="content"),
        UniqueConstraint("room_id", "tag"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))
    key_version: Mapped[int | None]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # An anonymous endorsement's commitment: the hash of a random secret only its member
    # can open (statements/publishing/commitments.py). Random, so it links to nothing.
    commitment: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class CommitmentSecret(Base):
    """The secret behind one member's anonymous endorsement in one room: a tag only they
    can recompute, and the secret sealed under a key only they hold."""

    __tablename__ = "commitment_secrets"
    __table_args__ = ({"sqlite_with_rowid": False},)

    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


# --- publication ------------------------------------------------------------------------
#
# Everything here is public by nature: it is what the site publishes. Only the signing
# key's private half is secret, sealed to each coordinator's public key like a room key.


class SigningKeyRecord(Base):
    """The public half of a signing key, as listed in statement-keys.json."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        # At most one key in use, whatever two requests do at the same moment (every
        # key carries the log's one origin as its note name).
        Index(
            "uq_signing_keys_in_use",
            "note_key_name",
            unique=True,
            sqlite_where=text("valid_until IS NULL"),
            postgresql_where=text("valid_until IS NULL"),
        ),
    )

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The log's origin, which is also the name its checkpoints are signed under.
    note_key_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date]
    # None while the key is the one in use.
    valid_until: Mapped[date | None]


class SigningKeyWrap(Base):
    """A signing key's private half, sealed to one coordinator's or admin's public key."""

    __tablename__ = "signing_key_wraps"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key_id: Mapped[str] = mapped_column(
        ForeignKey("signing_keys.key_id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class StatementStatus(enum.StrEnum):
    """What a published version is."""

    PUBLISHED = "published"
    CORRECTED = "corrected"
    RETRACTED = "retracted"


class PublishedStatement(Base):
    """A published statement: a family of signed versions under one slug."""

    __tablename__ = "published_statements"
    __table_args__ = (one_of("status", StatementStatus),)

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    # The room it was drafted in: its coordinators may correct or retract it. A room
    # drafted in several languages publishes one statement per language, all of one family.
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(16))
    # A translation names the original of its family: each language is a statement of its
    # own, signed separately, and the pages link them together.
    translation_of: Mapped[str | None] = mapped_column(
        ForeignKey("published_statements.slug", ondelete="RESTRICT"), index=True
    )
    # Of the latest version.
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    latest_version: Mapped[int]
    signatory_count: Mapped[int]
    first_published_on: Mapped[date]
    updated_on: Mapped[date] = mapped_column(index=True)


class PublishedVersion(Base):
    """One signed version, kept exactly as it was published: never edited, never deleted."""

    __tablename__ = "published_versions"

    slug: Mapped[str] = mapped_column(
        ForeignKey("published_statements.slug", ondelete="RESTRICT"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    published_on: Mapped[date]
    # The bundle's canonical JSON (RFC 8785), served byte for byte.
    bundle: Mapped[bytes] = mapped_column(LargeBinary)
    bundle_sha256: Mapped[str] = mapped_column(String(64))
    log_position: Mapped[int] = mapped_column(unique=True)


class LogKind(enum.StrEnum):
    """What a log leaf is."""

    STATEMENT = "statement"
    KEY_ROTATION = "key-rotation"
    # A statement scheduled for later: only a salted hash of it (crypto/reveal.py).
    COMMITMENT = "commitment"
    # A scheduled statement called off or moved: its commitment will never be opened.
    WITHDRAWAL = "withdrawal"


class LogEntry(Base):
    """One leaf of the public append-only log: a publication event's canonical bytes."""

    __tablename__ = "log_entries"
    __table_args__ = (one_of("kind", LogKind),)

    # Assigned in order, from 0; the primary key stops two writers taking the same place.
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogNode(Base):
    """A complete subtree of the public log's Merkle tree: its hash, stored once.

    Level L, position i covers the leaves [i * 2**L, (i + 1) * 2**L); level 0 holds the leaf
    hashes. Such a subtree never changes once its last leaf is appended, so proofs and
    roots are built from O(log n) stored nodes instead of every leaf (as transparency logs
    store their complete subtrees). The log is public: its natural key is no secret.
    """

    __tablename__ = "log_nodes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogCheckpoint(Base):
    """A signed checkpoint (C2SP tlog-checkpoint) of the log at one size."""

    __tablename__ = "log_checkpoints"

    tree_size: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    signed_note: Mapped[str] = mapped_column(Text)


# --- discussion -------------------------------------------------------------------------
#
# Replies under a contribution, a coordinator's resolution of its thread, and the private
# line between the coordinators and a contribution's anonymous author. Replies and answers
# are members' anonymous writes (through the mixer): random ids, no rowid, no day, no
# account id, only tags their writer can recompute. Their order in a thread comes from
# who answered whom (a reply names its parent), never from when anyone wrote.


class ReplyStatus(enum.StrEnum):
    """Where a reply is in moderation."""

    # Pre-moderation: seen by its writer and the coordinators until released.
    PENDING = "pending"
    SHOWN = "shown"
    # Hidden by a coordinator: its words are destroyed.
    HIDDEN = "hidden"


class Reply(Base):
    """A reply in a contribution's thread: its words are a ciphertext under the room key."""

    __tablename__ = "replies"
    __table_args__ = (
        one_of("status", ReplyStatus),
        Index("ix_replies_contribution", "contribution_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contribution_id: Mapped[str] = mapped_column(ForeignKey("contributions.id", ondelete="CASCADE"))
    # None: a reply to the contribution itself.
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("replies.id", ondelete="CASCADE"), index=True
    )
    author_tag: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Written by a coordinator: shown as the secretariat's, never as a person's.
    secretariat: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=ReplyStatus.PENDING)
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ReplyFlag(Base):
    """A member's anonymous request for a safety review of a reply (like a Flag)."""

    __tablename__ = "reply_flags"
    __table_args__ = ({"sqlite_with_rowid": False},)

    reply_id: Mapped[str] = mapped_column(
        ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)


class ThreadResolution(Base):
    """A coordinator marked a contribution's thread resolved, with a one-line summary."""

    __tablename__ = "thread_resolutions"
    __table_args__ = ({"sqlite_with_rowid": False},)

    contribution_id: Mapped[str] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int]
    summary: Mapped[bytes] = mapped_column(LargeBinary)


class AuthorMessage(Base):
    """A coordinator's private question to the author of a contribution.

    Addressed to the contribution, so to whoever's tag it carries: nothing names an
    account. The question is a ciphertext under the room key.
    """

    __tablename__ = "author_messages"
    __table_args__ = (
        Index("ix_author_messages_room", "room_id"),
        Index("ix_author_messages_contribution", "contribution_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contribution_id: Mapped[str] = mapped_column(ForeignKey("contributions.id", ondelete="CASCADE"))
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AuthorAnswer(Base):
    """The author's answer to a question: an anonymous write, with no tag of its own."""

    __tablename__ = "author_answers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    message_id: Mapped[str] = mapped_column(
        ForeignKey("author_messages.id", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


# --- the multilingual room ------------------------------------------------------------
#
# A section's text in a working language, written when a coordinator accepts a member's
# translation: keyed by room, anchor and language (all three are facts about the room,
# not about anyone), its words and the source text they translate sealed under the room
# key. Nothing in it names or points to the member who translated it.
# A member's choice of reading language is an anonymous write (through the mixer), keyed
# by a tag only the member can recompute and sealed under a key only they hold.

TITLE_ANCHOR = "title"


class SectionTranslation(Base):
    """A section (or the title, anchor "title") of a room's draft in one working language."""

    __tablename__ = "section_translations"
    __table_args__ = (
        UniqueConstraint("room_id", "anchor", "language"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    anchor: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class LanguageChoice(Base):
    """The working language one member reads a room in: a tag and a sealed code."""

    __tablename__ = "language_choices"
    __table_args__ = ({"sqlite_with_rowid": False},)

    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


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


# --- members' news: "since your last visit" and private feeds (statements/news/) ---------
#
# Nothing here names an account or says when anyone looked. A marker is keyed by a tag
# only its member can recompute and holds, sealed under a key derived from the member's
# own author secret, what they had seen (version numbers and ids), never a time. A feed
# is keyed by a keyed hash of its address; what it serves is sealed under the address.


class NewsMarker(Base):
    """What one member had seen of one room when they last looked: sealed, no time.

    Written through the mixer (statements/writes.py), and only when it changes.
    """

    __tablename__ = "news_markers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # HMAC(author secret, "news-marker", room id): neither the account nor the room.
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # Padded to a multiple of a fixed size, so its length does not count what was seen.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class MemberFeed(Base):
    """A member's private feed address: a keyed hash of it and what it serves, sealed.

    `sealed` holds the account id and the feed's language under a key derived from the
    address itself, which is never stored: without the address the row opens nothing.
    """

    __tablename__ = "member_feeds"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # HMAC(author secret, "feed", "feed"): the member finds their feed by it.
    owner_tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # HMAC under a key derived from the lookup pepper (a server secret) of the address.
    address_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Random; with the member's author secret it gives the address back (feeds.py).
    nonce: Mapped[bytes] = mapped_column(LargeBinary(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


# --- shared control ---------------------------------------------------------------------
#
# Under the two-person rule, an action that signs or destroys is first proposed by one
# staff member and carried out only when another approves it (statements/control/).
# Staff are not anonymous, so a proposal names its proposer's account; what the action
# would sign or destroy is a ciphertext under a key of its own, sealed to each staff
# member who may approve it.


class ControlAction(enum.StrEnum):
    """What a proposal would do once approved."""

    PUBLISH = "publish"
    CORRECT = "correct"
    RETRACT = "retract"
    SEAL = "seal"
    REPLACE_KEY = "replace-key"
    MODERATION = "moderation-mode"


class ProposalStatus(enum.StrEnum):
    """Where a proposal is; a pending one past its expiry reads as expired."""

    PENDING = "pending"
    APPROVED = "approved"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ControlProposal(Base):
    """One proposed action awaiting (or past) a second staff member's approval."""

    __tablename__ = "control_proposals"
    __table_args__ = (
        one_of("action", ControlAction),
        one_of("status", ProposalStatus),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    # None for replacing the signing key, which belongs to no room.
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING)
    proposed_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_on: Mapped[date]
    decided_on: Mapped[date | None]
    expires_at: Mapped[datetime]
    # SHA-256 of the proposal's canonical content: the approver's form carries the digest
    # of what they were shown, and nothing else is carried out.
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ControlProposalKey(Base):
    """A proposal's content key, sealed to one staff member who may read and approve it."""

    __tablename__ = "control_proposal_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("control_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)


class OrganisationInvitation(Base):
    """A link a coordinator made for one organisation's representative: a public
    endorsement through it carries the organisation's name as the coordinator entered it.

    The name and country are a ciphertext under the room key; the link's secret is kept
    only as its SHA-256, so a copy of the database cannot endorse through it.
    """

    __tablename__ = "organisation_invitations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_version: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    revoked: Mapped[bool] = mapped_column(default=False)


class Embargo(Base):
    """A statement signed and ready, released to the public at a set time (an embargo).

    Until then it is in none of the public tables; the log holds only a salted hash of
    it, at `commitment_position` (crypto/reveal.py). `bundle` is signed when it is
    scheduled and carries the salt, so the release itself needs no key (a copy of the
    server still cannot sign anything new). An embargo scheduled by an older version has
    no commitment and no bundle: it waits until its time is set again. The release time is
    stored in UTC; `zone` is the time zone the coordinator chose, for showing it.
    """

    __tablename__ = "embargoes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    translation_of: Mapped[str | None] = mapped_column(
        ForeignKey("published_statements.slug", ondelete="RESTRICT")
    )
    release_at: Mapped[datetime] = mapped_column(index=True)
    zone: Mapped[str] = mapped_column(String(64))
    statement: Mapped[bytes] = mapped_column(LargeBinary)
    commitment_position: Mapped[int | None]
    bundle: Mapped[bytes | None] = mapped_column(LargeBinary)


class EmbargoWithdrawal(Base):
    """A commitment whose withdrawal waits for someone holding the signing key.

    A coordinator without the key can still call an embargo off; the withdrawal entry is
    then appended to the log with the next entry anyone makes (statements/publishing/log.py).
    """

    __tablename__ = "embargo_withdrawals"
    __table_args__ = ({"sqlite_with_rowid": False},)

    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class PressLink(Base):
    """A press preview link of a room's embargoed statement: only the secret's SHA-256."""

    __tablename__ = "press_links"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # A few words a coordinator gives it ("for the wire services"), to tell links apart.
    label: Mapped[str] = mapped_column(String(80))
    revoked: Mapped[bool] = mapped_column(default=False)
