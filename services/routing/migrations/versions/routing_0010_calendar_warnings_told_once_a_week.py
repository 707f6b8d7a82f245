"""the calendar's keepers told once a week of a year no notice covers

Issue 12 (a year with no notice loaded raises a warning to admins well before it starts). The clock
scanner now tells the admins and the root unit's supervisors (routing.calendar.not_covered) instead of
only logging; one row per year and week makes it once whichever worker scans first.

Revision ID: routing_0010
Revises: routing_0009
Create Date: 2026-11-30 15:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'routing_0010'
down_revision: str | None = 'routing_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'calendar_warnings',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('told_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', 'week'),
    )


def downgrade() -> None:
    op.drop_table('calendar_warnings')
