"""Anonymous endorsements each signer can check: a commitment per anonymous endorsement,
and the secret behind it, sealed for its member alone.

Revision ID: 0018_endorsement_commitments
Revises: 0017_embargo

An anonymous endorsement made before this revision gets a random commitment whose secret
nobody keeps: it is still counted, but its member cannot check it. The new table is
WITHOUT ROWID on SQLite: random tags, no insertion order.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0018_endorsement_commitments"
down_revision = "0017_embargo"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the commitment column and the sealed secrets."""
    op.add_column("endorsements", sa.Column("commitment", sa.LargeBinary(32), nullable=True))
    endorsements = sa.table(
        "endorsements",
        sa.column("id", sa.String(32)),
        sa.column("kind", sa.String(16)),
        sa.column("commitment", sa.LargeBinary(32)),
    )
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(endorsements.c.id).where(endorsements.c.kind == "anonymous")
    ).scalars()
    for endorsement_id in list(waiting):
        connection.execute(
            endorsements.update()
            .where(endorsements.c.id == endorsement_id)
            .values(commitment=secrets.token_bytes(32))
        )
    op.create_table(
        "commitment_secrets",
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name="pk_commitment_secrets"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop them; published bundles keep their commitments."""
    op.drop_table("commitment_secrets")
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "endorsements",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_with_rowid": False},
    ) as batch:
        batch.drop_column("commitment")
