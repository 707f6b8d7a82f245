"""result photos and the unit a praise names

A handler's photos of the result are uploads like the resident's (POST /intake/v1/attachments), named
by id in routing's resolve and claimed by intake when routing.case.resolved arrives: `attachments.purpose`
tells them (`result`) from the requester's material (`material`), which every upload stored so far is.
`cases.praised_unit_code` keeps the unit a resident's praise (表扬) names, sent to routing on
intake.case.submitted; no case stored so far named one.

Revision ID: intake_0010
Revises: intake_0009
Create Date: 2026-12-07 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'intake_0010'
down_revision: str | None = 'intake_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=10), server_default='material', nullable=False))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('praised_unit_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('praised_unit_code')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('purpose')
