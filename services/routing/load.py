"""Each person's open work orders as a counter (models.AssigneeLoad), kept in the transaction of every
change of a work order: opened, signed for, closed, returned, reassigned, cancelled, given another
assignee. One hook on the ORM's flush sees them all, so no rule has to remember the counter, and one
INSERT … ON CONFLICT DO UPDATE per flush applies them. Work orders are only ever changed through the
ORM (no bulk UPDATE of work_orders): a bulk change would have to adjust the counter itself.
"""

from collections import Counter

from sqlalchemy import Connection, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from shared.db import upsert_insert

from .models import OPEN_STATUSES, AssigneeLoad, WorkOrder


def _holder(status: str | None, assignee_id: str | None) -> str | None:
    """Whose load an order in this state counts in, if anyone's."""
    return assignee_id if assignee_id and status in OPEN_STATUSES else None


def _before(order: WorkOrder, name: str):
    history = inspect(order).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else getattr(order, name)


def changes(session: Session) -> Counter:
    """How each person's open orders change when the session flushes what it holds now."""
    delta: Counter = Counter()
    for obj in session.new:
        if isinstance(obj, WorkOrder) and (who := _holder(obj.status, obj.assignee_id)):
            delta[who] += 1
    for obj in session.dirty:
        if isinstance(obj, WorkOrder):
            was = _holder(_before(obj, "status"), _before(obj, "assignee_id"))
            now = _holder(obj.status, obj.assignee_id)
            if was != now:
                if was:
                    delta[was] -= 1
                if now:
                    delta[now] += 1
    for obj in session.deleted:
        if isinstance(obj, WorkOrder) and (who := _holder(_before(obj, "status"), _before(obj, "assignee_id"))):
            delta[who] -= 1
    return Counter({k: v for k, v in delta.items() if v})


def recount(conn: Connection) -> None:
    """Every counter from the work orders themselves (orders written behind the ORM's back: a restore,
    the benchmark's history)."""
    table = AssigneeLoad.__table__
    conn.execute(delete(table))
    conn.execute(insert(table).from_select(
        ["user_id", "open_orders"],
        select(WorkOrder.assignee_id, func.count()).where(WorkOrder.assignee_id.is_not(None),
                                                          WorkOrder.status.in_(OPEN_STATUSES))
        .group_by(WorkOrder.assignee_id)))


@event.listens_for(Session, "before_flush")
def _apply(session: Session, _context, _instances) -> None:
    delta = changes(session)
    if not delta:
        return
    table = AssigneeLoad.__table__
    stmt = upsert_insert(session)(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.user_id],
                                      set_={"open_orders": table.c.open_orders + stmt.excluded.open_orders})
    # Sorted: two workers raising the same people's counters lock their rows in the same order.
    session.execute(stmt, [{"user_id": k, "open_orders": v} for k, v in sorted(delta.items())])
