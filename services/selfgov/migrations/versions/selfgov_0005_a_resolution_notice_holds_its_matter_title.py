"""a resolution's notice holds its matter's whole title

A resolution is published as a notice titled 议事决议公示：<the matter's title>; a matter's title may be 120
characters and notices.title was VARCHAR(120), so on PostgreSQL the meeting that adopted the resolution of a
matter titled over 113 characters failed (SQLite does not enforce the length).

Revision ID: selfgov_0005
Revises: selfgov_0004
Create Date: 2026-12-01 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'selfgov_0005'
down_revision: str | None = 'selfgov_0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notices') as batch:
        batch.alter_column('title', existing_type=sa.String(length=120), type_=sa.String(length=128),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('notices') as batch:
        batch.alter_column('title', existing_type=sa.String(length=128), type_=sa.String(length=120),
                           existing_nullable=False)
