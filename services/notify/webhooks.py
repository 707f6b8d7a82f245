"""Webhook subscriptions of government systems: every event whose type matches one of their
patterns, and whose case lies in their areas and categories if they name any, is queued for them (the
envelope, ids only), signed with their own secret when sent. Each delivery is a message on the channel
"webhook"; an admin reads a subscription's deliveries and re-sends one.

Filters (`areas`, `categories`; empty: none): notify knows a case's category from intake's submission
(or referral) and its area from routing's lead dispatch (`area_path`, else the order's `unit_path`; the
newest). An area filter therefore applies from the case's dispatch on: intake.case.submitted (which names
no area) and anything else before the dispatch, and every event of a dispute (mediation's events name no
area or category), are not sent to a subscription with an area filter; a category filter likewise needs a
case notify saw submitted. A subscription without filters gets everything its patterns match.
"""

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
from shared.events import Envelope, Payload
from shared.messaging.outbox import wake_after_commit
from shared.messaging.topology import topic_matches
from shared.runtime import ServiceRuntime

from . import delivery
from .config import Config
from .messages import insert_once
from .models import CaseFacts, Message, WebhookSubscription
from .schemas import WebhookIn
from .targets import Refused, Resolver, check

CACHE_SECONDS = 5.0
PATTERN = re.compile(r"(\*|#|[a-z_]+)(\.(\*|#|[a-z_]+)){0,3}")
AREA = re.compile(r"[0-9A-Za-z]{1,30}")  # a unit code or the first digits of one
CATEGORY = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")  # a catalogue code or the first parts of one


class Active:
    """One active subscription as the handler matches events against it."""

    def __init__(self, hook: WebhookSubscription):
        self.id = hook.id
        self.patterns: list[str] = json.loads(hook.event_patterns)
        self.areas: list[str] = json.loads(hook.areas or "[]")
        self.categories: list[str] = json.loads(hook.categories or "[]")

    def wants(self, event_type: str, scope: "Scope") -> bool:
        if not any(topic_matches(p, event_type) for p in self.patterns):
            return False
        if self.areas and not any(code.startswith(prefix) for code in scope.units for prefix in self.areas):
            return False
        return not self.categories or (scope.category is not None and any(
            scope.category == prefix or scope.category.startswith(prefix + ".") for prefix in self.categories))


class Scope:
    """Where the event's case lies and what it is about, as far as notify knows (None: not known)."""

    def __init__(self, path: str | None, category: str | None):
        self.units = [code for code in (path or "").split("/") if code]
        self.category = category


def scope_of(session: Session, env: Envelope, payload: Payload | None) -> Scope:
    """The case's area path (the newest lead dispatch's; its order's unit path when routing knew no finer
    area) and category, the event's own where it has them, else the case's facts (cases.py)."""
    if env.subject.kind != "case":
        return Scope(None, None)
    row = session.get(CaseFacts, env.subject.id)
    path = getattr(payload, "area_path", None) or getattr(payload, "unit_path", None)
    if path is None and row is not None:
        path = row.area_path or row.unit_path
    category = getattr(payload, "category", None) or (row.category if row is not None else None)
    return Scope(path, category)


class Subscriptions:
    """The active subscriptions, re-read at most every CACHE_SECONDS: a change made through the API
    applies at once in this process, and within seconds in the others (services mode)."""

    def __init__(self) -> None:
        self._read: tuple[float, list[Active]] | None = None  # replaced whole: no lock

    def active(self, session: Session) -> list[Active]:
        read = self._read
        if read is None or time.monotonic() - read[0] > CACHE_SECONDS:
            subs = [Active(w) for w in session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))]
            read = self._read = (time.monotonic(), subs)
        return read[1]

    def forget(self) -> None:
        self._read = None


def subscriptions_of(rt: ServiceRuntime) -> Subscriptions:
    return rt.cache.setdefault("notify.webhooks", Subscriptions())


def queue_event(session: Session, cfg: Config, subscriptions: Subscriptions, env: Envelope,
                wake: threading.Event, payload: Payload | None = None) -> None:
    """A message for every subscription whose patterns and filters match the event, at most once each."""
    if not cfg.webhook.enabled:
        return
    queued, scope = False, None
    for sub in subscriptions.active(session):
        if (sub.areas or sub.categories) and scope is None:
            scope = scope_of(session, env, payload)  # read once, and only for a filtered subscription
        if not sub.wants(env.type, scope or Scope(None, None)):
            continue
        queued |= insert_once(
            session, id=str(uuid.uuid4()), event_id=env.id, recipient_id=sub.id, channel="webhook",
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
    for i, area in enumerate(body.areas):
        if not AREA.fullmatch(area):
            raise ApiError(422, "notify.bad_area", field=f"areas.{i}")
    for i, category in enumerate(body.categories):
        if not CATEGORY.fullmatch(category):
            raise ApiError(422, "notify.bad_category", field=f"categories.{i}")
    secret = secrets.token_urlsafe(32)
    hook = WebhookSubscription(id=str(uuid.uuid4()), name=body.name, url=body.url, secret=secret,
                               event_patterns=json.dumps(body.event_patterns), active=True, created_at=utcnow(),
                               areas=json.dumps(list(dict.fromkeys(body.areas))),
                               categories=json.dumps(list(dict.fromkeys(body.categories))))
    session.add(hook)
    subscriptions.forget()
    return hook, secret


def listed(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at)))


def deactivate(session: Session, subscriptions: Subscriptions, hook: WebhookSubscription) -> None:
    hook.active = False
    subscriptions.forget()


def deliveries(session: Session, hook: WebhookSubscription, status: str | None, limit: int) -> list[Message]:
    """The subscription's deliveries, newest first (one per event it was sent)."""
    query = select(Message).where(Message.recipient_id == hook.id, Message.channel == "webhook")
    if status is not None:
        query = query.where(Message.status == status)
    return list(session.scalars(query.order_by(Message.created_at.desc(), Message.id).limit(limit)))


def delivery_of(session: Session, hook: WebhookSubscription, delivery_id: str) -> Message:
    """One of this subscription's deliveries (another's, or none: 404)."""
    m = session.get(Message, delivery_id)
    if m is None or m.channel != "webhook" or m.recipient_id != hook.id:
        raise ApiError(404, "not_found", field="delivery_id")
    return m


def resend(session: Session, hook: WebhookSubscription, m: Message, wake: threading.Event) -> None:
    """Send a delivery again, with its delivery id (the receiver's key to drop a duplicate of one it
    accepted). Not to a deactivated subscription: it would only be suppressed."""
    if not hook.active:
        raise ApiError(409, "notify.webhook_inactive", field="hook_id")
    delivery.resend(session, m, wake)
