"""ratings wait to be counted in shuffled batches

A rating and its ballot were written in one transaction, one after the other: the transaction id (xmin) and
the insertion order tied the answers to the ballot, and the ballot's keyed hash to the resident, for whoever
held the database and the index key. Ratings now wait here and move into `ratings` in batches of at least
`release_batch` per community, in random order, in a transaction of their own (selfgov.ratings.release). The
ratings given before are rewritten here the same way: one shuffled batch with new ids, in this transaction.

Revision ID: selfgov_0004
Revises: selfgov_0003
Create Date: 2026-12-01 03:00:00.000000
"""
import random
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'selfgov_0004'
down_revision: str | None = 'selfgov_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'ratings_waiting',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('community_code', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('grid_code', sa.String(length=32), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings_waiting')),
    )
    op.create_index('ix_ratings_waiting_period_community', 'ratings_waiting', ['period', 'community_code'])
    ratings = sa.table('ratings', sa.column('id', sa.String), sa.column('community_code', sa.String),
                       sa.column('period', sa.String), sa.column('grid_code', sa.String),
                       sa.column('answers', sa.JSON), sa.column('submitted_on', sa.Date))
    conn = op.get_bind()
    given = [dict(row._mapping) for row in conn.execute(sa.select(ratings))]
    if given:
        random.SystemRandom().shuffle(given)
        conn.execute(sa.delete(ratings))
        conn.execute(sa.insert(ratings), [{**row, 'id': str(uuid.uuid4())} for row in given])


def downgrade() -> None:
    # Whatever still waits is counted as it is (in the order it came): a downgrade must not lose answers.
    op.execute("INSERT INTO ratings (id, community_code, period, grid_code, answers, submitted_on) "
               "SELECT id, community_code, period, grid_code, answers, CURRENT_DATE FROM ratings_waiting")
    op.drop_index('ix_ratings_waiting_period_community', table_name='ratings_waiting')
    op.drop_table('ratings_waiting')
