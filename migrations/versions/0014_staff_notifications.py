"""Staff notifications: an email address and a choice of news per staff account, and
what was sent.

Revision ID: 0014_staff_notifications
Revises: 0010_staff_recovery_and_audit

Both tables are WITHOUT ROWID on SQLite and keyed by staff account: nothing in them names
a member or a contribution. The address and the last notice's counts are sealed under
the server's notification key; each sent event is stored only as a keyed hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_staff_notifications"
down_revision = "0013_member_news"
branch_labels = None
depends_on = None

FREQUENCIES = ("digest", "immediate", "never")


def upgrade() -> None:
    """Add the two tables."""
    allowed = ", ".join(f"'{value}'" for value in FREQUENCIES)
    op.create_table(
        "staff_contacts",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("marks", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(f"frequency IN ({allowed})", name=op.f("ck_staff_contacts_frequency")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_staff_contacts_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_staff_contacts"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "staff_notices_sent",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_staff_notices_sent_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "event", name="pk_staff_notices_sent"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_staff_notices_sent_day", "staff_notices_sent", ["day"])


def downgrade() -> None:
    """Remove them again."""
    op.drop_index("ix_staff_notices_sent_day", table_name="staff_notices_sent")
    op.drop_table("staff_notices_sent")
    op.drop_table("staff_contacts")
