"""The 12345 platform's write-back, SMS to hotline callers without an account, webhook filters

- case_facts learns a case's category (intake) and area (routing's lead dispatch), for webhook
  subscriptions filtered by area and category; the platform and order number a case came from, whose
  progress is written back there; and the phone of a consenting hotline caller without an account
  (sealed, with its blind index), told of the dispatch and the result by SMS.
- platform_updates: each status written back to the platform, its body sealed (a result's text is a
  handler's words); its delivery is the message of the same id.
- webhook_subscriptions: `areas` and `categories` filters, empty (no filter) for every subscription
  made before, which keep getting what they got.

Revision ID: notify_0010
Revises: notify_0009
Create Date: 2027-01-08 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'notify_0010'
down_revision: str | None = 'notify_0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('area_path', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('unit_path', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('external_source', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('external_no', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('caller_phone', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('caller_phone_index', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_facts_external_no'), ['external_no'], unique=False)
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('areas', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('categories', sa.Text(), server_default='[]', nullable=False))
    op.create_table(
        'platform_updates',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('external_no', sa.String(length=100), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sa.String(length=60), nullable=False),
        sa.Column('status_code', sa.String(length=40), nullable=False),
        sa.Column('status_name', sa.String(length=40), nullable=False),
        sa.Column('occurred_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_updates')),
    )
    op.create_index('ix_platform_updates_order', 'platform_updates', ['source', 'external_no', 'occurred_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_platform_updates_order', table_name='platform_updates')
    op.drop_table('platform_updates')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('categories')
        batch_op.drop_column('areas')
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_facts_external_no'))
        batch_op.drop_column('caller_phone_index')
        batch_op.drop_column('caller_phone')
        batch_op.drop_column('external_no')
        batch_op.drop_column('external_source')
        batch_op.drop_column('unit_path')
        batch_op.drop_column('area_path')
        batch_op.drop_column('category')
