"""offline replays of work-order steps: the Idempotency-Keys of sign, contact, resolve, answer and return

Issue 17 (offline-safe). A grid worker's phone queues the steps it takes in a stairwell and replays them;
a replay with the same key returns the first answer (sealed) and changes nothing (shared/offline.py).

Revision ID: routing_0013
Revises: routing_0012
Create Date: 2026-11-30 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'routing_0013'
down_revision: str | None = 'routing_0012'
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
