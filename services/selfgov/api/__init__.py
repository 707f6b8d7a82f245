"""Selfgov's REST API under /selfgov/v1: 议事, 居务公开, 居民直评 and their figures."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error codes)
from . import matters, notices, ratings, reference, reports, roster

router = APIRouter(prefix="/v1")
for module in (reference, roster, matters, notices, ratings, reports):
    router.include_router(module.router)
