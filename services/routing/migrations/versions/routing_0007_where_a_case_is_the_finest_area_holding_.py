"""where a case is: the finest area holding it

Routing kept only the street of a located case, so community staff never reached the orders of a
case located in their community that a department handled, and intake (which limits its readers by
the dispatched event's `area_path`) could not tell either. Each case and work order now keeps the
finest area unit whose polygon holds the case's point (a grid, else a community, ...): filled here
for the cases already located, from their coordinates and the units' polygons, as dispatch does.

Revision ID: routing_0007
Revises: routing_0006
Create Date: 2026-11-30 12:22:29.030505
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'routing_0007'
down_revision: str | None = 'routing_0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

units = sa.table("units", sa.column("id"), sa.column("code"), sa.column("level"), sa.column("depth"),
                 sa.column("geometry"))
cases = sa.table("routing_cases", sa.column("case_id"), sa.column("lat"), sa.column("lon"), sa.column("area_id"))
orders = sa.table("work_orders", sa.column("case_id"), sa.column("area_id"))


def upgrade() -> None:
    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.String(length=36), nullable=True))

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_work_orders_area_id'), ['area_id'], unique=False)

    locate_existing_cases(op.get_bind())


def locate_existing_cases(conn) -> None:
    """Every located case (and its orders) gets the finest area unit holding its point (the lower
    code on a border), as `dispatch.place` does for a new case."""
    import shapely
    from shapely.geometry import shape

    from services.routing import config

    areas = config.get().levels.areas
    with_area = [u for u in conn.execute(sa.select(units).where(units.c.geometry.is_not(None)))
                 if u.level in areas]
    if not with_area:
        return
    tree = shapely.STRtree([shape(json.loads(u.geometry)) for u in with_area])
    located = conn.execute(sa.select(cases.c.case_id, cases.c.lat, cases.c.lon).where(
        cases.c.lat.is_not(None), cases.c.lon.is_not(None), cases.c.area_id.is_(None))).all()
    found = []
    for case_id, lat, lon in located:
        hits = sorted((with_area[i] for i in tree.query(shapely.Point(lon, lat), predicate="intersects")),
                      key=lambda u: (-u.depth, u.code))
        if hits:
            found.append({"cid": case_id, "aid": hits[0].id})
    if found:
        conn.execute(cases.update().where(cases.c.case_id == sa.bindparam("cid")).values(area_id=sa.bindparam("aid")),
                     found)
        conn.execute(orders.update().where(orders.c.case_id == sa.bindparam("cid")).values(area_id=sa.bindparam("aid")),
                     found)


def downgrade() -> None:
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_orders_area_id'))
        batch_op.drop_column('area_id')

    with op.batch_alter_table('routing_cases', schema=None) as batch_op:
        batch_op.drop_column('area_id')
