from shared.service import ServiceSpec

from . import api, models

SPEC = ServiceSpec(
    name="mediation",
    title="人民调解服务 Mediation",
    description="人民调解：从当事人同意到调解协议或引导其他途径。People's mediation of disputes.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    router=api.router,
    handlers=lambda rt: {},
)
