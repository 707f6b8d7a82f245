"""an application once per Idempotency-Key: the first answer kept (sealed) and given back to a retry

Findings (other) 6: POST /disputes ignored the header, so a double-tapped "submit" filed two disputes against
the same respondent and told everyone twice. The same table and rule as grid's and routing's (shared/offline.py).

Revision ID: mediation_0011
Revises: mediation_0010
Create Date: 2026-12-01 16:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'mediation_0011'
down_revision: str | None = 'mediation_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'idempotency_keys',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys')),
    )


def downgrade() -> None:
    op.drop_table('idempotency_keys')
