"""The multilingual room: working languages, section translations, reading languages.

Revision ID: 0011_room_languages
Revises: 0010_staff_recovery_and_audit

A room keeps its draft in working languages besides its source language; each section's
text in a working language is a row of section_translations, sealed under the room key
and naming no translator. A member's choice of reading language is an anonymous write:
a tag only the member can recompute, and a code sealed under a key only they hold.
Contributions gain the kind "translation", and a plain, indexed `translates`: the id of
the contribution or reply a translation translates, so that an author's withdrawal or
edit, applied by the anonymous writes without any room key, takes the translations of
the old words with it. New tables are WITHOUT ROWID on SQLite.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_room_languages"
down_revision = "0010_staff_recovery_and_audit"
branch_labels = None
depends_on = None

BEFORE = ("amendment", "addition", "comment")
AFTER = (*BEFORE, "translation")


def _kind_check(values: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{value}'" for value in values)
    # As in 0006: SQLite rebuilds the table (still WITHOUT ROWID), PostgreSQL alters it.
    with op.batch_alter_table(
        "contributions", recreate="auto", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_constraint(op.f("ck_contributions_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_contributions_kind"), f"kind IN ({allowed})")


def upgrade() -> None:
    """Add working languages, the translation tables and the kind "translation"."""
    op.add_column(
        "rooms",
        sa.Column("working_languages", sa.String(200), nullable=False, server_default=""),
    )
    op.create_table(
        "section_translations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=False),
        sa.Column("anchor", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name="fk_section_translations_room_id_rooms",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_section_translations"),
        sa.UniqueConstraint(
            "room_id", "anchor", "language", name="uq_section_translations_room_id"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "language_choices",
        sa.Column("tag", sa.LargeBinary(32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tag", name="pk_language_choices"),
        sqlite_with_rowid=False,
    )
    _kind_check(AFTER)
    op.add_column("contributions", sa.Column("translates", sa.String(32), nullable=True))
    op.create_index("ix_contributions_translates", "contributions", ["translates"])


def downgrade() -> None:
    """Translations go with their tables; the kind goes back to the three before."""
    op.execute("DELETE FROM contributions WHERE kind = 'translation'")
    op.drop_index("ix_contributions_translates", table_name="contributions")
    with op.batch_alter_table(
        "contributions", recreate="auto", table_kwargs={"sqlite_with_rowid": False}
    ) as batch:
        batch.drop_column("translates")
    _kind_check(BEFORE)
    op.drop_table("language_choices")
    op.drop_table("section_translations")
    # SQLite rebuilds the table (keeping it WITHOUT ROWID); PostgreSQL drops the column
    # in place, since rebuilding would drop the key other tables' foreign keys rest on.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "rooms",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_with_rowid": False},
    ) as batch:
        batch.drop_column("working_languages")
