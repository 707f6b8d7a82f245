"""Reading the trace of a request: what each service recorded in its event log (shared/tracing.py)
for a correlation id, and what it made of those events (notify: its messages).

- `GET /<service>/v1/admin/trace/{correlation_id}`: one service's part, for admins (404 for anybody
  else), on every service that keeps an event log.
- `gather`: every part this process can read. Embedded mode serves every service in one process, so
  all of them (each application registers its runtime here when it is made); in services mode a
  process reads its own database only (services own their data), and the others are named `missing`.
  Intake's `GET /intake/v1/cases/{case_id}/trace` uses it.
- `python -m shared.trace_api <correlation-id>…` (`make trace CORRELATION=…`): every service's part,
  read from each service's database with the deployment's settings, for an operator in services mode.
"""

import argparse
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from .deps import CurrentUser, Runtime, Uow
from .errors import ApiError
from .tracing import HANDLED, log_of

if TYPE_CHECKING:
    from .auth import User
    from .runtime import ServiceRuntime


class TraceEntry(BaseModel):
    service: str = Field(description="记录该条目的服务 the service that recorded it")
    direction: str = Field(description="emitted（发出事件）或 handled（处理事件）whether it emitted or handled "
                                       "the event")
    event_id: str = Field(description="事件编号 the event's id")
    event_type: str = Field(description="事件类型，如 intake.case.submitted the event's type")
    subject_kind: str | None = Field(description="事件对象类型 what the event is about")
    subject_id: str | None = Field(description="事件对象编号 which one")
    correlation_id: str | None = Field(description="关联编号（引起它的请求编号）the correlation id: the request "
                                                   "that caused it")
    causation_id: str | None = Field(description="直接引起它的事件 the event that caused it")
    handler: str | None = Field(description="处理者（handled 时）：服务:路由键 the handler, for handled events")
    at: datetime = Field(description="发生（emitted）或处理（handled）的时间 when it occurred or was handled")


class TraceRecord(BaseModel):
    service: str = Field(description="服务 the service")
    kind: str = Field(description="记录类型，如 message（通知消息）what it is, e.g. message: a notification")
    id: str = Field(description="记录编号 its id")
    event_id: str | None = Field(description="引起它的事件 the event that caused it")
    correlation_id: str | None = Field(description="关联编号 the correlation id")
    at: datetime = Field(description="创建时间 created at")
    detail: dict = Field(description="补充（仅编号与代码，不含个人信息）more detail: ids and codes only")


class Trace(BaseModel):
    correlation_ids: list[str] = Field(description="追踪的关联编号 the correlation ids traced")
    services: list[str] = Field(description="已包含其记录的服务 the services whose records are included")
    missing: list[str] = Field(description="本进程无法读取其记录的服务（分服务部署时用 make trace 读取）the services "
                                           "this process cannot read (services mode: use make trace)")
    entries: list[TraceEntry] = Field(description="事件条目，按时间排序 the events, in time order")
    records: list[TraceRecord] = Field(description="各服务据此产生的记录（如通知消息）what the services made of "
                                                   "them (e.g. notifications)")


# (session, correlation ids) → what a service made for them besides events (notify: its messages).
Contributor = Callable[[Session, list[str]], list[TraceRecord]]
_contributors: dict[str, Contributor] = {}
# Runtimes of this process by the settings they share (embedded: every service's), for `gather`.
_peers: dict[int, dict[str, "ServiceRuntime"]] = {}
_peers_lock = threading.Lock()
MAX_ENTRIES = 2000


def contribute(service: str, contributor: Contributor) -> None:
    """What `service` adds to its part of a trace (registered by the service's module)."""
    _contributors[service] = contributor


def register(rt: "ServiceRuntime") -> None:
    """This runtime serves its service in this process (called when its application is made)."""
    with _peers_lock:
        peers = _peers.setdefault(id(rt.settings), {})
        if any(other.settings is not rt.settings for other in peers.values()):
            peers.clear()  # an id reused by new settings: the old runtimes are gone
        peers[rt.name] = rt


def peers(rt: "ServiceRuntime") -> dict[str, "ServiceRuntime"]:
    """The runtimes of this process that serve the same deployment as `rt` (itself included)."""
    with _peers_lock:
        found = dict(_peers.get(id(rt.settings), {}))
    found[rt.name] = rt
    return {name: other for name, other in found.items() if other.settings is rt.settings}


def keeps_log(rt: "ServiceRuntime") -> bool:
    return log_of(rt.outbox.table) is not None


def part(session: Session, service: str, table: Table, correlation_ids: list[str]) -> Trace:
    """One service's part of the trace of these correlation ids."""
    rows = session.execute(select(table).where(table.c.correlation_id.in_(correlation_ids))
                           .order_by(table.c.at, table.c.id).limit(MAX_ENTRIES)).all()
    entries = [TraceEntry(service=service, direction=r.direction, event_id=r.event_id, event_type=r.event_type,
                          subject_kind=r.subject_kind, subject_id=r.subject_id, correlation_id=r.correlation_id,
                          causation_id=r.causation_id, handler=r.handler, at=r.at) for r in rows]
    contributor = _contributors.get(service)
    records = contributor(session, correlation_ids) if contributor else []
    return Trace(correlation_ids=correlation_ids, services=[service], missing=[], entries=entries, records=records)


def merged(correlation_ids: list[str], parts: Iterable[Trace], missing: Iterable[str] = ()) -> Trace:
    """The parts as one trace in time order (an event handled in the same instant it was emitted
    listed after its emission)."""
    parts = list(parts)
    entries = sorted((e for p in parts for e in p.entries), key=lambda e: (e.at, e.direction == HANDLED))
    records = sorted((r for p in parts for r in p.records), key=lambda r: r.at)
    return Trace(correlation_ids=correlation_ids, services=sorted(s for p in parts for s in p.services),
                 missing=sorted(missing), entries=entries, records=records)


def trace_of(rt: "ServiceRuntime", correlation_ids: list[str]) -> Trace:
    with rt.uow() as session:
        return part(session, rt.name, log_of(rt.outbox.table), correlation_ids)


def gather(rt: "ServiceRuntime", correlation_ids: list[str], session: Session | None = None) -> Trace:
    """Every service's part this process can read: all of them in embedded mode, its own in services
    mode (the others `missing`: `python -m shared.trace_api` reads their databases). `session`: the
    caller's transaction, used for `rt`'s own part."""
    from .config import SERVICES

    known = {name: other for name, other in peers(rt).items() if keeps_log(other)}
    parts = []
    for name, other in sorted(known.items()):
        if name == rt.name and session is not None:
            parts.append(part(session, name, log_of(rt.outbox.table), correlation_ids))
        else:
            parts.append(trace_of(other, correlation_ids))
    missing = [] if rt.settings.mode == "embedded" else [s for s in SERVICES if s not in known]
    return merged(correlation_ids, parts, missing)


def may_trace(user: "User") -> None:
    """Who reads traces, in every service: admins; anybody else is told there is nothing there."""
    if user.role != "admin":
        raise ApiError(404, "not_found")


router = APIRouter(tags=["运维 operations"])
CorrelationPath = Annotated[str, Path(min_length=1, max_length=64,
                                      description="关联编号（请求的 X-Request-ID）the correlation id: a request's "
                                                  "X-Request-ID")]


@router.get("/admin/trace/{correlation_id}", response_model=Trace,
            summary="本服务对一个请求做了什么（管理员）what this service did for one request",
            description="按关联编号（请求的 X-Request-ID，其引起的每个事件都带着它）列出本服务发出和处理的事件，"
                        "及本服务据此产生的记录（通知服务：消息）。保留 CG_TRACE_DAYS 天。仅管理员；其他人 404。"
                        "By correlation id: the events this service emitted and handled for that request, and "
                        "what it made of them (notify: its messages). Kept CG_TRACE_DAYS days. Admins only.",
            responses={404: {"description": "非管理员 not an admin"}})
def service_trace(correlation_id: CorrelationPath, user: CurrentUser, rt: Runtime, uow: Uow) -> Trace:
    may_trace(user)
    found = part(uow.session, rt.name, log_of(rt.outbox.table), [correlation_id])
    uow.audit("read.trace", detail={"correlation_id": correlation_id, "count": len(found.entries)})
    return found


def main(argv: list[str] | None = None) -> int:
    """Every service's part, read from its database (CG_MODE and the deployment's settings pick them),
    printed as JSON: the trace across processes, for an operator."""
    from services import spec

    from .config import SERVICES, get_settings

    parser = argparse.ArgumentParser(prog="python -m shared.trace_api",
                                     description="the trace of one or more correlation ids across every service")
    parser.add_argument("correlation_id", nargs="+")
    args = parser.parse_args(argv)
    settings = get_settings()
    parts = []
    for name in SERVICES:
        service = spec(name)
        if "event_log" not in service.metadata.tables:
            continue
        rt = service.runtime(settings)
        try:
            parts.append(trace_of(rt, args.correlation_id))
        finally:
            rt.dispose()
    print(merged(args.correlation_id, parts).model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    # Through the imported module, whose registry the services' modules fill (notify's messages), not
    # this __main__ copy's.
    from shared.trace_api import main as run

    raise SystemExit(run())
