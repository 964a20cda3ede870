"""Drafting rooms: membership, keys, invitations, versions, contributions, supports,
flags, agreement (objections and consent checks) and the moderation log."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id

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
