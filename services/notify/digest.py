"""The daily digest per unit of its warned and overdue work orders (collected from
routing.case.warned / routing.case.overdue), sent to the unit's staff once a day."""

import logging
import threading
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared.db import utcnow
from shared.runtime import ServiceRuntime

from . import directory
from .config import config_of
from .handlers import catalogue_of, record_message, sender_wakeup
from .models import DigestItem, Unit

log = logging.getLogger(__name__)
DIGEST_NAMESPACE = uuid.UUID("0b9d4a57-3c55-4c1e-9e0e-5b7f2d6a9c31")


def send_digests(rt: ServiceRuntime, day: date) -> int:
    """Record the digest of `day` for every unit that had warned or overdue work orders.

    Idempotent: the digest's event id is derived from (unit, day), so running it twice records
    nothing new. Returns the number of units with a digest.
    """
    cfg, catalogue = config_of(rt), catalogue_of(rt)
    with rt.uow() as session:
        items = session.scalars(select(DigestItem).where(DigestItem.day == day.isoformat())).all()
        per_unit: dict[str, dict[str, set]] = defaultdict(lambda: {"warned": set(), "overdue": set()})
        for item in items:
            per_unit[item.unit_id][item.kind].add(item.work_order_id)
        for unit_id, kinds in per_unit.items():
            unit = session.get(Unit, unit_id)
            values = {"unit_name": unit.name if unit else "本单位", "day": day.isoformat(),
                      "warned": str(len(kinds["warned"])), "overdue": str(len(kinds["overdue"]))}
            event_id = str(uuid.uuid5(DIGEST_NAMESPACE, f"{unit_id}:{day.isoformat()}"))
            for recipient_id in directory.staff_of(session, [unit_id]):
                record_message(session, cfg, catalogue, recipient_id, "digest.daily", values, event_id, "unit",
                               unit_id, lambda payload, s=session: rt.outbox.emit(s, payload))
        session.info.setdefault("cg_outbox_signals", set()).add(sender_wakeup(rt))
    return len(per_unit)


def run_daily(rt: ServiceRuntime, stop: threading.Event, check_seconds: float = 60.0) -> None:
    """Once the configured hour has come (local time), send yesterday's digest; checked every minute."""
    cfg = config_of(rt)
    tz = ZoneInfo(cfg.policy.timezone)
    done: date | None = None
    while not stop.is_set():
        local: datetime = utcnow().astimezone(tz)
        yesterday = local.date() - timedelta(days=1)
        if local.hour >= cfg.policy.digest_hour and done != yesterday:
            try:
                send_digests(rt, yesterday)
                done = yesterday
            except Exception as exc:  # try again at the next check
                log.warning("notify digest: %s", type(exc).__name__)
        stop.wait(check_seconds)
