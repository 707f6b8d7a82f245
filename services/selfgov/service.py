from shared.service import ServiceSpec

from . import access, api, clocks, config, handlers, models, seed

SPEC = ServiceSpec(
    name="selfgov",
    title="居民自治服务 Self-governance",
    description="居民自治：“小事”的居民议事（提议、附议、两委联席会议商议、党员大会审议、居民代表会议票决、公示、实施），"
                "居务公开，居民直评社区和网格。Residents settle their small matters by consultation, the community "
                "publishes its affairs, and residents rate the community and its grids.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=access.audit_scope,
    router=api.router,
    handlers=handlers.handlers,
    config=config.get,
    seed=seed.seed,
    background=clocks.background,
)
