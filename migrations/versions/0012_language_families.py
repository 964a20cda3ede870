"""A room publishes one statement per language: published_statements.room_id is no longer unique.

Revision ID: 0012_language_families
Revises: 0011_room_languages (merged from h13a; the integrator re-chains)

A room drafted in several languages publishes each language whose text is current as a
statement of its own (its own slug, its own signed bundle), all of one family. They share
the room, so the room's coordinators can correct and retract each of them; the unique
constraint becomes a plain index. Nothing else changes: the family's links live in the
existing translation_of column and in the signed bundles.
"""

from __future__ import annotations

from alembic import op

revision = "0012_language_families"
down_revision = "0011_room_languages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let several statements name one room."""
    # On SQLite this rebuilds the table; statements.db.upgrade turns foreign keys off
    # around migrations, so the published versions that refer to it are kept as they are.
    with op.batch_alter_table("published_statements", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_published_statements_room_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_published_statements_room_id"), ["room_id"], unique=False
        )


def downgrade() -> None:
    """One statement per room again (fails if a room published a family: as it should)."""
    with op.batch_alter_table("published_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_statements_room_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_published_statements_room_id"), ["room_id"]
        )
