"""The sender: delivers queued messages outside any consumer transaction.

One loop in the worker process (ServiceSpec.background): claim a batch of due messages in a
short transaction (status sending, with a lease, so a crashed sender's batch is taken up again
when the lease ends), call the providers in a thread pool with no transaction open, then record
the outcomes in a second short transaction (delivery.settle says what comes of each).
Before sending: quiet hours defer non-urgent messages to the end of the recipient's quiet time;
per-number daily limits suppress non-urgent messages (and fall back). A message is urgent by its
template, or as a 特急/紧急 work order's (rules.json `urgent_orders`). A message with a sealed
address (a sign-in code to a number with no recipient entry, a code to an email address awaiting
proof: codes.py) is opened here, at the last moment; identity limits how many sign-in codes a
number gets and email_checks.py how many codes an address gets, so the per-recipient daily limit
does not apply. A hotline caller's SMS (callers.py) carries her number sealed too, but she is treated as
a resident with the defaults: quiet hours and the per-number limit apply. A write-back to the 12345
platform (platform.py) is claimed only when no earlier one of its order number is pending.
"""

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from shared import metrics
from shared.config import local_zone
from shared.db import upsert_insert, utcnow
from shared.events.notify import MessageSent
from shared.keys import BlindIndex, data_keys
from shared.runtime import ServiceRuntime

from .callers import callers, is_caller
from .channels import AliyunSms, EmailChannel, Outgoing, PushChannel, Result, WebhookChannel, WechatSubscribe
from .channels.platform import PlatformChannel, platform_client
from .channels.webhook import webhook_client
from .codes import open_sealed
from .config import Config, config_of
from .delivery import settle
from .directory import index_of
from .messages import for_request, sender_wakeup
from .models import Message, Recipient, SendCounter, WebhookSubscription
from .platform import bodies, in_order
from .targets import resolver_of

log = logging.getLogger(__name__)
ADDRESS = {"sms": "phone", "wechat": "wechat_openid", "push": "push_token", "email": "email"}


def quiet_until(who, now: datetime) -> datetime | None:
    """The end of the recipient's quiet hours if `now` falls inside them, else None."""
    if who is None or not who.quiet_start or not who.quiet_end or who.quiet_start == who.quiet_end:
        return None
    tz = _zone(who)
    local = now.astimezone(tz)
    start, end = time.fromisoformat(who.quiet_start), time.fromisoformat(who.quiet_end)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    until = datetime.combine(local.date(), end, tzinfo=tz)
    if until <= local:
        until += timedelta(days=1)
    return until


def _zone(who) -> ZoneInfo:
    return ZoneInfo(who.timezone) if who.timezone else local_zone()


def counter_key(index: BlindIndex, channel: str, address: str, template: str, day: str) -> str:
    # The number itself is personal data: the key holds its keyed hash (a plain hash of an 11-digit
    # number is undone by trying them all).
    return f"{channel}:{index(address, 'send-counter')[:24]}:{template}:{day}"


class Sender:
    def __init__(self, rt: ServiceRuntime, config: Config | None = None):
        self.rt = rt
        self.cfg = config or config_of(rt)
        self.keys = data_keys(rt.settings)
        self.index = index_of(rt)
        policy = self.cfg.policy
        self.client = httpx.Client(timeout=policy.http_timeout_seconds,
                                   limits=httpx.Limits(max_connections=policy.workers * 2,
                                                       max_keepalive_connections=policy.workers * 2))
        self.pool = ThreadPoolExecutor(policy.workers, thread_name_prefix="notify-send")
        # A batch must be recorded before its lease ends, or another sender takes it up and sends
        # it again: the lease covers the slowest delivery of a full batch (every call of a thread's
        # share timing out, a WeChat token refresh doubling the calls), whatever the configuration says.
        slowest = -(-policy.batch // policy.workers) * 2 * policy.http_timeout_seconds + 30
        self.lease_seconds = max(policy.lease_seconds, slowest)
        self.channels = {}
        if self.cfg.sms.enabled:
            self.channels["sms"] = AliyunSms(self.cfg.sms, self.cfg.catalogue, self.client)
        if self.cfg.wechat.enabled:
            self.channels["wechat"] = WechatSubscribe(self.cfg.wechat, self.cfg.catalogue, self.client)
        if self.cfg.push.enabled:
            self.channels["push"] = PushChannel(self.cfg.push, self.client)
        if self.cfg.email.enabled:
            self.channels["email"] = EmailChannel(self.cfg.email, self.cfg.catalogue, policy.http_timeout_seconds)
        self.webhook_client = webhook_client(self.cfg.webhook) if self.cfg.webhook.enabled else None
        if self.webhook_client is not None:
            self.channels["webhook"] = WebhookChannel(self.cfg.webhook, self.webhook_client, resolver_of(rt))
        self.platform_client = platform_client(self.cfg.platform) if self.cfg.platform.enabled else None
        if self.platform_client is not None:
            self.channels["platform"] = PlatformChannel(self.cfg.platform, self.platform_client)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()
        if self.webhook_client is not None:
            self.webhook_client.close()
        if self.platform_client is not None:
            self.platform_client.close()

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Claim the next batch while the previous one is being delivered and recorded: the two
        never overlap (claimed rows are `sending`), and the database and the providers work at once."""
        if not self.channels:
            stop.wait()  # no channel configured: nothing to claim, ever (the inbox needs no sender)
            return
        wake = sender_wakeup(self.rt)
        stage = ThreadPoolExecutor(1, thread_name_prefix="notify-record")
        pending = None
        try:
            while not stop.is_set():
                try:
                    now = utcnow()
                    claimed = self.claim(now)
                    if pending is not None:
                        pending.result()
                        pending = None
                    if claimed:
                        pending = stage.submit(lambda c=claimed, t=now: self.record(c, self.deliver(c), t))
                        continue
                except Exception as exc:  # a database hiccup must not end the sender: try again shortly
                    log.warning("notify sender: %s", type(exc).__name__)
                    pending = None
                wake.wait(self.cfg.policy.poll_seconds)
                wake.clear()
            if pending is not None:
                pending.result()
        finally:
            stage.shutdown(wait=True)

    # -- 1. claim ---------------------------------------------------------------------------
    def claim(self, now: datetime) -> list[Outgoing]:
        if not self.channels:
            return []  # nothing this sender could deliver: no query at all
        lease = now + timedelta(seconds=self.lease_seconds)
        table, people_table = Message.__table__, Recipient.__table__
        out: list[Outgoing] = []
        with self.rt.unit_of_work() as uow:
            session = uow.session
            # Plain rows, not ORM objects: a batch is thousands of rows and most are simply claimed.
            query = (select(table)
                     .where(or_(table.c.status == "queued", table.c.status == "sending"),
                            or_(table.c.status == "queued", table.c.lease_until < now),
                            table.c.next_attempt_at <= now,
                            table.c.channel.in_(list(self.channels)))
                     .order_by(table.c.urgent.desc(), table.c.next_attempt_at)
                     .limit(self.cfg.policy.batch))
            if "platform" in self.channels:
                query = query.where(in_order(table))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return []
            people = {r.user_id: r for r in session.execute(select(people_table).where(
                people_table.c.user_id.in_({m.recipient_id for m in rows if m.channel != "webhook"})))}
            hooks = {w.id: w for w in session.scalars(select(WebhookSubscription).where(
                WebhookSubscription.id.in_({m.recipient_id for m in rows if m.channel == "webhook"})))}
            people.update(callers(session, self.keys, rows))
            posts = bodies(session, [m.id for m in rows if m.channel == "platform"])
            # Only what is sent now counts: a message deferred by quiet hours is counted when it goes.
            allowed = self._within_limits(
                session, [m for m in rows if m.channel == "sms" and m.attempts == 0
                          and (m.urgent or quiet_until(people.get(m.recipient_id), now) is None)], people, now)
            claimed, actions = [], {}
            for m in rows:
                item = self._prepare(m, people.get(m.recipient_id), hooks.get(m.recipient_id), now, allowed,
                                     posts.get(m.id))
                if isinstance(item, Outgoing):
                    out.append(item)
                    claimed.append({"mid": m.id})
                else:
                    actions[m.id] = item
            if claimed:
                session.execute(update(table).where(table.c.id == bindparam("mid"))
                                .values(status="sending", lease_until=lease, attempts=table.c.attempts + 1),
                                claimed)
            if actions:
                for m in session.scalars(select(Message).where(Message.id.in_(list(actions)))):
                    until, result = actions[m.id]
                    if until is not None:
                        m.status, m.next_attempt_at, m.reason = "queued", until, "quiet_hours"
                    else:
                        settle(session, for_request(uow, m).emit, self.cfg, m, result, now)
        return out

    def _prepare(self, m, who, hook: WebhookSubscription | None, now: datetime, allowed: set[str],
                 post: str | None = None) -> Outgoing | tuple[datetime | None, Result | None]:
        """What to send, or what to do instead: (defer until, None) or (None, a result to settle)."""
        if m.channel == "webhook":
            if hook is None or not hook.active:
                return None, Result("suppressed", reason="webhook subscription inactive")
            return Outgoing(m.id, m.template, m.title, m.body, {}, address=hook.url,
                            secret=hook.secret, event_type=m.template, channel="webhook")
        if m.channel == "platform":
            if post is None:
                return None, Result("failed", reason="platform: no write-back recorded")
            return Outgoing(m.id, m.template, m.title, post, {}, event_type=m.template, channel="platform")
        if m.sealed is not None and not is_caller(m.recipient_id):
            return self._unsealed(m, now)
        address = getattr(who, ADDRESS[m.channel], None) if who else None
        if not address:
            return None, Result("failed", reason=f"{m.channel}: no address")
        if not m.urgent and (until := quiet_until(who, now)) is not None:
            return until, None
        if m.channel == "sms" and m.attempts == 0 and m.id not in allowed:
            return None, Result("suppressed", reason="limit: sms per number and template per day")
        return Outgoing(m.id, m.template, m.title, m.body, json.loads(m.variables or "{}"),
                        urgent=m.urgent, address=address, channel=m.channel)

    def _unsealed(self, m, now: datetime) -> Outgoing | tuple[None, Result]:
        """A message that carries its own address and values, sealed (a code): opened now."""
        try:
            opened = open_sealed(self.keys, m.id, m.sealed)
        except (InvalidTag, KeyError, ValueError):
            return None, Result("failed", reason=f"{m.channel}: the sealed address does not open")
        if opened.until is not None and opened.until <= now:
            return None, Result("suppressed", reason="expired before it could be sent")
        return Outgoing(m.id, m.template, m.title, m.body, opened.values, urgent=m.urgent, address=opened.address,
                        channel=m.channel, lang=opened.lang)

    def _within_limits(self, session: Session, batch: list, people: dict, now: datetime) -> set[str]:
        """Ids of the first-attempt SMS messages within their per-number, per-template daily limit, and
        the urgent ones, which count but are never limited.

        The counters of the batch are read and written together; on PostgreSQL the rows are
        locked (FOR UPDATE), so two senders cannot both take the last one.
        """
        keys: dict[str, str] = {}
        for m in batch:
            who = people.get(m.recipient_id)
            if who is not None and who.phone:
                day = now.astimezone(_zone(who)).date().isoformat()
                keys[m.id] = counter_key(self.index, "sms", who.phone, m.template, day)
        if not keys:
            return set()
        table = SendCounter.__table__
        pg = session.get_bind().dialect.name == "postgresql"
        insert = upsert_insert(session)
        # Always in key order: two senders locking the same counters in different orders deadlock.
        ordered = sorted(set(keys.values()))
        session.execute(insert(table).on_conflict_do_nothing(), [{"key": k, "count": 0} for k in ordered])
        query = select(table.c.key, table.c.count).where(table.c.key.in_(ordered)).order_by(table.c.key)
        counts = dict(session.execute(query.with_for_update() if pg else query).all())
        allowed = set()
        for m in batch:
            key = keys.get(m.id)
            # An urgent message is counted but never held back by the limit: a 特急 order's SMS after the
            # day's tenth of its template still goes (the limit guards against floods of routine news).
            if key is not None and (m.urgent or counts[key] < people[m.recipient_id].sms_daily_limit):
                counts[key] += 1
                allowed.add(m.id)
        session.execute(update(table).where(table.c.key == bindparam("k")).values(count=bindparam("c")),
                        [{"k": k, "c": c} for k, c in counts.items()])
        return allowed

    # -- 2. deliver (no transaction open) ------------------------------------------------------
    def deliver(self, items: list[Outgoing]) -> dict[str, Result]:
        by_channel: dict[str, list[Outgoing]] = {}
        for item in items:
            by_channel.setdefault(item.channel, []).append(item)
        futures = []
        for channel, group in by_channel.items():
            adapter = self.channels[channel]
            size = self.cfg.sms.batch if channel == "sms" else max(1, -(-len(group) // self.cfg.policy.workers))
            for i in range(0, len(group), size):
                chunk = group[i:i + size]
                futures.append((chunk, self.pool.submit(adapter.send, chunk)))
        results = {}
        for chunk, future in futures:
            try:
                outcome = future.result()
            except Exception as exc:  # an adapter bug: retry later rather than lose the messages
                log.warning("notify sender: adapter error %s", type(exc).__name__)
                outcome = [Result("retry", reason=f"adapter error: {type(exc).__name__}")] * len(chunk)
            results.update({item.message_id: r for item, r in zip(chunk, outcome, strict=True)})
        return results

    # -- 3. record ---------------------------------------------------------------------------
    def record(self, items: list[Outgoing], results: dict[str, Result], now: datetime) -> None:
        table = Message.__table__
        with self.rt.unit_of_work() as uow:
            session = uow.session
            rows = session.execute(select(table.c.id, table.c.status, table.c.lease_until, table.c.event_id,
                                          table.c.recipient_id, table.c.channel, table.c.template,
                                          table.c.correlation_id)
                                   .where(table.c.id.in_([i.message_id for i in items]))).all()
            # Only rows still under this claim's lease: others were settled, or taken up by another
            # sender after the lease ran out, and are that sender's to record.
            lease = now + timedelta(seconds=self.lease_seconds)
            sending = {r.id: r for r in rows if r.status == "sending" and r.lease_until == lease}
            sent, other = [], []
            for item in items:
                if item.message_id in sending:
                    (sent if results[item.message_id].outcome == "sent" else other).append(item.message_id)
            if sent:
                # The common case in bulk: one UPDATE and one outbox INSERT for the whole batch.
                session.execute(update(table).where(table.c.id == bindparam("mid")).values(
                    status="sent", sent_at=now, reason=None, lease_until=None, sealed=None,
                    provider_message_id=bindparam("pid")),
                    [{"mid": mid, "pid": results[mid].provider_message_id} for mid in sent])
                for mid in sent:  # the bulk path of delivery.settle's "sent"
                    metrics.notification(sending[mid].channel, "sent")
                # Each message's events carry the request that caused it, not this sending round's id.
                by_request: dict[str | None, list[str]] = {}
                for mid in sent:
                    by_request.setdefault(sending[mid].correlation_id, []).append(mid)
                for correlation_id, mids in by_request.items():
                    self.rt.outbox.emit_many(session, [MessageSent(
                        message_id=mid, event_id=sending[mid].event_id, recipient_id=sending[mid].recipient_id,
                        channel=sending[mid].channel, template=sending[mid].template, at=now,
                        provider_message_id=results[mid].provider_message_id) for mid in mids],
                        correlation_id=correlation_id or uow.correlation_id)
            if other:
                for m in session.scalars(select(Message).where(Message.id.in_(other))):
                    settle(session, for_request(uow, m).emit, self.cfg, m, results[m.id], now)
