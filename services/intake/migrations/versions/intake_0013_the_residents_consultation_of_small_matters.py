"""the residents' consultation of 小事: the last selfgov matter step applied to a case

Issue 16. A category routed `consultation` sends its 小事 to the residents' consultation (selfgov);
intake follows the matter's steps on the case (handlers.apply_selfgov), dropping an older step than
the last one applied, as it does mediation's.

Revision ID: intake_0013
Revises: intake_0012
Create Date: 2026-11-30 16:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'intake_0013'
down_revision: str | None = 'intake_0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('consultation_seq', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('consultation_seq')
