"""Comments are addressed, not accepted: contributions get the status "addressed".

Revision ID: 0006_proposals_as_changes
Revises: 0005_moderation_modes

The status CHECK is derived from ContributionStatus; it is rebuilt here with the new
value. What a proposal was written against (its base text and version) is already
sealed inside each contribution, so nothing else changes at rest.
"""

from __future__ import annotations

from alembic import op

revision = "0006_proposals_as_changes"
down_revision = "0005_moderation_modes"
branch_labels = None
depends_on = None

BEFORE = ("pending", "accepted", "rejected", "hidden", "incorporated")
AFTER = (*BEFORE, "addressed")


def _status_check(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    # SQLite cannot alter a CHECK: the table is rebuilt (still WITHOUT ROWID). PostgreSQL
    # alters it in place; rebuilding there would drop the key the supports and flags use.
    with op.batch_alter_table(
        "contributions", recreate="auto", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_constraint(op.f("ck_contributions_status"), type_="check")
        batch.create_check_constraint(op.f("ck_contributions_status"), f"status IN ({allowed})")


def upgrade() -> None:
    """Allow "addressed"."""
    _status_check(AFTER)


def downgrade() -> None:
    """Addressed comments read as accepted again, as they were before this revision."""
    op.execute("UPDATE contributions SET status = 'accepted' WHERE status = 'addressed'")
    _status_check(BEFORE)
