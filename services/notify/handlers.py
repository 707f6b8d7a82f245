"""Who hears about each event (data/rules.json), on which channel, with which template.

The handler only records what is to be sent, in the consumer's transaction: an inbox message
(delivered at once) and one queued message on the recipient's first usable external channel,
each at most once per (event, recipient, channel). The sender (sender.py) delivers the queue
outside any consumer transaction, so a slow provider never holds the consumer.
"""

import json
import logging
import threading
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import upsert_insert, utcnow
from shared.events import Payload
from shared.events.notify import MessageSuppressed
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.messaging.topology import topic_matches
from shared.runtime import ServiceRuntime

from . import directory
from .config import Config, config_of
from .models import DigestItem, Message, Recipient, WebhookSubscription, WechatRefusal
from .templates import Catalogue, load_catalogue

log = logging.getLogger(__name__)
OPTIONAL_CATEGORIES = ("case_progress", "mediation", "digest")  # work orders and supervision cannot be muted
WAKE_KEY = "notify.sender_wakeup"
WEBHOOK_CACHE_SECONDS = 5.0


def catalogue_of(rt: ServiceRuntime) -> Catalogue:
    if "notify.catalogue" not in rt.cache:
        cfg = config_of(rt)
        rt.cache["notify.catalogue"] = load_catalogue(cfg.sms.sign_name, cfg.policy.allowed_link_prefixes)
    return rt.cache["notify.catalogue"]


def sender_wakeup(rt: ServiceRuntime) -> threading.Event:
    return rt.cache.setdefault(WAKE_KEY, threading.Event())


_INSERT_ONCE: dict[str, object] = {}


def insert_once(session: Session, **values) -> bool:
    """Insert a message unless one exists for its (event, recipient, channel); True if inserted."""
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_ONCE.get(dialect)
    if stmt is None:
        # One Core statement per dialect, values bound at execution: compiled once, cached.
        insert = upsert_insert(session)
        table = Message.__table__
        stmt = _INSERT_ONCE[dialect] = insert(table).on_conflict_do_nothing().returning(table.c.id)
    row = {c.name: None for c in Message.__table__.columns}
    row.update(read_at=None, lease_until=None, **values)
    return session.execute(stmt, row).first() is not None


def local_text(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")


def event_values(payload: Payload, rule: dict, tz: str) -> dict:
    values = {}
    for name, value in payload:
        values[name] = local_text(value, tz) if isinstance(value, datetime) else value
    for name, source in rule.get("vars", {}).items():
        values[name] = values.get(source)
    return values


def audience(session: Session, payload: Payload, spec: str) -> list[str]:
    kind, _, field = spec.rpartition(":")
    value = getattr(payload, field, None)
    ids = [v for v in (value if isinstance(value, list) else [value]) if v]
    if kind == "supervisor_of":
        return directory.supervisors_of(session, ids[0] if ids else None)
    if kind == "staff_of":
        return directory.staff_of(session, ids)
    return list(dict.fromkeys(ids))


def external_channels(cfg: Config, catalogue: Catalogue, session: Session, who: Recipient | None,
                      template: str) -> list[str]:
    """The recipient's external channels, in their order, that can carry this template to them now."""
    if who is None:
        return []
    t = catalogue[template]
    usable = []
    for channel in json.loads(who.channels):
        if not cfg.enabled(channel) or channel == "inbox":
            continue
        if channel == "sms" and (not who.phone or not t.sms):
            continue
        if channel == "wechat" and (not who.wechat_openid or not t.wechat or session.get(
                WechatRefusal, (who.user_id, t.wechat["template_id"])) is not None):
            continue
        if (channel == "push" and not who.push_token) or (channel == "email" and not who.email):
            continue
        usable.append(channel)
    return usable


class Router:
    def __init__(self, rt: ServiceRuntime):
        self.rt = rt
        self.rules = directory.rules()["events"]

    def __call__(self, ctx: HandlerContext, payload: Payload) -> None:
        cfg, catalogue = config_of(self.rt), catalogue_of(self.rt)
        tz = cfg.policy.timezone
        queued = False
        for rule in self.rules.get(payload.event_type, []):
            if any(getattr(payload, k, None) != v for k, v in rule.get("when", {}).items()):
                continue
            values = event_values(payload, rule, tz)
            for recipient_id in audience(ctx.session, payload, rule["to"]):
                queued |= self.notify(ctx, cfg, catalogue, recipient_id, rule["template"], values)
        if payload.event_type in ("routing.case.warned", "routing.case.overdue"):
            self.collect_digest(ctx, payload, tz)
        if cfg.webhook.enabled:
            queued |= self.webhooks(ctx)
        # Wake the sender once this transaction commits, and only if it has something new to send
        # (an inbox message needs no sender): the session factory's after-commit hook sets every
        # event registered here (the same one that wakes the outbox relay).
        if queued:
            ctx.session.info.setdefault("cg_outbox_signals", set()).add(sender_wakeup(self.rt))

    def notify(self, ctx: HandlerContext, cfg: Config, catalogue: Catalogue, recipient_id: str, template: str,
               values: dict, event_id: str | None = None) -> bool:
        return record_message(ctx.session, cfg, catalogue, recipient_id, template, values,
                              event_id or ctx.envelope.id, ctx.envelope.subject.kind, ctx.envelope.subject.id,
                              ctx.emit)

    def collect_digest(self, ctx: HandlerContext, payload: Payload, tz: str) -> None:
        insert = upsert_insert(ctx.session)
        ctx.session.execute(insert(DigestItem).values(
            unit_id=payload.unit_id, day=payload.at.astimezone(ZoneInfo(tz)).date().isoformat(),
            kind="warned" if payload.event_type.endswith("warned") else "overdue", clock=payload.clock,
            case_id=payload.case_id, case_no=payload.case_no, work_order_id=payload.work_order_id,
            deadline=payload.deadline,
        ).on_conflict_do_nothing())

    def webhooks(self, ctx: HandlerContext) -> bool:
        env = ctx.envelope
        # The active subscriptions, re-read at most every few seconds: a change made through the API
        # (another process in services mode) applies within WEBHOOK_CACHE_SECONDS.
        cached = self.rt.cache.get("notify.webhooks")
        if cached is None or time.monotonic() - cached[0] > WEBHOOK_CACHE_SECONDS:
            subs = [(w.id, json.loads(w.event_patterns)) for w in ctx.session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True)))]
            cached = self.rt.cache["notify.webhooks"] = (time.monotonic(), subs)
        queued = False
        for sub_id, patterns in cached[1]:
            if not any(topic_matches(p, env.type) for p in patterns):
                continue
            queued |= insert_once(
                ctx.session, id=str(uuid.uuid4()), event_id=env.id, recipient_id=sub_id, channel="webhook",
                template=env.type, subject_kind=env.subject.kind, subject_id=env.subject.id,
                title=env.type[:100], body=env.model_dump_json(), status="queued", created_at=utcnow(),
                category="webhook", urgent=False, template_version=env.version, variables="{}",
                attempts=0, next_attempt_at=utcnow())
        return queued


def record_message(session: Session, cfg: Config, catalogue: Catalogue, recipient_id: str, template: str,
                   values: dict, event_id: str, subject_kind: str, subject_id: str, emit) -> bool:
    """The inbox message and the first usable external channel's message, each once. True if a
    message was queued for the sender."""
    t = catalogue[template]
    who = session.get(Recipient, recipient_id)
    lang = who.lang if who else "zh"
    title, body = catalogue.render(template, values, lang)
    now = utcnow()
    base = dict(event_id=event_id, recipient_id=recipient_id, template=template, subject_kind=subject_kind,
                subject_id=subject_id, title=title[:100], body=body, created_at=now, category=t.category,
                urgent=t.urgent, template_version=t.version,
                variables=json.dumps({k: values.get(k) for k in t.variables}, ensure_ascii=False, default=str),
                attempts=0)
    insert_once(session, id=str(uuid.uuid4()), channel="inbox", status="delivered", delivered_at=now, **base)
    channels = external_channels(cfg, catalogue, session, who, template)
    if not channels:
        return False
    muted = t.category in OPTIONAL_CATEGORIES and t.category in json.loads(who.opt_outs)
    message_id = str(uuid.uuid4())
    inserted = insert_once(session, id=message_id, channel=channels[0],
                           status="suppressed" if muted else "queued", reason="opted_out" if muted else None,
                           next_attempt_at=None if muted else now, **base)
    if inserted and muted:
        emit(MessageSuppressed(message_id=message_id, event_id=event_id, recipient_id=recipient_id,
                               channel=channels[0], template=template, at=now, reason="opted_out"))
    return inserted and not muted


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    router = Router(rt)
    # Every intake, routing and mediation event: rules decide who hears, webhooks may want any of them.
    from shared.events import registered

    return {f"{etype}.v{version}": router for (etype, version) in registered()
            if etype.split(".", 1)[0] in ("intake", "routing", "mediation")}
