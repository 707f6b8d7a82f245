"""the working calendar: the State Council's holiday notices, loaded and versioned

Issue 12. chinesecalendar knows the years up to 2026, so 2027's 春节 counted as working days. An
admin now loads each year's notice (国务院办公厅关于某年部分节假日安排的通知) over the API; every load
is a new version of its year, kept with who loaded it and when, and the newest version of a year is
the one every working-day clock counts on (services/routing/notices.py, workcalendar.py). Rows are
only ever added. No existing row changes.

Revision ID: routing_0008_calendar
Revises: routing_0008
Create Date: 2026-12-02 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'routing_0008_calendar'
# The head when this was written: the rules' routing_0008 (linearise if the order changes).
down_revision: str | None = 'routing_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_notices')),
    sa.UniqueConstraint('year', 'version', name=op.f('uq_calendar_notices_year'))
    )
    with op.batch_alter_table('calendar_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_notices_year'), ['year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendar_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_notices_year'))

    op.drop_table('calendar_notices')
