"""Moderation modes, releasing pending contributions, and members' safety flags.

Revision ID: 0005_moderation_modes
Revises: 0004_no_rowid

Rooms opened before this revision are post-moderated (their members have already seen
every contribution); new rooms are pre-moderated by the application. Flags are anonymous
writes like supports: keyed by contribution and tag, WITHOUT ROWID on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_moderation_modes"
down_revision = "0004_no_rowid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the mode, the release mark and the flags table."""
    # ADD COLUMN keeps SQLite's WITHOUT ROWID tables as they are (no rebuild needed).
    op.add_column(
        "rooms",
        sa.Column("moderation", sa.String(16), nullable=False, server_default="post"),
    )
    op.add_column(
        "contributions",
        sa.Column("released", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "flags",
        sa.Column("contribution_id", sa.String(32), nullable=False),
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name="fk_flags_contribution_id_contributions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contribution_id", "tag", name="pk_flags"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Remove them again."""
    op.drop_table("flags")
    with op.batch_alter_table(
        "contributions", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("released")
    with op.batch_alter_table(
        "rooms", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("moderation")
