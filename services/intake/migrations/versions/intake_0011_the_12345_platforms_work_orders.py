"""the 12345 platform's work orders

Issue 13. A case imported from the city's 12345 hotline platform (POST /intake/v1/hotline/orders/import)
keeps the platform's name for itself (`external_source`, "12345"), its order number (`external_no`:
searchable, shown to staff and on every work order), when the platform received it and the deadline it
set; one case per order (`ux_cases_external`, which also makes a re-sent batch find what it made). The
requester's name the platform sends is sealed at rest like the phone (`requester_name`). Routing's result
deadline of the current order (`result_deadline`), from its events, is what the platform's deadline is
compared with. No case stored so far came from the platform: every new column starts empty.

Revision ID: intake_0011
Revises: intake_0010
Create Date: 2026-12-14 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'intake_0011'
down_revision: str | None = 'intake_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_source', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('external_no', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('external_received_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('external_deadline', shared.db.UTCDateTime(timezone=True), nullable=True))
        # Sealed at rest (models.Case.requester_name): the column holds the sealed text.
        batch_op.add_column(sa.Column('requester_name', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('result_deadline', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ux_cases_external', ['external_no', 'external_source'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ux_cases_external')
        for column in ('result_deadline', 'requester_name', 'external_deadline', 'external_received_at',
                       'external_no', 'external_source'):
            batch_op.drop_column(column)
