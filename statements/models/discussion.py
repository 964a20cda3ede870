"""A contribution's discussion, questions to authors, and the multilingual room."""

from __future__ import annotations

import enum

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id

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
