"""urgency requests and the editable knowledge base

A requester's wish for a higher urgency is kept on the case (`requested_urgency`) for staff to decide
on, instead of raising the case's urgency (and its clocks) by itself. The hotline's knowledge base,
until now only the shipped data/knowledge.json, is edited over the API: `knowledge_entries` holds
each edited entry's current version and whether it is retired, `knowledge_versions` every version
(a case answered from an entry names the version it cited). Nothing existing changes: an entry
nobody edited stays as the file says, and no case had a request recorded.

Revision ID: intake_0009
Revises: intake_0008
Create Date: 2026-11-30 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'intake_0009'
down_revision: str | None = 'intake_0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_urgency', sa.String(length=4), nullable=True))
    op.create_table('knowledge_entries',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retired_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_entries'))
    )
    op.create_table('knowledge_versions',
    sa.Column('entry_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('entry_id', 'version', name=op.f('pk_knowledge_versions'))
    )


def downgrade() -> None:
    op.drop_table('knowledge_versions')
    op.drop_table('knowledge_entries')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('requested_urgency')
