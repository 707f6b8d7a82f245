"""a case's area and unit paths as long as routing's

Routing's dispatch events carry a unit's path in the organisation ("/district/street/community/grid/"), which
routing keeps in units.path VARCHAR(400); intake kept it in cases.area_path and case_units.unit_path,
VARCHAR(300). The number of area levels is the deployment's (routing's levels.json) and a unit code up to 32
characters, so a deep enough organisation's dispatch could not be applied on PostgreSQL (SQLite does not
enforce the length).

Revision ID: intake_0015
Revises: intake_0014
Create Date: 2026-12-01 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'intake_0015'
down_revision: str | None = 'intake_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# (table, column): (length before, length now)
WIDENED = {("cases", "area_path"): (300, 400), ("case_units", "unit_path"): (300, 400)}


def upgrade() -> None:
    for (table, column), (before, now) in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=before), type_=sa.String(length=now),
                               existing_nullable=True)


def downgrade() -> None:
    for (table, column), (before, now) in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=now), type_=sa.String(length=before),
                               existing_nullable=True)
