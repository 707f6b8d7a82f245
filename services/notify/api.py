"""Notify's REST API under /notify/v1: the inbox, one's own preferences and contacts, delivery
states, the dead-letter queue, webhook subscriptions, digests and provider delivery receipts."""

import hashlib
import hmac
import json
import re
import secrets
import time as clock
import uuid
from datetime import date, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import delete, func, select

from shared.auth import CurrentUser, StaffUser, User
from shared.db import utcnow
from shared.errors import ApiError
from shared.runtime import ServiceRuntime

from . import directory, errors  # noqa: F401  (errors registers the codes)
from .config import config_of
from .handlers import OPTIONAL_CATEGORIES, sender_wakeup
from .models import DigestItem, Message, Recipient, WebhookSubscription, WechatRefusal
from .schemas import (
    ContactsIn,
    ContactsOut,
    DigestEntry,
    InboxMessage,
    MessageState,
    Preferences,
    WebhookIn,
    WebhookOut,
)
from .sender import apply_receipt

CHANNELS = ("sms", "wechat", "push", "email")
PHONE = re.compile(r"1[3-9]\d{9}")
WECHAT_TOLERANCE_SECONDS = 300
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PATTERN = re.compile(r"(\*|#|[a-z_]+)(\.(\*|#|[a-z_]+)){0,3}")


def _inbox_view(m: Message) -> InboxMessage:
    return InboxMessage(id=m.id, title=m.title, body=m.body, category=m.category, urgent=m.urgent,
                        subject_kind=m.subject_kind, subject_id=m.subject_id, created_at=m.created_at,
                        read_at=m.read_at)


def _state(m: Message, show_recipient: bool = True) -> MessageState:
    return MessageState(id=m.id, event_id=m.event_id, recipient_id=m.recipient_id if show_recipient else None,
                        channel=m.channel,
                        template=m.template, status=m.status, attempts=m.attempts, reason=m.reason,
                        provider_message_id=m.provider_message_id, fallback_from=m.fallback_from,
                        created_at=m.created_at, sent_at=m.sent_at, delivered_at=m.delivered_at, dead_at=m.dead_at)


def mask_phone(phone: str | None) -> str | None:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else None


def mask_email(email: str | None) -> str | None:
    if not email:
        return None
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def _require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiError(403, "auth.forbidden")


def _recipient(session, user: User) -> Recipient:
    who = session.get(Recipient, user.id)
    if who is None:
        # A user the directory has not seen (signed up after the seed): start from the defaults.
        who = Recipient(user_id=user.id, role=user.role,
                        unit_id=directory.unit_id(user.unit_code) if user.unit_code else None, lang="zh",
                        channels=json.dumps(directory.default_channels(user.role)), opt_outs="[]",
                        quiet_start="22:00", quiet_end="07:00", timezone="Asia/Shanghai", sms_daily_limit=10,
                        updated_at=utcnow())
        session.add(who)
    return who


def _prefs_view(who: Recipient) -> Preferences:
    return Preferences(channels=json.loads(who.channels), opt_outs=json.loads(who.opt_outs),
                       quiet_start=who.quiet_start, quiet_end=who.quiet_end, timezone=who.timezone, lang=who.lang,
                       sms_daily_limit=who.sms_daily_limit)


def _check_prefs(p: Preferences) -> None:
    for i, channel in enumerate(p.channels):
        if channel not in CHANNELS:
            raise ApiError(422, "notify.unknown_channel", field=f"channels.{i}")
    if len(set(p.channels)) != len(p.channels):
        raise ApiError(422, "notify.duplicate_channel", field="channels")
    for i, category in enumerate(p.opt_outs):
        if category not in OPTIONAL_CATEGORIES:
            raise ApiError(422, "notify.category_not_optional", field=f"opt_outs.{i}")
    for name in ("quiet_start", "quiet_end"):
        value = getattr(p, name)
        try:
            if not re.fullmatch(r"\d{2}:\d{2}", value):
                raise ValueError
            time.fromisoformat(value)
        except ValueError:
            raise ApiError(422, "notify.bad_time", field=name) from None
    try:
        ZoneInfo(p.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, "notify.bad_timezone", field="timezone") from None


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")

    # -- inbox --------------------------------------------------------------------------------
    @api.get("/inbox", response_model=list[InboxMessage], tags=["站内信 inbox"],
             summary="我的站内信，最新在前 my messages, newest first")
    def inbox(user: CurrentUser, unread_only: bool = False,
              limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[InboxMessage]:
        query = select(Message).where(Message.recipient_id == user.id, Message.channel == "inbox")
        if unread_only:
            query = query.where(Message.read_at.is_(None))
        with rt.uow() as session:
            rows = session.scalars(query.order_by(Message.created_at.desc()).limit(limit)).all()
        return [_inbox_view(m) for m in rows]

    @api.get("/inbox/unread-count", tags=["站内信 inbox"], summary="未读数量 unread count")
    def unread_count(user: CurrentUser) -> dict:
        with rt.uow() as session:
            n = session.scalar(select(func.count()).where(
                Message.recipient_id == user.id, Message.channel == "inbox", Message.read_at.is_(None)))
        return {"unread": n}

    @api.post("/inbox/{message_id}/read", response_model=InboxMessage, tags=["站内信 inbox"],
              summary="标记已读 mark as read")
    def mark_read(message_id: str, user: CurrentUser) -> InboxMessage:
        with rt.uow() as session:
            message = session.get(Message, message_id)
            if message is None or message.recipient_id != user.id or message.channel != "inbox":
                raise ApiError(404, "not_found", field="message_id")
            if message.read_at is None:
                message.read_at = utcnow()
            return _inbox_view(message)

    # -- one's own preferences and contacts ------------------------------------------------------
    @api.get("/me/preferences", response_model=Preferences, tags=["偏好 preferences"],
             summary="我的通知偏好 my notification preferences")
    def get_preferences(user: CurrentUser) -> Preferences:
        with rt.uow() as session:
            return _prefs_view(_recipient(session, user))

    @api.put("/me/preferences", response_model=Preferences, tags=["偏好 preferences"],
             summary="修改通知偏好：渠道顺序、退订类别、免打扰时段、短信上限 change my preferences")
    def put_preferences(body: Preferences, user: CurrentUser) -> Preferences:
        _check_prefs(body)
        with rt.uow() as session:
            who = _recipient(session, user)
            who.channels, who.opt_outs = json.dumps(body.channels), json.dumps(sorted(set(body.opt_outs)))
            who.quiet_start, who.quiet_end, who.timezone = body.quiet_start, body.quiet_end, body.timezone
            who.lang, who.sms_daily_limit, who.updated_at = body.lang, body.sms_daily_limit, utcnow()
            return _prefs_view(who)

    @api.get("/me/contacts", response_model=ContactsOut, tags=["偏好 preferences"],
             summary="我的联系方式（脱敏）my contact details, masked")
    def get_contacts(user: CurrentUser) -> ContactsOut:
        with rt.uow() as session:
            who = _recipient(session, user)
            return ContactsOut(phone=mask_phone(who.phone), email=mask_email(who.email),
                               wechat_bound=bool(who.wechat_openid), push_bound=bool(who.push_token))

    @api.put("/me/contacts", response_model=ContactsOut, tags=["偏好 preferences"],
             summary="修改联系方式：只改提供的字段，空字符串表示删除 change my contact details")
    def put_contacts(body: ContactsIn, user: CurrentUser) -> ContactsOut:
        if body.phone and not PHONE.fullmatch(body.phone):
            raise ApiError(422, "notify.bad_phone", field="phone")
        if body.email and not EMAIL.fullmatch(body.email):
            raise ApiError(422, "notify.bad_email", field="email")
        with rt.uow() as session:
            who = _recipient(session, user)
            for name in body.model_fields_set:
                setattr(who, name, getattr(body, name) or None)
            who.updated_at = utcnow()
            return ContactsOut(phone=mask_phone(who.phone), email=mask_email(who.email),
                               wechat_bound=bool(who.wechat_openid), push_bound=bool(who.push_token))

    @api.post("/me/wechat-subscriptions", tags=["偏好 preferences"],
              summary="小程序订阅授权：用户再次点击订阅后恢复推送 the user subscribed (again) to templates")
    def wechat_subscribed(user: CurrentUser, body: Annotated[dict, Body(examples=[{
            "template_ids": ["tmpl_case_progress"]}])]) -> dict:
        # wx.requestSubscribeMessage reports which templates the user accepted; a refusal (43101)
        # recorded earlier must not outlive a new authorisation.
        ids = body.get("template_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and 0 < len(i) <= 100 for i in ids):
            raise ApiError(422, "validation.invalid", field="template_ids")
        with rt.uow() as session:
            cleared = session.execute(delete(WechatRefusal).where(WechatRefusal.user_id == user.id,
                                                                   WechatRefusal.template_id.in_(ids))).rowcount
        return {"resumed": sorted(set(ids)), "cleared_refusals": cleared}

    # -- delivery states and the dead-letter queue (staff) ------------------------------------------
    @api.get("/messages", response_model=list[MessageState], tags=["投递 delivery"],
             summary="某事项的通知投递状态（工作人员）delivery states of the messages about a case or dispute")
    def messages(user: StaffUser, subject_id: str,
                 limit: Annotated[int, Query(ge=1, le=200)] = 100) -> list[MessageState]:
        with rt.uow() as session:
            rows = session.scalars(select(Message).where(Message.subject_id == subject_id)
                                   .order_by(Message.created_at).limit(limit)).all()
            # 保密: staff see the matter, not the person. A resident's id (possibly a confidential
            # requester's) is shown to admins only; staff recipients and webhook subscriptions stay.
            staff = set() if user.role == "admin" else set(session.scalars(select(Recipient.user_id).where(
                Recipient.user_id.in_({m.recipient_id for m in rows}), Recipient.role != "resident")))
        return [_state(m, user.role == "admin" or m.channel == "webhook" or m.recipient_id in staff) for m in rows]

    @api.get("/admin/dead-letters", response_model=list[MessageState], tags=["投递 delivery"],
             summary="死信队列：所有渠道都失败的消息及原因（管理员）the dead-letter queue")
    def dead_letters(user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[MessageState]:
        _require(user, "admin")
        with rt.uow() as session:
            rows = session.scalars(select(Message).where(Message.dead_at.is_not(None))
                                   .order_by(Message.dead_at.desc()).limit(limit)).all()
        return [_state(m) for m in rows]

    @api.post("/admin/dead-letters/{message_id}/requeue", response_model=MessageState, tags=["投递 delivery"],
              summary="重新投递死信（例如修好渠道配置后）requeue a dead letter")
    def requeue(message_id: str, user: CurrentUser) -> MessageState:
        _require(user, "admin")
        with rt.uow() as session:
            m = session.get(Message, message_id)
            if m is None:
                raise ApiError(404, "not_found", field="message_id")
            if m.dead_at is None:
                raise ApiError(409, "notify.not_dead", field="message_id")
            m.status, m.dead_at, m.attempts, m.next_attempt_at = "queued", None, 0, utcnow()
            session.info.setdefault("cg_outbox_signals", set()).add(sender_wakeup(rt))
            return _state(m)

    # -- webhook subscriptions (admin) ------------------------------------------------------------
    def _hook_view(w: WebhookSubscription, secret: str | None = None) -> WebhookOut:
        return WebhookOut(id=w.id, name=w.name, url=w.url, event_patterns=json.loads(w.event_patterns),
                          active=w.active, created_at=w.created_at, secret=secret)

    @api.post("/webhooks", response_model=WebhookOut, status_code=201, tags=["Webhook"],
              summary="订阅事件推送（政府系统对接）subscribe a government system to events")
    def create_webhook(body: WebhookIn, user: CurrentUser) -> WebhookOut:
        _require(user, "admin")
        if not body.url.startswith("https://") and not rt.cache.get("notify.allow_http_webhooks"):
            raise ApiError(422, "notify.bad_url", field="url")
        for i, pattern in enumerate(body.event_patterns):
            if not PATTERN.fullmatch(pattern):
                raise ApiError(422, "notify.bad_pattern", field=f"event_patterns.{i}")
        secret = secrets.token_urlsafe(32)
        with rt.uow() as session:
            hook = WebhookSubscription(id=str(uuid.uuid4()), name=body.name, url=body.url, secret=secret,
                                       event_patterns=json.dumps(body.event_patterns), active=True,
                                       created_at=utcnow())
            session.add(hook)
            rt.cache.pop("notify.webhooks", None)  # this process sees it at once; others within seconds
            return _hook_view(hook, secret)

    @api.get("/webhooks", response_model=list[WebhookOut], tags=["Webhook"], summary="事件订阅列表 subscriptions")
    def list_webhooks(user: CurrentUser) -> list[WebhookOut]:
        _require(user, "admin")
        with rt.uow() as session:
            return [_hook_view(w) for w in session.scalars(select(WebhookSubscription)
                                                            .order_by(WebhookSubscription.created_at))]

    @api.delete("/webhooks/{hook_id}", status_code=204, tags=["Webhook"], summary="停用订阅 deactivate")
    def delete_webhook(hook_id: str, user: CurrentUser) -> None:
        _require(user, "admin")
        with rt.uow() as session:
            hook = session.get(WebhookSubscription, hook_id)
            if hook is None:
                raise ApiError(404, "not_found", field="hook_id")
            hook.active = False
        rt.cache.pop("notify.webhooks", None)

    # -- digests ---------------------------------------------------------------------------------
    @api.get("/digests/{unit_id}", response_model=list[DigestEntry], tags=["汇总 digest"],
             summary="某单位某日的预警与超时工单 a unit's warned and overdue work orders of a day")
    def digest(unit_id: str, day: date, user: StaffUser) -> list[DigestEntry]:
        own = directory.unit_id(user.unit_code) if user.unit_code else None
        if own != unit_id and user.role not in ("supervisor", "admin"):
            raise ApiError(403, "auth.forbidden")
        with rt.uow() as session:
            rows = session.scalars(select(DigestItem).where(DigestItem.unit_id == unit_id,
                                                            DigestItem.day == day.isoformat())
                                   .order_by(DigestItem.kind, DigestItem.case_no)).all()
        return [DigestEntry(kind=r.kind, clock=r.clock, case_id=r.case_id, case_no=r.case_no,
                            work_order_id=r.work_order_id, deadline=r.deadline) for r in rows]

    # -- provider delivery receipts -------------------------------------------------------------
    @api.post("/callbacks/sms/aliyun", tags=["回执 receipts"],
              summary="阿里云短信状态报告（HTTP 推送）Alibaba Cloud SMS delivery reports")
    def sms_reports(token: str, reports: Annotated[list[dict], Body(max_length=1000)]) -> dict:
        expected = config_of(rt).sms.callback_token
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise ApiError(401, "notify.bad_signature", field="token")
        with rt.uow() as session:
            for report in reports:
                m = session.get(Message, str(report.get("out_id") or "")) if report.get("out_id") else None
                if m is None and report.get("biz_id"):
                    # A batch send has one BizId for many numbers: the number tells them apart.
                    candidates = session.scalars(select(Message).where(
                        Message.provider_message_id == str(report["biz_id"]), Message.channel == "sms")).all()
                    phones = {r.user_id: r.phone for r in session.scalars(select(Recipient).where(
                        Recipient.user_id.in_([c.recipient_id for c in candidates])))}
                    m = next((c for c in candidates if phones.get(c.recipient_id) == report.get("phone_number")),
                             None)
                if m is not None and m.channel == "sms":
                    ok = bool(report.get("success"))
                    apply_receipt(rt, session, m, ok, None if ok else f"sms report: {report.get('err_code')}"[:100])
        return {"code": 0, "msg": "成功"}

    @api.post("/callbacks/push", tags=["回执 receipts"],
              summary="推送服务送达回执（HMAC-SHA256 签名）push provider receipts")
    async def push_receipt(request: Request) -> dict:
        raw = await request.body()
        secret = config_of(rt).push.callback_secret or ""
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        given = request.headers.get("x-push-signature", "").encode("utf-8", "replace")
        if not secret or not hmac.compare_digest(expected.encode(), given):
            raise ApiError(401, "notify.bad_signature", field="X-Push-Signature")
        try:
            body = json.loads(raw)
            message_id, status = str(body["message_id"]), str(body["status"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(422, "validation.bad_json") from None
        with rt.uow() as session:
            m = session.get(Message, message_id)
            if m is not None and m.channel == "push" and status in ("delivered", "failed"):
                apply_receipt(rt, session, m, status == "delivered", f"push report: {body.get('reason')}"[:100])
        return {"ok": True}

    @api.get("/callbacks/wechat", response_class=PlainTextResponse, tags=["回执 receipts"],
             summary="微信消息推送服务器地址校验 WeChat server URL check")
    def wechat_check(signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        _wechat_verify(rt, signature, timestamp, nonce)
        return echostr

    @api.post("/callbacks/wechat", response_class=PlainTextResponse, tags=["回执 receipts"],
              summary="微信订阅消息发送结果事件 subscribe_msg_sent_event")
    def wechat_event(signature: str, timestamp: str, nonce: str, body: Annotated[dict, Body()]) -> str:
        _wechat_verify(rt, signature, timestamp, nonce)
        if body.get("Event") == "subscribe_msg_sent_event":
            items = body.get("List") or []
            with rt.uow() as session:
                for item in items if isinstance(items, list) else [items]:
                    m = session.scalar(select(Message).where(Message.channel == "wechat",
                                                             Message.provider_message_id == str(item.get("MsgID"))))
                    if m is not None:
                        ok = str(item.get("ErrorCode")) == "0"
                        apply_receipt(rt, session, m, ok, None if ok else f"wechat report: {item.get('ErrorCode')}")
        return "success"

    return api


def _wechat_verify(rt: ServiceRuntime, signature: str, timestamp: str, nonce: str) -> None:
    token = config_of(rt).wechat.callback_token or ""
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    if not token or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise ApiError(401, "notify.bad_signature", field="signature")
    # The signature covers token, timestamp and nonce but not the body (plain-text mode): without
    # a freshness window, one captured query string would authenticate any body forever.
    if not timestamp.isdigit() or abs(clock.time() - int(timestamp)) > WECHAT_TOLERANCE_SECONDS:
        raise ApiError(401, "notify.bad_signature", field="timestamp")
