"""The grid service's REST API under /grid/v1: a grid worker's day and the grid's register."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error codes)
from . import ledgers, patrols, reference, register, sync, visits

router = APIRouter(prefix="/v1")
for module in (reference, patrols, register, visits, sync, ledgers):
    router.include_router(module.router)
