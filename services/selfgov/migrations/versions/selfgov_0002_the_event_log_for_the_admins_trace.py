"""the event log: every event emitted and handled, by correlation id, for the admins' trace

Issue 14 (one resident's request followed across every service). One compact row per event this
service emits or handles (shared/tracing.py), written in the transaction that emits or handles it,
read by GET /selfgov/v1/admin/trace/{correlation_id}, pruned after CG_TRACE_DAYS.

Revision ID: selfgov_0002
Revises: selfgov_0001
Create Date: 2026-11-30 16:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'selfgov_0002'
down_revision: str | None = 'selfgov_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'event_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sa.String(length=80), nullable=False),
        sa.Column('subject_kind', sa.String(length=30), nullable=True),
        sa.Column('subject_id', sa.String(length=64), nullable=True),
        sa.Column('correlation_id', sa.String(length=64), nullable=True),
        sa.Column('causation_id', sa.String(length=36), nullable=True),
        sa.Column('handler', sa.String(length=120), nullable=True),
        sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_log')),
    )
    op.create_index('ix_event_log_correlation_id', 'event_log', ['correlation_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_event_log_correlation_id', table_name='event_log')
    op.drop_table('event_log')
