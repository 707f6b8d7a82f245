"""each person's open work orders kept as a counter; the directory's revision

Issue 15: choosing the assignee counted every open order of every candidate for each case (10 ms for
a dispatcher holding 8,552 open orders), so a case's cost grew with the history. `assignee_loads`
holds the count, kept in the transaction of every change of a work order (services/routing/load.py);
filled here from the orders open now. `reference_revisions` numbers the changes of the directory, so
a process rebuilds its grid index when an import changed it rather than every minute.

Revision ID: routing_0012
Revises: routing_0011
Create Date: 2026-11-30 16:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'routing_0012'
down_revision: str | None = 'routing_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# models.OPEN_STATUSES when this was written (a migration does not follow later changes of the code).
OPEN_STATUSES = ("dispatched", "signed", "in_progress", "resolved", "verified")


def upgrade() -> None:
    op.create_table(
        'assignee_loads',
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('open_orders', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'reference_revisions',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    op.execute(f"INSERT INTO assignee_loads (user_id, open_orders) SELECT assignee_id, count(*) FROM work_orders "
               f"WHERE assignee_id IS NOT NULL AND status IN ({statuses}) GROUP BY assignee_id")


def downgrade() -> None:
    op.drop_table('reference_revisions')
    op.drop_table('assignee_loads')
