"""Shared control: the two-person rule's proposals, a room's raised rule, and
organisation invitations.

Revision ID: 0016_shared_control
Revises: 0012_language_families

A proposal names its proposer (staff are not anonymous) and holds what it would sign or
destroy as a ciphertext under a key of its own, sealed to each staff member who may
approve it. Both new tables are WITHOUT ROWID on SQLite: random ids, no insertion order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_shared_control"
down_revision = "0015_log_tree"
branch_labels = None
depends_on = None

ACTIONS = ("publish", "correct", "retract", "seal", "replace-key", "moderation-mode")
STATUSES = ("pending", "approved", "cancelled", "expired")


def _one_of(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def upgrade() -> None:
    """Add the proposals, their sealed keys and the room's raised rule."""
    op.create_table(
        "control_proposals",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(32), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _one_of("action", ACTIONS, "control_proposals"),
        _one_of("status", STATUSES, "control_proposals"),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name="fk_control_proposals_room_id_rooms",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["accounts.id"],
            name="fk_control_proposals_proposed_by_accounts",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["accounts.id"],
            name="fk_control_proposals_decided_by_accounts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_control_proposals"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_control_proposals_room_id", "control_proposals", ["room_id"])
    op.create_table(
        "control_proposal_keys",
        sa.Column("proposal_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["control_proposals.id"],
            name="fk_control_proposal_keys_proposal_id_control_proposals",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_control_proposal_keys_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "account_id", name="pk_control_proposal_keys"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "organisation_invitations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name="fk_organisation_invitations_room_id_rooms",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_organisation_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_organisation_invitations_token_hash"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_organisation_invitations_room_id", "organisation_invitations", ["room_id"])
    # ADD COLUMN keeps SQLite's WITHOUT ROWID table as it is (no rebuild needed).
    op.add_column(
        "rooms",
        sa.Column("two_person", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Remove them again."""
    # SQLite rebuilds the table (keeping it WITHOUT ROWID); PostgreSQL drops the column
    # in place, since rebuilding would drop the key other tables' foreign keys rest on.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "rooms",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_with_rowid": False},
    ) as batch:
        batch.drop_column("two_person")
    op.drop_index("ix_organisation_invitations_room_id", table_name="organisation_invitations")
    op.drop_table("organisation_invitations")
    op.drop_table("control_proposal_keys")
    op.drop_index("ix_control_proposals_room_id", table_name="control_proposals")
    op.drop_table("control_proposals")
