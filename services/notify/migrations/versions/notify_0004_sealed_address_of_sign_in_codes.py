"""the sealed address and values of a message to someone with no recipient entry (sign-in codes)

Revision ID: notify_0004
Revises: notify_0003
Create Date: 2026-11-30 10:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'notify_0004'
down_revision: str | None = 'notify_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('sealed')
