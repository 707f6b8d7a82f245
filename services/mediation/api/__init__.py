"""Mediation's REST API under /mediation/v1: the record a community mediation committee keeps."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the error codes)
from . import agreement, assignment, disputes, extensions, followups, parties, reference, risk, sessions, statistics

router = APIRouter(prefix="/v1")
for module in (reference, disputes, parties, assignment, extensions, sessions, risk, agreement, followups,
               statistics):
    router.include_router(module.router)
