"""Request and response bodies of notify's API.

Preferences and contacts are checked here; their errors keep notify's own codes and name the
field (raised as ApiError once pydantic's own checks of the fields have passed).
"""

import re
from datetime import datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from shared.config import local_zone
from shared.errors import ApiError

from .models import EXTERNAL_CHANNELS, OPTIONAL_CATEGORIES

PHONE = re.compile(r"1[3-9]\d{9}")
# An address a code can be mailed to: printable ASCII (no control character, no space, nothing a
# mail header or SMTP would refuse), a dotted domain (the WHATWG form of a valid email address).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}")
HH_MM = re.compile(r"\d{2}:\d{2}")


class InboxMessage(BaseModel):
    id: str = Field(description="消息编号 message id")
    title: str = Field(description="标题 title")
    body: str = Field(description="正文 body")
    category: str = Field(description="类别：case_progress / work_order / mediation / digest … category")
    urgent: bool = Field(description="是否紧急（不受免打扰限制）urgent: sent in quiet hours too")
    subject_kind: str = Field(description="所涉事项的类型：case / dispute / unit what the message is about")
    subject_id: str = Field(description="所涉事项编号 the id of the case, dispute or unit")
    created_at: datetime = Field(description="创建时间 created at")
    read_at: datetime | None = Field(description="阅读时间，未读为空 read at; null while unread")


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "channels": ["wechat", "sms", "email"], "opt_outs": ["mediation"], "quiet_start": "22:00",
        "quiet_end": "07:00", "timezone": "Asia/Shanghai", "lang": "zh", "sms_daily_limit": 10}]})

    channels: list[str] = Field(description="外部渠道的先后顺序（站内信总会收到）：sms / wechat / push / email "
                                            "the order of external channels", max_length=4)
    opt_outs: list[str] = Field(default=[], description="退订的通知类别：case_progress / mediation / digest "
                                                        "categories opted out of", max_length=3)
    quiet_start: str = Field("22:00", description="免打扰开始 HH:MM（紧急通知不受限）quiet hours start")
    quiet_end: str = Field("07:00", description="免打扰结束 HH:MM quiet hours end")
    timezone: str = Field(default_factory=lambda: local_zone().key,
                          description="时区，默认为本部署的时区 the person's time zone, the deployment's by default")
    lang: Literal["zh", "en"] = Field("zh", description="通知语言 language of the messages")
    sms_daily_limit: StrictInt = Field(10, ge=1, le=50, description="同一号码同一模板每日短信上限 "
                                                              "SMS per number and template per day")

    @model_validator(mode="after")
    def _check(self) -> "Preferences":
        for i, channel in enumerate(self.channels):
            if channel not in EXTERNAL_CHANNELS:
                raise ApiError(422, "notify.unknown_channel", field=f"channels.{i}")
        if len(set(self.channels)) != len(self.channels):
            raise ApiError(422, "notify.duplicate_channel", field="channels")
        for i, category in enumerate(self.opt_outs):
            if category not in OPTIONAL_CATEGORIES:
                raise ApiError(422, "notify.category_not_optional", field=f"opt_outs.{i}")
        for name in ("quiet_start", "quiet_end"):
            value = getattr(self, name)
            try:
                if not HH_MM.fullmatch(value):
                    raise ValueError
                time.fromisoformat(value)
            except ValueError:
                raise ApiError(422, "notify.bad_time", field=name) from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(422, "notify.bad_timezone", field="timezone") from None
        return self


class ContactsIn(BaseModel):
    """Only the fields given change; an empty string removes that contact. A new email is not used
    until its code comes back (POST /me/contacts/email/verify)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "phone": "13800000001", "email": "resident@example.com"}]})

    phone: str | None = Field(None, max_length=20, description="大陆手机号 a mainland China mobile number")
    email: str | None = Field(None, max_length=200,
                              description="邮箱：提交后向该地址发送验证码，验证通过前不使用；空字符串立即删除 "
                                          "email address: a code is mailed to it, and it is not used until "
                                          "verified; an empty string removes it at once")
    wechat_openid: str | None = Field(None, max_length=64, description="小程序 openid the mini-program openid")
    push_token: str | None = Field(None, max_length=200, description="推送设备令牌 the push device token")

    @model_validator(mode="after")
    def _check(self) -> "ContactsIn":
        if self.phone and not PHONE.fullmatch(self.phone):
            raise ApiError(422, "notify.bad_phone", field="phone")
        if self.email and not EMAIL.fullmatch(self.email):
            raise ApiError(422, "notify.bad_email", field="email")
        return self


class ContactsOut(BaseModel):
    """Masked: the owner sees enough to recognise them, nobody sees them whole again."""

    phone: str | None = Field(description="手机号（脱敏）the phone number, masked")
    email: str | None = Field(description="已验证的邮箱（脱敏），邮件通知只发往此地址 "
                                          "the verified email, masked: the only address email notifications go to")
    email_pending: str | None = Field(
        description="待验证的邮箱（脱敏）：验证码已发往该地址，验证通过前不使用 "
                    "the email awaiting its code, masked: not used until verified")
    wechat_bound: bool = Field(description="是否已绑定微信 whether a WeChat openid is set")
    push_bound: bool = Field(description="是否已绑定推送设备 whether a push device is set")


class EmailCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "493817"}]})

    code: str = Field(min_length=4, max_length=8, pattern=r"^[0-9]+$",
                      description="邮件中的验证码 the code in the email sent to the pending address")


class WechatSubscriptionsIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"template_ids": ["tmpl_case_progress"]}]})

    template_ids: list[str] = Field(description="用户同意订阅的小程序模板 the templates the user accepted")

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: object) -> object:
        # One code for any malformed list, as wx.requestSubscribeMessage's result is passed on as is.
        ids = data.get("template_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and 0 < len(i) <= 100 for i in ids):
            raise ApiError(422, "validation.invalid", field="template_ids")
        return data


class MessageState(BaseModel):
    id: str = Field(description="消息编号 message id")
    event_id: str = Field(description="引起该消息的事件 the event the message tells about")
    recipient_id: str | None = Field(
        description="收件人；居民的身份只对管理员显示 the recipient; a resident's only to admins")
    channel: str = Field(description="渠道：inbox / sms / wechat / push / email / webhook channel")
    template: str = Field(description="模板（Webhook 为事件类型）template, or the event type for a webhook")
    status: str = Field(description="状态：queued / sending / sent / delivered / failed / suppressed")
    attempts: int = Field(description="已尝试次数 attempts so far")
    reason: str | None = Field(description="失败、抑制或推迟的原因（不含个人信息）why failed, suppressed or deferred")
    provider_message_id: str | None = Field(description="服务商的消息编号 the provider's message id")
    fallback_from: str | None = Field(description="改由本渠道发送前失败的消息 the message this one falls back from")
    created_at: datetime = Field(description="创建时间 created at")
    sent_at: datetime | None = Field(description="发出时间 sent at")
    delivered_at: datetime | None = Field(description="送达时间 delivered at")
    dead_at: datetime | None = Field(description="进入死信队列的时间 in the dead-letter queue since")
    correlation_id: str | None = Field(
        description="引起该消息的请求编号（X-Request-ID），可按它查询追踪 the request that caused it (its "
                    "X-Request-ID): GET /notify/v1/admin/trace/{correlation_id}")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "玉林街道网格平台", "url": "https://grid.yulin.example.gov.cn/hooks/cg",
        "event_patterns": ["routing.case.*"], "areas": ["510107001"], "categories": ["env", "facility.road"]}]})

    name: str = Field(min_length=1, max_length=100, description="订阅方名称 the subscriber's name")
    url: str = Field(min_length=8, max_length=500, description="回调地址，须为 https the https URL to POST to")
    event_patterns: list[str] = Field(min_length=1, max_length=20,
                                      description="事件类型模式，如 routing.case.* event type patterns")
    areas: list[Annotated[str, Field(max_length=30)]] = Field(
        [], max_length=50,
        description="区域：单位代码或其前若干位（如 510107001 即该街道），诉求所在区域路径上有单位以之开头才推送；"
                    "区域自派单起可知，受理事件与调解纠纷的事件不推送给设了区域的订阅。空：不限。"
                    "unit codes or their first digits: an event is sent only if some unit of its case's area "
                    "path starts with one (known from the dispatch on; intake.case.submitted and disputes' events "
                    "are not sent to a subscription with areas). Empty: any area")
    categories: list[Annotated[str, Field(max_length=100)]] = Field(
        [], max_length=50,
        description="类别：类别代码或其上级（如 env 即 env.*），诉求类别是其一或其下级才推送；调解纠纷的事件不推送。"
                    "空：不限。catalogue codes or their parents (env for env.*): an event is sent only if its "
                    "case's category is one or below one (disputes' events are not). Empty: any category")


class WebhookOut(BaseModel):
    id: str = Field(description="订阅编号 subscription id")
    name: str = Field(description="订阅方名称 the subscriber's name")
    url: str = Field(description="回调地址 the URL")
    event_patterns: list[str] = Field(description="事件类型模式 event type patterns")
    areas: list[str] = Field(description="区域过滤（单位代码前缀），空为不限 area filter, empty: any")
    categories: list[str] = Field(description="类别过滤（类别代码前缀），空为不限 category filter, empty: any")
    active: bool = Field(description="是否有效 whether it still receives events")
    created_at: datetime = Field(description="创建时间 created at")
    secret: str | None = Field(None, description="签名密钥，仅创建时返回一次 the signing secret, shown once")


class DigestEntry(BaseModel):
    kind: str = Field(description="warned 预警 / overdue 超时")
    clock: str = Field(description="时限：sign 签收 / contact 联系 / result 办结 the clock")
    case_id: str = Field(description="诉求编号 case id")
    case_no: str = Field(description="诉求受理号 case number")
    work_order_id: str = Field(description="工单编号 work order id")
    deadline: datetime = Field(description="时限 the deadline")


class WebhookDelivery(BaseModel):
    id: str = Field(description="投递编号，即 X-CG-Delivery（重试与重发不变）the delivery id, X-CG-Delivery "
                                "(kept by retries and re-sends)")
    event_id: str = Field(description="事件编号（信封 id）the event's id")
    event_type: str = Field(description="事件类型 the event type")
    subject_kind: str = Field(description="所涉事项类型 case / dispute what the event is about")
    subject_id: str = Field(description="所涉事项编号 its id")
    status: str = Field(description="状态：queued / sending / sent / failed / suppressed")
    attempts: int = Field(description="本轮已尝试次数（重发后从0计）attempts since it was (re-)queued")
    last_error: str | None = Field(description="最近一次失败的原因 why the last attempt failed")
    created_at: datetime = Field(description="创建时间 created at")
    sent_at: datetime | None = Field(description="最近送达对方的时间 when the receiver last took it")
    next_attempt_at: datetime | None = Field(description="下次尝试时间（排队中）the next attempt, while queued")
    dead_at: datetime | None = Field(description="放弃（进入死信队列）的时间 given up at")


class PlatformUpdateState(BaseModel):
    id: str = Field(description="回写编号，即 X-Nonce（重试与重发不变）the write-back's id, X-Nonce")
    order_no: str = Field(description="12345 工单编号 the platform's order number")
    case_id: str = Field(description="诉求编号 our case id")
    event_type: str = Field(description="引起回写的事件 the event written back")
    status_code: str = Field(description="平台状态代码 the platform's status code")
    status_name: str = Field(description="平台状态名称 the status's name")
    occurred_at: datetime = Field(description="事件发生时间（回写按此排序）when it happened: the order of sending")
    status: str = Field(description="投递状态：queued / sending / sent / failed")
    attempts: int = Field(description="本轮已尝试次数（重发后从0计）attempts since it was (re-)queued")
    last_error: str | None = Field(description="最近一次失败的原因 why the last attempt failed")
    created_at: datetime = Field(description="记录时间 recorded at")
    sent_at: datetime | None = Field(description="平台接收时间 when the platform took it")
    next_attempt_at: datetime | None = Field(description="下次尝试时间（排队中）the next attempt, while queued")
    dead_at: datetime | None = Field(
        description="放弃的时间（之后的状态随即发送）given up at (the next status then goes)")
