"""Members' news: sealed "since your last visit" markers and private feed addresses.

Revision ID: 0013_member_news
Revises: 0010_staff_recovery_and_audit

Neither table names an account, a room or a time. A marker is keyed by a tag under the
member's author secret and sealed under a key derived from it; a feed is keyed by such a
tag and by a keyed hash of its address, and what it serves is sealed under the address.
Both are WITHOUT ROWID on SQLite, so neither keeps the order its rows were written in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_member_news"
down_revision = "0012_language_families"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables."""
    op.create_table(
        "news_markers",
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name="pk_news_markers"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "member_feeds",
        sa.Column("owner_tag", sa.LargeBinary(32), nullable=False),
        sa.Column("address_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(16), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("owner_tag", name="pk_member_feeds"),
        sa.UniqueConstraint("address_hash", name="uq_member_feeds_address_hash"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("member_feeds")
    op.drop_table("news_markers")
