"""Agreement: objections to proposals, consent checks and their answers, showing reasons.

Revision ID: 0007_agreement
Revises: 0006_proposals_as_changes

Objections and consent answers are anonymous writes like supports: keyed by their target
and the member's tag, WITHOUT ROWID on SQLite, no account id, no time. Rooms gain the
setting that lets members read the reasons of objections (off: only coordinators do).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_agreement"
down_revision = "0006_proposals_as_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the setting and the three tables."""
    # ADD COLUMN keeps SQLite's WITHOUT ROWID tables as they are (no rebuild needed).
    op.add_column(
        "rooms",
        sa.Column("show_reasons", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "objections",
        sa.Column("contribution_id", sa.String(32), nullable=False),
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name="fk_objections_contribution_id_contributions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contribution_id", "tag", name="pk_objections"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "consent_checks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("anchor", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("results_key_version", sa.Integer(), nullable=True),
        sa.Column("results", sa.LargeBinary(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_consent_checks_status")),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name="fk_consent_checks_room_id_rooms",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consent_checks"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_consent_checks_room", "consent_checks", ["room_id"])
    op.create_table(
        "consent_answers",
        sa.Column("check_id", sa.String(32), nullable=False),
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["consent_checks.id"],
            name="fk_consent_answers_check_id_consent_checks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("check_id", "tag", name="pk_consent_answers"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Remove them again."""
    op.drop_table("consent_answers")
    op.drop_index("ix_consent_checks_room", table_name="consent_checks")
    op.drop_table("consent_checks")
    op.drop_table("objections")
    with op.batch_alter_table(
        "rooms", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("show_reasons")
