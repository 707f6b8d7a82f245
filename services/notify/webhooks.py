"""Webhook subscriptions of government systems: every event whose type matches one of their
patterns is queued for them (the envelope, ids only), signed with their own secret when sent."""

import json
import re
import secrets
import threading
import time
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError
from shared.events import Envelope
from shared.messaging.outbox import wake_after_commit
from shared.messaging.topology import topic_matches
from shared.runtime import ServiceRuntime

from .config import Config
from .messages import insert_once
from .models import WebhookSubscription
from .schemas import WebhookIn
from .targets import Refused, Resolver, check

CACHE_SECONDS = 5.0
PATTERN = re.compile(r"(\*|#|[a-z_]+)(\.(\*|#|[a-z_]+)){0,3}")


class Subscriptions:
    """The active subscriptions, re-read at most every CACHE_SECONDS: a change made through the API
    applies at once in this process, and within seconds in the others (services mode)."""

    def __init__(self) -> None:
        self._read: tuple[float, list[tuple[str, list[str]]]] | None = None  # replaced whole: no lock

    def active(self, session: Session) -> list[tuple[str, list[str]]]:
        read = self._read
        if read is None or time.monotonic() - read[0] > CACHE_SECONDS:
            subs = [(w.id, json.loads(w.event_patterns)) for w in session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))]
            read = self._read = (time.monotonic(), subs)
        return read[1]

    def forget(self) -> None:
        self._read = None


def subscriptions_of(rt: ServiceRuntime) -> Subscriptions:
    return rt.cache.setdefault("notify.webhooks", Subscriptions())


def queue_event(session: Session, cfg: Config, subscriptions: Subscriptions, env: Envelope,
                wake: threading.Event) -> None:
    """A message for every subscription whose patterns match the event, at most once each."""
    if not cfg.webhook.enabled:
        return
    queued = False
    for sub_id, patterns in subscriptions.active(session):
        if not any(topic_matches(p, env.type) for p in patterns):
            continue
        queued |= insert_once(
            session, id=str(uuid.uuid4()), event_id=env.id, recipient_id=sub_id, channel="webhook",
            template=env.type, subject_kind=env.subject.kind, subject_id=env.subject.id,
            title=env.type[:100], body=env.model_dump_json(), status="queued", created_at=utcnow(),
            category="webhook", urgent=False, template_version=env.version, variables="{}",
            attempts=0, next_attempt_at=utcnow())
    if queued:
        wake_after_commit(session, wake)


def subscribe(session: Session, cfg: Config, subscriptions: Subscriptions, resolve: Resolver,
              body: WebhookIn) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (shown to the caller this once). Its URL must be
    https, on an allowed host, and resolve to public addresses only (checked again at each delivery)."""
    try:
        check(cfg.webhook, body.url, resolve)
    except Refused as refused:
        raise ApiError(422, refused.code, field="url") from None
    for i, pattern in enumerate(body.event_patterns):
        if not PATTERN.fullmatch(pattern):
            raise ApiError(422, "notify.bad_pattern", field=f"event_patterns.{i}")
    secret = secrets.token_urlsafe(32)
    hook = WebhookSubscription(id=str(uuid.uuid4()), name=body.name, url=body.url, secret=secret,
                               event_patterns=json.dumps(body.event_patterns), active=True, created_at=utcnow())
    session.add(hook)
    subscriptions.forget()
    return hook, secret


def listed(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at)))


def deactivate(session: Session, subscriptions: Subscriptions, hook: WebhookSubscription) -> None:
    hook.active = False
    subscriptions.forget()
