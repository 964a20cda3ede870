"""Sign-on, the signing key, what is published, and the public log; organisation
invitations, embargoes and press links."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id

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
