"""revoked tokens and API keys kept from identity's events

Revision ID: routing_0004
Revises: routing_0003
Create Date: 2026-11-30 09:52:47.391538
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db


revision: str = 'routing_0004'
down_revision: str | None = 'routing_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_api_keys',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=True),
    sa.Column('expires_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_auth_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_auth_api_keys_key_hash'))
    )
    op.create_table('auth_revocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_revocations'))
    )
    with op.batch_alter_table('auth_revocations', schema=None) as batch_op:
        batch_op.create_index('ix_auth_revocations_revoked_at', ['revoked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('auth_revocations', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_revocations_revoked_at')

    op.drop_table('auth_revocations')
    op.drop_table('auth_api_keys')
