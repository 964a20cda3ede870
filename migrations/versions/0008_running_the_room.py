"""Running the room: deadline notices, and invitations that outlive a key rotation.

Revision ID: 0008_running_the_room
Revises: 0007_agreement

Rooms keep the last change of their deadlines as a ciphertext under the room key.
Invitations gain a keypair of their own (so a rotation can seal the new room key to
them without knowing the link), a label for the coordinators, sealed under the room key,
and the link itself sealed under the creating session's key until it has been shown once.
Every new column is nullable: invitations made before keep working as they did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_running_the_room"
down_revision = "0007_agreement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the notice and the invitations' new columns."""
    # ADD COLUMN keeps SQLite's WITHOUT ROWID tables as they are (no rebuild needed).
    op.add_column("rooms", sa.Column("deadline_notice", sa.LargeBinary(), nullable=True))
    op.add_column("rooms", sa.Column("deadline_notice_key_version", sa.Integer(), nullable=True))
    op.add_column("invitations", sa.Column("public_key", sa.LargeBinary(32), nullable=True))
    op.add_column("invitations", sa.Column("sealed_keys", sa.LargeBinary(), nullable=True))
    op.add_column("invitations", sa.Column("label", sa.LargeBinary(), nullable=True))
    op.add_column("invitations", sa.Column("label_key_version", sa.Integer(), nullable=True))
    op.add_column("invitations", sa.Column("link_once", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    """Remove them again."""
    with op.batch_alter_table(
        "invitations", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        for column in ("link_once", "label_key_version", "label", "sealed_keys", "public_key"):
            batch.drop_column(column)
    with op.batch_alter_table(
        "rooms", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("deadline_notice_key_version")
        batch.drop_column("deadline_notice")
