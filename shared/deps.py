"""The dependencies every endpoint is written with, declared once as `Annotated` aliases.

Those that only read what the request or the app already holds are `async def`: FastAPI runs a plain
`def` dependency in its thread pool, a thread hop per dependency per request (issue 15). Anything that
may wait on a database, Redis or the network stays `def`.

An endpoint names what it needs and FastAPI provides it:

    @router.post("/cases/{case_id}/withdraw")
    def withdraw_case(user: CurrentUser, found: LockedCase, uow: Uow, english: English) -> CaseView:
        changes.withdraw(uow.session, uow.emit, found.case, user, None)
        return views.case_view(uow.session, found.case, user, found.relation, english=english)

`Uow` is one transaction per request: committed after the endpoint returns and before the
response is sent (so a failed commit is never answered with a success), rolled back when the
endpoint raises. Its events carry the request's X-Request-ID as their correlation id.
Services add their own loaders (a locked work order, a readable case) in `api/deps.py`.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from .audit import Actor
from .auth import ApiClient, CurrentUser, StaffUser, User
from .errors import wants_english
from .runtime import ServiceRuntime
from .uow import Emit, UnitOfWork
from .web import correlation_id

T = TypeVar("T")

__all__ = ["CorrelationId", "CurrentUser", "EmitDep", "English", "InThreadDep", "Runtime", "SessionDep", "StaffUser",
           "Uow", "User"]


async def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_correlation_id(request: Request) -> str:
    return correlation_id(request)


CorrelationId = Annotated[str, Depends(get_correlation_id)]


async def get_english(request: Request) -> bool:
    return wants_english(request)


English = Annotated[bool, Depends(get_english)]


def request_actor(request: Request) -> Actor:
    """Who this request acts as, for the audit trail: the user or API key its authentication found."""
    who = getattr(request.state, "principal", None)
    ip = request.client.host if request.client else None
    rid = request.headers.get("x-request-id")
    if isinstance(who, User):
        return Actor(who.id, who.role, ip, rid)
    if isinstance(who, ApiClient):
        return Actor(f"key:{who.key_id}", "api_key", ip, rid)
    return Actor(None, None, ip, rid)


def conceal_request(request: Request, actor: Actor) -> None:
    """The request's unit of work concealed its actor (shared.uow.UnitOfWork.conceal_actor): its
    refusal, if any, is concealed too, and its access log line names her "anon", without her address."""
    request.state.audit_actor = actor


async def get_unit_of_work(rt: Runtime, request: Request, request_id: CorrelationId) -> AsyncIterator[UnitOfWork]:
    """Opened in the event loop, since opening waits for nothing (the session connects at its first
    statement); only its COMMIT or ROLLBACK goes to a worker thread, unless the endpoint already committed in
    its own (`InThread`). As a plain generator it cost two thread hops, one of them to open."""
    work = rt.unit_of_work(request_id, actor=lambda: request_actor(request),
                           on_conceal=lambda actor: conceal_request(request, actor))
    uow = work.__enter__()
    ended = False

    def end(*exc_info) -> bool | None:
        nonlocal ended
        if ended:  # work after the COMMIT would be written by nobody: a fault of the endpoint, never silent
            raise RuntimeError("the request's unit of work has already ended")
        ended = True  # before __exit__: a COMMIT that fails has still ended the transaction
        return work.__exit__(*exc_info)

    request.state.end_unit_of_work = end
    try:
        yield uow
    except BaseException as exc:
        if ended or not await _apart(end, type(exc), exc, exc.__traceback__):
            raise
    else:
        if not ended:
            await _apart(end, None, None, None)


async def _apart(end: Callable[..., bool | None], *exc_info) -> bool | None:
    """The unit of work's end in a thread of its own, not one of the shared pool's: endpoints waiting on this
    transaction's row locks (or for a pooled connection) may hold every thread of the pool, and the COMMIT
    that would free them must not queue behind them."""
    return await anyio.to_thread.run_sync(end, *exc_info, limiter=anyio.CapacityLimiter(1))


# scope="function": the commit runs when the endpoint returns, before the response goes out.
Uow = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


async def get_session(uow: Uow) -> Session:
    return uow.session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_emit(uow: Uow) -> Emit:
    return uow.emit


EmitDep = Annotated[Emit, Depends(get_emit)]


class InThread:
    """Runs an `async def` endpoint's work and then the request's COMMIT in one worker thread: one thread hop
    where a plain `def` endpoint takes two (its body, then the commit). For the hot path (POST /cases).
    A refusal raised by the work is not committed here: the unit of work decides as for any endpoint
    (rolled back, or kept when the refusal says so). Once per request, and nothing of the unit of work after
    it: its transaction has ended."""

    def __init__(self, request: Request):
        self.end = request.state.end_unit_of_work

    async def __call__(self, work: Callable[..., T], /, *args) -> T:
        return await anyio.to_thread.run_sync(self._then_commit, work, args)

    def _then_commit(self, work: Callable[..., T], args: tuple) -> T:
        result = work(*args)
        self.end(None, None, None)
        return result


async def get_in_thread(request: Request, uow: Uow) -> InThread:  # after Uow, whose end it calls
    return InThread(request)


InThreadDep = Annotated[InThread, Depends(get_in_thread)]
