from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.errors import error_body, wants_english
from shared.service import ServiceSpec

from . import api, clocks, config, handlers, models, seed
from .register import Conflict


def _conflicts(app: FastAPI) -> FastAPI:
    """A stale register edit answers both versions (what the editor saw, what is there now)."""

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return JSONResponse(error_body(exc.code, wants_english(request), exc.field, yours=exc.yours,
                                       current=exc.current), status_code=409)

    return app


SPEC = ServiceSpec(
    name="grid",
    title="网格服务 Grid",
    description="网格员的一天与网格台账：巡查（一日双巡）、轨迹与发现、特殊人群与关爱对象、走访、离线同步、台账导出。"
                "A grid worker's day and the grid's register: patrols, findings, people under watch or care, visits, "
                "offline-safe writes and monthly ledgers.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=None,  # the register's trail: admins only
    router=api.router,
    handlers=handlers.handlers,
    config=config.get,
    seed=seed.seed,
    background=clocks.background,
    extend_app=_conflicts,
)

