"""Discussion: replies under contributions, resolved threads, questions to an author.

Revision ID: 0009_discussion
Revises: 0008_running_the_room

Replies, their flags and authors' answers are members' anonymous writes (through the
mixer), so, like contributions, they have random keys, no day and no account, and are
WITHOUT ROWID on SQLite. Questions and resolutions are a coordinator's, and name no
account either: a question is addressed to a contribution, so to its author's tag.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_discussion"
down_revision = "0008_running_the_room"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the discussion tables."""
    op.create_table(
        "replies",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("contribution_id", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("author_tag", sa.LargeBinary(32), nullable=False),
        sa.Column("secretariat", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'shown', 'hidden')", name=op.f("ck_replies_status")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_replies_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name="fk_replies_contribution_id_contributions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["replies.id"], name="fk_replies_parent_id_replies", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replies"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_replies_contribution", "replies", ["contribution_id"])
    op.create_index("ix_replies_parent_id", "replies", ["parent_id"])
    op.create_table(
        "reply_flags",
        sa.Column("reply_id", sa.String(32), nullable=False),
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["replies.id"], name="fk_reply_flags_reply_id_replies", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("reply_id", "tag", name="pk_reply_flags"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "thread_resolutions",
        sa.Column("contribution_id", sa.String(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("summary", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name="fk_thread_resolutions_contribution_id_contributions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contribution_id", name="pk_thread_resolutions"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "author_messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("contribution_id", sa.String(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_author_messages_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name="fk_author_messages_contribution_id_contributions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_author_messages"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_author_messages_room", "author_messages", ["room_id"])
    op.create_index("ix_author_messages_contribution", "author_messages", ["contribution_id"])
    op.create_table(
        "author_answers",
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["author_messages.id"],
            name="fk_author_answers_message_id_author_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_author_answers"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("author_answers")
    op.drop_index("ix_author_messages_contribution", table_name="author_messages")
    op.drop_index("ix_author_messages_room", table_name="author_messages")
    op.drop_table("author_messages")
    op.drop_table("thread_resolutions")
    op.drop_table("reply_flags")
    op.drop_index("ix_replies_parent_id", table_name="replies")
    op.drop_index("ix_replies_contribution", table_name="replies")
    op.drop_table("replies")
