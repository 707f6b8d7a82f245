"""the audit trail, append-only and hash-chained

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-11-30 10:52:01.658684
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.audit import append_only_ddl


revision: str = 'identity_0002'
down_revision: str | None = 'identity_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_trail',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=30), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('subject_kind', sa.String(length=30), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_trail')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_trail_hash'))
    )
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.create_index('ix_audit_trail_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_trail_subject', ['subject_kind', 'subject_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # sealed entries can be neither changed nor deleted
        for statement in append_only_ddl():
            op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('audit_trail', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_trail_subject')
        batch_op.drop_index('ix_audit_trail_at')

    op.drop_table('audit_trail')
