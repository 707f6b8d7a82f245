"""case_facts and case_followers: what notify remembers about a case for its rules

Routing's events name neither the case's urgency nor the residents who joined it (它也影响我), and
intake's evaluation names no requester; notify learns them from the events it sees
(services/notify/cases.py): a 特急 or 紧急 case's work orders are not held by quiet hours, followers
hear of the case's progress, a dissatisfied requester is told whether and until when she may reopen.
Ids, a level and times only. Cases seen before this revision have no row: their messages are as the
templates say, as before.

Revision ID: notify_0009
Revises: notify_0008
Create Date: 2026-12-10 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'notify_0009'
down_revision: str | None = 'notify_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'case_facts',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('urgency', sa.String(length=4), nullable=True),
        sa.Column('urgency_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('requester_id', sa.String(length=64), nullable=True),
        sa.Column('lead_work_order_id', sa.String(length=36), nullable=True),
        sa.Column('resolved_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reopens', sa.Integer(), nullable=False),
        sa.Column('dissatisfied', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_facts')),
    )
    op.create_table(
        'case_followers',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_followers')),
    )


def downgrade() -> None:
    op.drop_table('case_followers')
    op.drop_table('case_facts')
