"""rating figures published to routing: what was last told of each rating period

Issue 16 (residents' ratings feed the units' scores): the background job publishes a rating period's figures
(selfgov.ratings.scored) when they changed and once more when the period is over; this row per period holds
the hash of what was told, when it was checked (claimed FOR UPDATE SKIP LOCKED) and whether it was final.

Revision ID: selfgov_0003
Revises: selfgov_0002
Create Date: 2026-11-30 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'selfgov_0003'
down_revision: str | None = 'selfgov_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'rating_publications',
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=True),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('checked_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('published_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('period', name=op.f('pk_rating_publications')),
    )


def downgrade() -> None:
    op.drop_table('rating_publications')
