"""dispute numbers from a running number per month, not six random hex digits

`TJ-20260302-3FA9C1` was the date and 6 random hex digits: collisions were expected at a few thousand disputes
a day. A number is now the month's running number (`TJ-20260302-000123`): on PostgreSQL from a sequence per
month (`dispute_no_2026_03`, made on first use, like intake's case numbers), on SQLite from this table
(shared/numbering.py). Disputes filed before keep their numbers. A downgrade keeps the sequences.

Revision ID: mediation_0009
Revises: mediation_0008
Create Date: 2026-12-10 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'mediation_0009'
down_revision: str | None = 'mediation_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dispute_counters',
                    sa.Column('period', sa.String(length=16), nullable=False),
                    sa.Column('value', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('period', name=op.f('pk_dispute_counters')))


def downgrade() -> None:
    # PostgreSQL's sequences stay: upgraded again, the numbers go on from where they were and never repeat one.
    op.drop_table('dispute_counters')
