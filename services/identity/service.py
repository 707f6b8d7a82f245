"""The identity service: sign-in for residents, staff and government systems; tokens nobody else
can sign."""

from shared.keys import LocalJwks, blind_index, data_keys, signing_keys
from shared.service import ServiceSpec

from . import access, api, api_keys, config, handlers, models, seed


def own_keys(settings):
    # Identity verifies its own tokens with the keys it holds (services mode too): no fetch of itself.
    return LocalJwks(signing_keys(settings).jwks())


SPEC = ServiceSpec(
    name="identity",
    title="身份服务 Identity",
    description="登录与令牌：居民（短信验证码、微信小程序）、工作人员（用户名密码、统一身份认证 OIDC）、"
                "政府系统（API 密钥）。Sign-in and tokens for residents, staff and government systems; "
                "the public keys every service verifies tokens with.",
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
    jwks=own_keys,
    api_key_use=api_keys.use_recorder,
    keys=(signing_keys, data_keys, blind_index),
    auth_refresh_seconds=0.0,
)
