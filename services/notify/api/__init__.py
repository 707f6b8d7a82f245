"""Notify's REST API under /notify/v1: the inbox, one's own preferences and contacts, delivery
states, the dead-letter queue, webhook subscriptions and their deliveries, the 12345 platform's write-backs,
digests and provider delivery receipts."""

from fastapi import APIRouter

from .. import errors  # noqa: F401  (registers the codes)
from . import callbacks, delivery, digests, inbox, platform, preferences, webhooks

router = APIRouter(prefix="/v1")
for module in (inbox, preferences, delivery, webhooks, platform, digests, callbacks):
    router.include_router(module.router)
