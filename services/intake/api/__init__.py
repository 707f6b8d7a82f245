"""Intake's REST API under /intake/v1: submission, the resident's view and changes, staff triage,
the hotline, the 12345 platform's import, attachments and the category catalogue."""

from fastapi import APIRouter

from .. import errors  # noqa: F401 (registers intake's error codes)
from . import attachments, cases, catalogue, hotline, imports, knowledge, reports, resident, staff, trace

router = APIRouter(prefix="/v1")
for module in (cases, resident, staff, hotline, imports, knowledge, attachments, catalogue, trace, reports):
    router.include_router(module.router)
