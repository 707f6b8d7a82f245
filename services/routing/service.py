from shared.service import ServiceSpec

from . import access, api, clocks, handlers, models, seed, workcalendar

SPEC = ServiceSpec(
    name="routing",
    title="派单服务 Routing",
    description="组织与网格、职责清单、派单、签收、督办与考核。The organisation, dispatch, clocks and scores.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=access.audit_scope,  # who reads which entries of the trail
    router=api.router,
    handlers=handlers.handlers,
    config=workcalendar.checked_config,  # config.get, and the notice files of data/holidays
    seed=seed.seed,
    # The clock scanner: 预警 at 75 %, 超期 at 100 %, each emitted once.
    background=clocks.run_scanner,
)
