"""users' display names sealed at rest

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-11-30 11:19:29.599057
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'identity_0003'
down_revision: str | None = 'identity_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "identity.users.display_name"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # The plain names must not stay readable in the pages the copy and the update free.
        op.execute("PRAGMA secure_delete = ON")
    # The sealed text is longer than the 100 characters of a name.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name', existing_type=sa.VARCHAR(length=100), type_=sa.Text(),
                              existing_nullable=True)

    from shared.sealed import seal_existing

    seal_existing(op.get_bind(), "users", "id", "display_name", NAME)


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, display_name FROM users WHERE display_name IS NOT NULL")).fetchall()
    if rows:
        from shared.config import get_settings
        from shared.keys import data_keys

        keys = data_keys(get_settings())
        for user_id, name in rows:
            conn.execute(sa.text("UPDATE users SET display_name = :v WHERE id = :k"),
                         {"v": keys.open(name, NAME), "k": user_id})
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('display_name', existing_type=sa.Text(), type_=sa.VARCHAR(length=100),
                              existing_nullable=True)
