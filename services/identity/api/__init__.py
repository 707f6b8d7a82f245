"""Identity's API: `/identity/.well-known/jwks.json` and everything under `/identity/v1`."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error codes)
from . import api_keys, audit, keys, oidc, password, phone, sms, tokens, users, wechat

v1 = APIRouter(prefix="/v1")
v1.include_router(tokens.router)
v1.include_router(oidc.router)
v1.include_router(sms.router)
v1.include_router(wechat.router)
v1.include_router(phone.router)
v1.include_router(password.router)
v1.include_router(users.router)
v1.include_router(api_keys.router)
v1.include_router(audit.router)

router = APIRouter()
router.include_router(keys.router)
router.include_router(v1)
