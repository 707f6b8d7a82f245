"""Routing's REST API under /routing/v1: one module per resource."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error messages)
from . import directory, responsibility, scores, supervision, whistle, work_orders

router = APIRouter(prefix="/v1")
for module in (directory, responsibility, work_orders, whistle, supervision, scores):
    router.include_router(module.router)

from .calendar import router as calendar_router  # noqa: E402  (工作日历, issue 12)

router.include_router(calendar_router)
