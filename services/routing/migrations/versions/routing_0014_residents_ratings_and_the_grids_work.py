"""residents' ratings and the grid's work in the scores

Issues 16 and 17. `resident_ratings`: each community's and grid's 居民直评 score per rating period, as selfgov
last published it (selfgov.ratings.scored), a rate of the composite. `grid_activity`: one row per patrol
finished and per case a grid worker settled on the spot (自办自结), counted per grid and month beside the
scores.

Revision ID: routing_0014
Revises: routing_0013
Create Date: 2026-11-30 17:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'routing_0014'
down_revision: str | None = 'routing_0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'resident_ratings',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('unit_code', sa.String(length=32), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('responses', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('as_of', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('period', 'unit_id', name=op.f('pk_resident_ratings')),
    )
    op.create_table(
        'grid_activity',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('grid_id', sa.String(length=36), nullable=True),
        sa.Column('community_id', sa.String(length=36), nullable=True),
        sa.Column('street_id', sa.String(length=36), nullable=True),
        sa.Column('worker_id', sa.String(length=64), nullable=True),
        sa.Column('distance_m', sa.Float(), nullable=False),
        sa.Column('findings', sa.Integer(), nullable=False),
        sa.Column('counted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_activity')),
    )
    op.create_index('ix_grid_activity_period_grid', 'grid_activity', ['period', 'grid_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_grid_activity_period_grid', table_name='grid_activity')
    op.drop_table('grid_activity')
    op.drop_table('resident_ratings')
