"""The public log's complete subtree hashes, so proofs need not read every leaf.

Revision ID: 0015_log_tree
Revises: 0010_staff_recovery_and_audit

log_nodes holds the hash of every complete subtree of the log's Merkle tree (RFC 9162):
level L, position i covers the leaves [i * 2**L, (i + 1) * 2**L); level 0 repeats the leaf
hashes. Existing logs are backfilled from log_entries here. Append-only like the log itself
(migration 0003): the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0015_log_tree"
down_revision = "0014_staff_notifications"
branch_labels = None
depends_on = None


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _backfill() -> None:
    bind = op.get_bind()
    leaves = [
        bytes(row[0])
        for row in bind.execute(sa.text("SELECT leaf_hash FROM log_entries ORDER BY position"))
    ]
    nodes = sa.table(
        "log_nodes",
        sa.column("level", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("hash", sa.LargeBinary),
    )
    rows = []
    level, hashes = 0, leaves
    while hashes:
        rows.extend(
            {"level": level, "position": i, "hash": value} for i, value in enumerate(hashes)
        )
        hashes = [_node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        level += 1
    if rows:
        op.bulk_insert(nodes, rows)


def upgrade() -> None:
    """Create log_nodes, fill it from the log, and make it append-only."""
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position"),
        sqlite_with_rowid=False,
    )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        # refuse_change() is migration 0003's.
        op.execute(
            "CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes"
            " FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes"
            " FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER log_nodes_no_{action.lower()} BEFORE {action} ON log_nodes"
            " BEGIN SELECT RAISE(ABORT, 'log_nodes is append-only'); END"
        )


def downgrade() -> None:
    """Drop log_nodes (the leaves keep everything it was computed from)."""
    op.drop_table("log_nodes")
