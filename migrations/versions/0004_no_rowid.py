"""No table keeps the order its rows were written in: the last five lose their rowid.

Revision ID: 0004_no_rowid
Revises: 0003

A rowid counts insertions: on SQLite it would tell a copy of the database in which
order accounts were created, sessions opened, rooms and invitations made. These tables
are rebuilt WITHOUT ROWID, stored in the order of their random keys. PostgreSQL has no
rowid (its physical order is covered in the README's threat model): nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0004_no_rowid"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("accounts", "login_sessions", "rooms", "invitations", "draft_versions")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # statements.db.upgrade turns foreign keys off around migrations on SQLite, so
    # dropping the old table does not cascade into the rows that refer to it.
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    """Rebuild without rowid."""
    _rebuild(with_rowid=False)


def downgrade() -> None:
    """Rebuild with rowid."""
    _rebuild(with_rowid=True)
