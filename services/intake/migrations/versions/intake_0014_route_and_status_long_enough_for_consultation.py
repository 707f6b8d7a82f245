"""a case's route and status long enough for the residents' consultation

cases.route was VARCHAR(10) and `consultation` (issue 16) is twelve characters: on PostgreSQL every 小事 case
a resident filed for the residents' consultation was refused (422, the value did not fit). cases.status was
VARCHAR(20) and the consultation's later steps are up to 25 (`consultation_implementing`): the intake worker
could not apply them. SQLite does not enforce the length, so only services mode showed it.

Revision ID: intake_0014
Revises: intake_0013
Create Date: 2026-12-01 07:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'intake_0014'
down_revision: str | None = 'intake_0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# column: (length before, length now)
WIDENED = {"route": (10, 16), "status": (20, 32)}


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        for column, (before, now) in WIDENED.items():
            batch.alter_column(column, existing_type=sa.String(length=before), type_=sa.String(length=now),
                               existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        for column, (before, now) in WIDENED.items():
            batch.alter_column(column, existing_type=sa.String(length=now), type_=sa.String(length=before),
                               existing_nullable=False)
