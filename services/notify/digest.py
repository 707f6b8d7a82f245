"""The daily digest per unit of its warned and overdue work orders (collected from
routing.case.warned / routing.case.overdue), sent to the unit's staff once a day."""

import threading
import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.background import every
from shared.config import local_zone
from shared.db import upsert_insert, utcnow
from shared.events.routing import CaseOverdue, CaseWarned
from shared.messaging.outbox import wake_after_commit
from shared.runtime import ServiceRuntime
from shared.uow import Emit

from . import directory
from .config import Config, config_of
from .messages import record_message, sender_wakeup
from .models import DigestItem, Unit

DIGEST_NAMESPACE = uuid.UUID("0b9d4a57-3c55-4c1e-9e0e-5b7f2d6a9c31")
CHECK_SECONDS = 60.0


def collect(session: Session, payload: CaseWarned | CaseOverdue) -> None:
    """Keep a warned or overdue work order for its unit's digest of that (local) day, once."""
    insert = upsert_insert(session)
    session.execute(insert(DigestItem).values(
        unit_id=payload.unit_id, day=payload.at.astimezone(local_zone()).date().isoformat(),
        kind="warned" if payload.event_type.endswith("warned") else "overdue", clock=payload.clock,
        case_id=payload.case_id, case_no=payload.case_no, work_order_id=payload.work_order_id,
        deadline=payload.deadline,
    ).on_conflict_do_nothing())


def send_digests(session: Session, emit: Emit, cfg: Config, day: date, wake: threading.Event) -> int:
    """Record the digest of `day` for every unit that had warned or overdue work orders.

    Idempotent: the digest's event id is derived from (unit, day), so running it twice records
    nothing new. Returns the number of units with a digest.
    """
    items = session.scalars(select(DigestItem).where(DigestItem.day == day.isoformat())).all()
    per_unit: dict[str, dict[str, set]] = defaultdict(lambda: {"warned": set(), "overdue": set()})
    for item in items:
        per_unit[item.unit_id][item.kind].add(item.work_order_id)
    queued = False
    for unit_id, kinds in per_unit.items():
        unit = session.get(Unit, unit_id)
        values = {"unit_name": unit.name if unit else "本单位", "day": day.isoformat(),
                  "warned": str(len(kinds["warned"])), "overdue": str(len(kinds["overdue"]))}
        event_id = str(uuid.uuid5(DIGEST_NAMESPACE, f"{unit_id}:{day.isoformat()}"))
        for recipient_id in directory.staff_of(session, [unit_id]):
            queued |= record_message(session, emit, cfg, recipient_id, "digest.daily", values, event_id, "unit",
                                     unit_id)
    if queued:
        wake_after_commit(session, wake)
    return len(per_unit)


def run_daily(rt: ServiceRuntime, stop: threading.Event) -> None:
    """Once the configured hour has come (local time), send yesterday's digest; checked every minute."""
    cfg, wake = config_of(rt), sender_wakeup(rt)
    done: date | None = None

    def step() -> int:
        nonlocal done
        local = utcnow().astimezone(local_zone())
        yesterday = local.date() - timedelta(days=1)
        if local.hour < cfg.policy.digest_hour or done == yesterday:
            return 0
        with rt.unit_of_work() as uow:
            units = send_digests(uow.session, uow.emit, cfg, yesterday, wake)
        done = yesterday
        return units

    every(CHECK_SECONDS, step, stop, name="notify digest")


def items_of(session: Session, unit_id: str, day: date) -> list[DigestItem]:
    """A unit's warned and overdue work orders of a day, as its digest counted them."""
    return list(session.scalars(select(DigestItem).where(DigestItem.unit_id == unit_id,
                                                         DigestItem.day == day.isoformat())
                                .order_by(DigestItem.kind, DigestItem.case_no)))
