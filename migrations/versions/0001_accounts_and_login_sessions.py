"""accounts and login sessions

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("lookup_id", sa.LargeBinary(length=32), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("kdf_salt", sa.LargeBinary(length=16), nullable=True),
        sa.Column("kdf_params", sa.String(length=200), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("wrapped_private_key", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_author_secret", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_totp", sa.LargeBinary(), nullable=True),
        sa.Column("enrolment_token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'member' AND lookup_id IS NOT NULL AND username IS NULL) OR (role <> 'member' AND username IS NOT NULL AND lookup_id IS NULL)",
            name=op.f("ck_accounts_identity"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'member')", name=op.f("ck_accounts_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("enrolment_token_hash", name=op.f("uq_accounts_enrolment_token_hash")),
        sa.UniqueConstraint("lookup_id", name=op.f("uq_accounts_lookup_id")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "login_sessions",
        sa.Column("id_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_login_sessions")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_expires_at"))

    op.drop_table("login_sessions")
    op.drop_table("accounts")
