"""unit codes as long as routing's

Notify's organisation tree is read from the same organisation file routing imports, whose unit codes are up
to 32 characters (routing's levels.json code_pattern and units.code; identity, grid, selfgov and mediation
keep 32 too); notify kept them in units.code VARCHAR(20), so on PostgreSQL an organisation with longer codes
could not be loaded (SQLite does not enforce the length). The paths of a case's newest lead dispatch
(case_facts.area_path, unit_path) were cut to 300 characters, so a webhook filtering by a deep unit could miss
it: kept whole, as long as routing's units.path (400).

Revision ID: notify_0012
Revises: notify_0011
Create Date: 2026-12-01 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'notify_0012'
down_revision: str | None = 'notify_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PATHS = ("area_path", "unit_path")


def upgrade() -> None:
    with op.batch_alter_table('units') as batch:
        batch.alter_column('code', existing_type=sa.String(length=20), type_=sa.String(length=32),
                           existing_nullable=False)
    with op.batch_alter_table('case_facts') as batch:
        for column in PATHS:
            batch.alter_column(column, existing_type=sa.String(length=300), type_=sa.String(length=400),
                               existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('case_facts') as batch:
        for column in PATHS:
            batch.alter_column(column, existing_type=sa.String(length=400), type_=sa.String(length=300),
                               existing_nullable=True)
    with op.batch_alter_table('units') as batch:
        batch.alter_column('code', existing_type=sa.String(length=32), type_=sa.String(length=20),
                           existing_nullable=False)
