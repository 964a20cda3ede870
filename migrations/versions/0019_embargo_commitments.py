"""Embargoes commit to the log when scheduled, instead of pre-signing checkpoints.

Revision ID: 0019_embargo_commitments
Revises: 0018_endorsement_commitments

The log gains two kinds of entry: the commitment to a scheduled statement, and the
withdrawal of one called off or moved (crypto/reveal.py). An embargo now keeps the place
of its commitment; the prepared place and checkpoint go. An embargo scheduled before
this revision has no commitment: its pre-signed bundle is erased here, and it waits,
listed as needing to be scheduled again, until a coordinator holding the signing key sets
its time again. Withdrawals a coordinator without the key could not append wait in
`embargo_withdrawals` for the next entry to the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_embargo_commitments"
down_revision = "0018_endorsement_commitments"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('statement', 'key-rotation')"
NEW_KINDS = "kind IN ('statement', 'key-rotation', 'commitment', 'withdrawal')"


def _kinds(check: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_log_entries_kind"), "log_entries", type_="check")
        op.create_check_constraint(op.f("ck_log_entries_kind"), "log_entries", check)
        return
    # SQLite cannot alter a CHECK: the table is rebuilt, and its append-only triggers
    # (dropped with the old table) made again.
    with op.batch_alter_table("log_entries", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_log_entries_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_log_entries_kind"), check)
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS log_entries_no_{action.lower()} BEFORE {action}"
            " ON log_entries BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END"
        )


def upgrade() -> None:
    """Two new log entry kinds; embargoes keep their commitment's place."""
    _kinds(NEW_KINDS)
    op.execute("UPDATE embargoes SET bundle = NULL")
    # Native on both (SQLite since 3.35): a rebuild would lose WITHOUT ROWID.
    op.execute("ALTER TABLE embargoes DROP COLUMN checkpoint")
    op.execute("ALTER TABLE embargoes DROP COLUMN position")
    op.add_column("embargoes", sa.Column("commitment_position", sa.Integer(), nullable=True))
    op.create_table(
        "embargo_withdrawals",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_embargo_withdrawals")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Back to prepared places: every waiting embargo must be scheduled again."""
    op.drop_table("embargo_withdrawals")
    op.execute("ALTER TABLE embargoes DROP COLUMN commitment_position")
    op.add_column("embargoes", sa.Column("position", sa.Integer(), nullable=True))
    op.add_column("embargoes", sa.Column("checkpoint", sa.Text(), nullable=True))
    op.execute("UPDATE embargoes SET bundle = NULL")
    bind = op.get_bind()
    leftover = bind.execute(
        sa.text("SELECT count(*) FROM log_entries WHERE kind IN ('commitment', 'withdrawal')")
    ).scalar()
    if leftover:
        raise RuntimeError(
            "the log holds commitments or withdrawals: an older version could not read it"
        )
    _kinds(OLD_KINDS)
