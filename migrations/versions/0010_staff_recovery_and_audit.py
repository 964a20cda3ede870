"""Staff recovery codes, two-admin resets, the staff audit log, workshop invitations.

Revision ID: 0010_staff_recovery_and_audit
Revises: 0009_discussion

The audit log is append-only like the published versions (migration 0003): the database
itself refuses UPDATE and DELETE (and, on PostgreSQL, TRUNCATE), so a staff member with
the database's password cannot quietly take back what the log says they did. Every new
table is WITHOUT ROWID on SQLite: random ids, no insertion order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_staff_recovery_and_audit"
down_revision = "0009_discussion"
branch_labels = None
depends_on = None

ACTIONS = (
    "account-created",
    "account-enrolled",
    "account-disabled",
    "account-enabled",
    "reset-proposed",
    "reset-approved",
    "reset-on-server",
    "recovery-codes-replaced",
    "recovery-code-used",
    "room-keys-restored",
    "signing-key-shared",
    "signing-key-replaced",
    "room-opened",
    "room-sealed",
    "published",
    "corrected",
    "retracted",
)


def _audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # A function of this migration's own, so it does not lean on 0003's.
        op.execute(
            "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def upgrade() -> None:
    """Add the tables, the workshop mark and the audit log's triggers."""
    op.create_table(
        "recovery_codes",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.Column("kdf_params", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_recovery_codes_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "code_hash", name="pk_recovery_codes"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "staff_resets",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("proposed_by", sa.String(32), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_staff_resets_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["accounts.id"],
            name="fk_staff_resets_proposed_by_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_staff_resets"),
        sqlite_with_rowid=False,
    )
    allowed = ", ".join(f"'{action}'" for action in ACTIONS)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.CheckConstraint(f"action IN ({allowed})", name=op.f("ck_audit_log_action")),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_audit_log_day", "audit_log", ["day"])
    _audit_triggers()
    # ADD COLUMN keeps SQLite's WITHOUT ROWID table as it is (no rebuild needed).
    op.add_column(
        "invitations",
        sa.Column("workshop_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Remove them again."""
    with op.batch_alter_table(
        "invitations", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("workshop_until")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    op.drop_index("ix_audit_log_day", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("staff_resets")
    op.drop_table("recovery_codes")
