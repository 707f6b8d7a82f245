"""the 12345 platform's order number on every work order

Issue 13. A case imported from the city's 12345 hotline platform carries the platform's order number on
intake.case.submitted (`external_no`): routing keeps it on its case, for the re-dispatches, and on every
work order, where handlers, the overdue and designation lists and the ledger show it. An identifier, not
personal data. Cases and orders stored so far came from no platform: the columns start empty.

Revision ID: routing_0009
Revises: routing_0008_calendar
Create Date: 2026-12-14 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'routing_0009'
down_revision: str | None = 'routing_0008_calendar'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_no', sa.String(length=64), nullable=True))
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_no', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('external_no')
    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.drop_column('external_no')
