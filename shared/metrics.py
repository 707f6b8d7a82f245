"""Prometheus metrics (prometheus_client), the same in both modes: one registry per process.

Embedded mode serves the whole process's metrics at `/metrics` (and at `/<service>/metrics`, the same
registry); services mode serves each API's at `/<service>/metrics` and each worker's at `/metrics` of
its probe server (CG_WORKER_HEALTH_ADDRESS). docs/operations.md ("Metrics") lists every metric.

Labels are bounded vocabularies only: services, route templates (never the raw path), methods, status
codes, event routing keys, channels, unit levels, urgencies. Never an id, a user, a phone or an address.

Who may read them: metrics reveal load and failures, not personal data, so they need no token, but the
endpoint answers only clients on loopback or in `Settings.metrics_allowed_clients` (addresses or
networks), and 404 to anybody else, as if it did not exist: from outside, the volume of complaints
per street or a failing SMS provider is nobody's business.
"""

import ipaddress
import threading
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, Table, func, select

from .db import utcnow

HTTP_REQUESTS = Counter("cg_http_requests", "HTTP requests answered, by route template",
                        ["service", "route", "method", "status"])
HTTP_LATENCY = Histogram("cg_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
                         ["service", "route", "method"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("cg_events", "Delivered events by what came of them (handled, retried, dead_lettered)",
                 ["service", "handler", "outcome"])
INBOX_DUPLICATES = Counter("cg_inbox_duplicates", "Repeat deliveries the inbox dropped", ["service", "handler"])
NOTIFICATIONS = Counter("cg_notifications", "Notification messages settled (sent, failed, suppressed), by channel",
                        ["channel", "status"])
REFUSED = Counter("cg_http_refused_busy", "Requests an API process refused at once with 503 service.busy "
                  "(shared/admission.py): more than CG_ADMISSION_LIMIT were in flight", ["service"])
CLOCKS = Counter("cg_clocks_fired", "Routing clocks that warned or ran overdue",
                 ["kind", "clock", "level", "urgency"])

UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404): never its raw path
UNKNOWN = "unknown"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _label(value: object) -> str:
    """A label value from a bounded vocabulary, cut short just in case (a label is never free text)."""
    return str(value)[:60] if value not in (None, "") else UNKNOWN


def observe_request(service: str, route: str | None, method: str | None, status: int | None, seconds: float) -> None:
    route = route or UNMATCHED
    method = method if method in METHODS else "other"  # a client may send any token as its method
    HTTP_REQUESTS.labels(service, route, method, str(status or 500)).inc()
    HTTP_LATENCY.labels(service, route, method).observe(seconds)


def event_outcome(service: str, handler: str, outcome: str) -> None:
    """outcome: handled, retried or dead_lettered (decided by the transport, see local_bus/amqp)."""
    EVENTS.labels(service, _label(handler), outcome).inc()


def inbox_duplicate(service: str, handler: str) -> None:
    INBOX_DUPLICATES.labels(service, _label(handler)).inc()


def notification(channel: str, status: str) -> None:
    NOTIFICATIONS.labels(_label(channel), status).inc()


def clock_fired(kind: str, clock: str, level: str | None, urgency: str | None) -> None:
    CLOCKS.labels(kind, _label(clock), _label(level), _label(urgency)).inc()


class OutboxCollector(Collector):
    """Each service's outbox, measured at scrape time: rows waiting and the age of the oldest. Cheap:
    the relay keeps the outbox near empty, and the oldest row is the lowest id (primary key)."""

    def __init__(self):
        self._outboxes: dict[str, tuple[Engine, Table]] = {}
        self._lock = threading.Lock()

    def watch(self, service: str, engine: Engine, table: Table) -> None:
        with self._lock:
            self._outboxes[service] = (engine, table)

    def forget(self, service: str, engine: Engine) -> None:
        with self._lock:
            if self._outboxes.get(service, (None,))[0] is engine:
                del self._outboxes[service]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily("cg_outbox_depth", "Outbox rows not yet published", labels=["service"])
        age = GaugeMetricFamily("cg_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0: none)",
                                labels=["service"])
        up = GaugeMetricFamily("cg_outbox_scrape_ok", "1 when the outbox could be measured", labels=["service"])
        with self._lock:
            outboxes = list(self._outboxes.items())
        for service, (engine, t) in outboxes:
            try:
                with engine.connect() as conn:
                    count, first = conn.execute(select(func.count(), func.min(t.c.id)).select_from(t)).one()
                    oldest = (conn.execute(select(t.c.created_at).where(t.c.id == first)).scalar()
                              if first is not None else None)
            except Exception:
                up.add_metric([service], 0)
                continue
            up.add_metric([service], 1)
            depth.add_metric([service], count)
            age.add_metric([service], max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0)
        yield depth
        yield age
        yield up


OUTBOXES = OutboxCollector()
REGISTRY.register(OUTBOXES)


def watch_outbox(rt) -> None:
    """Measure this runtime's outbox at every scrape (an API and a worker of one process: once)."""
    outbox = getattr(rt, "outbox", None)
    if outbox is not None and getattr(rt, "engine", None) is not None:
        OUTBOXES.watch(rt.name, rt.engine, outbox.table)


def forget_outbox(rt) -> None:
    """A disposed runtime's outbox is not measured any more (unless another runtime took its place)."""
    if getattr(rt, "engine", None) is not None:
        OUTBOXES.forget(rt.name, rt.engine)


def allowed(client: str | None, allow: Iterable[str]) -> bool:
    """Loopback, or an address or network of the allow-list (`testclient` is Starlette's test client)."""
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client in allow
    if address.is_loopback:
        return True
    for entry in allow:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def exposition() -> tuple[bytes, str]:
    """The process's metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
