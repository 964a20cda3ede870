"""Sign-on and publication: endorsements, signing keys, published versions, the log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# What is published is never edited or deleted in place: the database refuses it too.
APPEND_ONLY = ("log_entries", "log_checkpoints", "published_versions")


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            )
            # Row triggers do not fire on TRUNCATE.
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


# A signing key, once listed in statement-keys.json, stays listed as it was: the only
# change allowed is retiring the key in use (setting its valid_until once).
_KEY_CHANGED = (
    "OLD.valid_until IS NOT NULL OR NEW.key_id <> OLD.key_id"
    " OR NEW.public_key <> OLD.public_key OR NEW.note_key_name <> OLD.note_key_name"
    " OR NEW.valid_from <> OLD.valid_from"
)


def _signing_key_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION guard_signing_key() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            " IF TG_OP = 'DELETE' OR " + _KEY_CHANGED + " THEN"
            " RAISE EXCEPTION 'signing_keys: a key is only ever retired';"
            " END IF;"
            " RETURN NEW;"
            " END $$"
        )
        op.execute(
            "CREATE TRIGGER signing_keys_guard BEFORE UPDATE OR DELETE ON signing_keys"
            " FOR EACH ROW EXECUTE FUNCTION guard_signing_key()"
        )
        op.execute(
            "CREATE TRIGGER signing_keys_no_truncate BEFORE TRUNCATE ON signing_keys"
            " FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
        )
        return
    op.execute(
        "CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys"
        " BEGIN SELECT RAISE(ABORT, 'signing_keys: a key is only ever retired'); END"
    )
    op.execute(
        "CREATE TRIGGER signing_keys_retire_only BEFORE UPDATE ON signing_keys"
        f" WHEN {_KEY_CHANGED}"
        " BEGIN SELECT RAISE(ABORT, 'signing_keys: a key is only ever retired'); END"
    )


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("signed_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "log_entries",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('statement', 'key-rotation')", name=op.f("ck_log_entries_kind")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_log_entries")),
    )
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note_key_name", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_signing_keys_public_key")),
    )
    # At most one key in use, whatever two requests do at the same moment (every key
    # carries the log's one origin as its note name).
    op.create_index(
        "uq_signing_keys_in_use",
        "signing_keys",
        ["note_key_name"],
        unique=True,
        sqlite_where=sa.text("valid_until IS NULL"),
        postgresql_where=sa.text("valid_until IS NULL"),
    )
    op.create_table(
        "endorsements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'anonymous') = (content IS NULL)", name=op.f("ck_endorsements_content")
        ),
        sa.CheckConstraint("(kind = 'received') = (tag IS NULL)", name=op.f("ck_endorsements_tag")),
        sa.CheckConstraint(
            "kind IN ('public', 'anonymous', 'received')", name=op.f("ck_endorsements_kind")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_endorsements_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsements")),
        sa.UniqueConstraint("room_id", "tag", name=op.f("uq_endorsements_room_id")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "published_statements",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("translation_of", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("signatory_count", sa.Integer(), nullable=False),
        sa.Column("first_published_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "status IN ('published', 'corrected', 'retracted')",
            name=op.f("ck_published_statements_status"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_published_statements_room_id_rooms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["translation_of"],
            ["published_statements.slug"],
            name=op.f("fk_published_statements_translation_of_published_statements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_published_statements")),
        sa.UniqueConstraint("room_id", name=op.f("uq_published_statements_room_id")),
    )
    with op.batch_alter_table("published_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_statements_translation_of"), ["translation_of"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_published_statements_updated_on"), ["updated_on"], unique=False
        )

    op.create_table(
        "signing_key_wraps",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_signing_key_wraps_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["signing_keys.key_id"],
            name=op.f("fk_signing_key_wraps_key_id_signing_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "account_id", name=op.f("pk_signing_key_wraps")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("signing_key_wraps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_key_wraps_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "published_versions",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("log_position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slug"],
            ["published_statements.slug"],
            name=op.f("fk_published_versions_slug_published_statements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("slug", "version", name=op.f("pk_published_versions")),
        sa.UniqueConstraint("log_position", name=op.f("uq_published_versions_log_position")),
    )
    _append_only_triggers()
    _signing_key_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER signing_keys_guard ON signing_keys")
        op.execute("DROP TRIGGER signing_keys_no_truncate ON signing_keys")
        op.execute("DROP FUNCTION guard_signing_key()")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION refuse_change()")
    op.drop_table("published_versions")
    with op.batch_alter_table("signing_key_wraps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_key_wraps_account_id"))

    op.drop_table("signing_key_wraps")
    with op.batch_alter_table("published_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_statements_updated_on"))
        batch_op.drop_index(batch_op.f("ix_published_statements_translation_of"))

    op.drop_table("published_statements")
    op.drop_table("endorsements")
    op.drop_table("signing_keys")
    op.drop_table("log_entries")
    op.drop_table("log_checkpoints")
