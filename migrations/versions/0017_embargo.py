"""Release on a date: embargoed statements and their press preview links.

Revision ID: 0017_embargo
Revises: 0016_shared_control

Both tables are WITHOUT ROWID on SQLite: random ids, no insertion order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_embargo"
down_revision = "0016_shared_control"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the embargoes and the press links."""
    op.create_table(
        "embargoes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("translation_of", sa.String(80), nullable=True),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("bundle", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_embargoes_room_id_rooms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["translation_of"],
            ["published_statements.slug"],
            name="fk_embargoes_translation_of_published_statements",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_embargoes"),
        sa.UniqueConstraint("room_id", name="uq_embargoes_room_id"),
        sa.UniqueConstraint("slug", name="uq_embargoes_slug"),
        sqlite_with_rowid=False,
    )
    # The first request after a release time finds it with one look at this index.
    op.create_index("ix_embargoes_release_at", "embargoes", ["release_at"])
    op.create_table(
        "press_links",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name="fk_press_links_room_id_rooms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_press_links"),
        sa.UniqueConstraint("token_hash", name="uq_press_links_token_hash"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_press_links_room_id", "press_links", ["room_id"])


def downgrade() -> None:
    """Remove them again (an embargo not yet released is lost with them)."""
    op.drop_index("ix_press_links_room_id", table_name="press_links")
    op.drop_table("press_links")
    op.drop_index("ix_embargoes_release_at", table_name="embargoes")
    op.drop_table("embargoes")
