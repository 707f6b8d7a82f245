"""the agreement signed by the mediator and sealed by the committee; performance recorded apart

人民调解法 第二十九条: 调解协议书自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日
起生效. The agreement records who signed as mediator and who recorded the committee's seal, and when; it takes
effect (`effective_at`) with the seal, and its performance (`performed_at`) is found later, at follow-up.
The status column widens for the new states (draft | parties_signed | mediator_signed | effective).

Agreements the earlier code called `signed` (in force from the last party's confirmation) become
`effective` from that moment: the mediator's signature and the seal were not recorded then and stay empty.

Revision ID: mediation_0008
Revises: mediation_0007
Create Date: 2026-12-08 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'mediation_0008'
down_revision: str | None = 'mediation_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ('mediator_signed_by', 'mediator_signed_at', 'sealed_by', 'sealed_at', 'effective_at', 'performed_at')


def upgrade() -> None:
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=10), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('mediator_signed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('mediator_signed_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sealed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sealed_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('effective_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('performed_at', shared.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE agreements SET status = 'effective', effective_at = signed_at WHERE status = 'signed'")


def downgrade() -> None:
    op.execute("UPDATE agreements SET status = 'signed', signed_at = effective_at WHERE status = 'effective'")
    op.execute("UPDATE agreements SET status = 'draft', signed_at = NULL "
               "WHERE status IN ('parties_signed', 'mediator_signed')")
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        for column in reversed(NEW):
            batch_op.drop_column(column)
        batch_op.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=10),
                              existing_nullable=False)
