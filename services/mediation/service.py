from shared.service import ServiceSpec

from . import access, api, clocks, config, handlers, models, seed

SPEC = ServiceSpec(
    name="mediation",
    title="人民调解服务 Mediation",
    description="人民调解：从当事人同意到调解协议或引导其他途径。People's mediation of disputes: consent, "
                "committees and mediators, sessions, risk, agreements, clocks, follow-ups and statistics.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    auth=models.auth,
    audit=models.audit,
    audit_scope=access.audit_scope,  # who reads which entries of the trail
    router=api.router,
    handlers=handlers.handlers,
    config=config.get,
    seed=seed.seed,
    background=clocks.background,
)
