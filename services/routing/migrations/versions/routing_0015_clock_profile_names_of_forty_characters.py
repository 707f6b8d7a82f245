"""clock profile names of up to forty characters

Intake's catalogue may name a clock profile of up to 40 characters (shared.events.intake
CLOCK_PROFILE_MAX_LENGTH) and sends it with every submitted case; routing kept it in
routing_cases.clock_profile VARCHAR(20), so on PostgreSQL a case of such a category could not be taken
(SQLite does not enforce the length). work_orders.clock_profile keeps routing's own profile name, which a case
may request by the same name: both hold 40 now.

Revision ID: routing_0015
Revises: routing_0014
Create Date: 2026-12-01 12:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'routing_0015'
down_revision: str | None = 'routing_0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = ("routing_cases", "work_orders")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column('clock_profile', existing_type=sa.String(length=20), type_=sa.String(length=40),
                               existing_nullable=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column('clock_profile', existing_type=sa.String(length=40), type_=sa.String(length=20),
                               existing_nullable=True)
