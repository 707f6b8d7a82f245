"""Identity's API: `/identity/.well-known/jwks.json` and everything under `/identity/v1`."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error codes)
from . import keys, tokens

v1 = APIRouter(prefix="/v1")
v1.include_router(tokens.router)

router = APIRouter()
router.include_router(keys.router)
router.include_router(v1)
