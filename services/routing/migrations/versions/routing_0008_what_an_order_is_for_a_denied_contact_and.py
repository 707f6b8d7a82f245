"""what an order is for, a denied contact, and the clocks of designation and whistles

Issue 12. A work order says what it is for (`kind`: work, praise, suggestion, guidance — only work
counts in 三率), whether the requester answered the callback that nobody contacted her
(`contact_denied`, which counts against 响应率) and whether a suggestion was adopted (`adopted`).
Routing's case keeps its kind for a re-dispatch, and its state is indexed (the list of cases waiting
for 指定 reads by it). A clock may wait for a whistle's report (`whistle_id`). The score index
carries the new columns, so the score query still reads one period from the index alone on
PostgreSQL. Existing rows are work (`server_default`).

A case already waiting for 指定 had no clock and nobody who could designate it was told: it gets
its designation clock due now, so the scanner announces it (routing.case.designation_overdue) to
its supervisors at once and it shows on the overdue list.

Revision ID: routing_0008
Revises: routing_0007
Create Date: 2026-12-02 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = 'routing_0008'
down_revision: str | None = 'routing_0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORE_COLUMNS = ['street_id', 'unit_id', 'category', 'status', 'excluded', 'sign_late', 'contact_late', 'evaluated',
                 'solved', 'satisfaction', 'resolved_at', 'result_late']
NEW_SCORE_COLUMNS = ['contact_denied', 'kind', 'adopted']


def upgrade() -> None:
    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='work', nullable=False))
        batch_op.create_index(batch_op.f('ix_routing_cases_state'), ['state'], unique=False)

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='work', nullable=False))
        batch_op.add_column(sa.Column('contact_denied', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('adopted', sa.Boolean(), nullable=True))
        batch_op.drop_index('ix_work_orders_scores')
        batch_op.create_index('ix_work_orders_scores', ['period', 'role'], unique=False,
                              postgresql_include=SCORE_COLUMNS + NEW_SCORE_COLUMNS)

    with op.batch_alter_table('clocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whistle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))

    clock_the_cases_waiting_for_designation(op.get_bind())


def clock_the_cases_waiting_for_designation(conn) -> None:
    """Each case waiting for 指定 gets a designation clock on its returned order, started when it was
    returned and due now: the scanner tells its supervisors at its next pass."""
    from shared.db import utcnow

    cases = sa.table("routing_cases", sa.column("state"), sa.column("lead_work_order_id"))
    orders = sa.table("work_orders", sa.column("id"), sa.column("updated_at", shared.db.UTCDateTime))
    clocks = sa.table("clocks", sa.column("work_order_id"), sa.column("kind"),
                      sa.column("started_at", shared.db.UTCDateTime), sa.column("warn_at", shared.db.UTCDateTime),
                      sa.column("deadline", shared.db.UTCDateTime), sa.column("working_time"), sa.column("warned"),
                      sa.column("overdue"), sa.column("next_fire_at", shared.db.UTCDateTime))
    now = utcnow()
    waiting = conn.execute(sa.select(orders.c.id, orders.c.updated_at).join(
        cases, cases.c.lead_work_order_id == orders.c.id).where(cases.c.state == "awaiting_designation")).all()
    if waiting:
        conn.execute(clocks.insert(), [
            {"work_order_id": oid, "kind": "designate", "started_at": since or now, "warn_at": now, "deadline": now,
             "working_time": False, "warned": True, "overdue": False, "next_fire_at": now}
            for oid, since in waiting])


def downgrade() -> None:
    with op.batch_alter_table('clocks', schema=None) as batch_op:
        batch_op.drop_column('whistle_id')

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_scores')
        batch_op.create_index('ix_work_orders_scores', ['period', 'role'], unique=False,
                              postgresql_include=SCORE_COLUMNS)
        batch_op.drop_column('adopted')
        batch_op.drop_column('contact_denied')
        batch_op.drop_column('kind')

    # The clocks an older scanner would not understand (it would emit them as a work order's).
    op.execute("DELETE FROM clocks WHERE kind IN ('designate', 'report')")
    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_cases_state'))
        batch_op.drop_column('kind')
