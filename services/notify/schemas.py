"""Request and response bodies of notify's API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ExternalChannel = Literal["sms", "wechat", "push", "email"]


class InboxMessage(BaseModel):
    id: str
    title: str
    body: str
    category: str
    urgent: bool
    subject_kind: str
    subject_id: str
    created_at: datetime
    read_at: datetime | None


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "channels": ["wechat", "sms", "email"], "opt_outs": ["mediation"], "quiet_start": "22:00",
        "quiet_end": "07:00", "timezone": "Asia/Shanghai", "lang": "zh", "sms_daily_limit": 10}]})

    channels: list[str] = Field(description="外部渠道的先后顺序（站内信总会收到）the order of external channels",
                                max_length=4)
    opt_outs: list[str] = Field(default=[], description="退订的通知类别：case_progress / mediation / digest",
                                max_length=3)
    quiet_start: str = Field("22:00", description="免打扰开始 HH:MM（紧急通知不受限）")
    quiet_end: str = Field("07:00", description="免打扰结束 HH:MM")
    timezone: str = "Asia/Shanghai"
    lang: Literal["zh", "en"] = "zh"
    sms_daily_limit: int = Field(10, ge=1, le=50, description="同一号码同一模板每日短信上限")


class ContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "phone": "13800000001", "email": "resident@example.com"}]})

    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=200)
    wechat_openid: str | None = Field(None, max_length=64)
    push_token: str | None = Field(None, max_length=200)


class ContactsOut(BaseModel):
    """Masked: the owner sees enough to recognise them, nobody sees them whole again."""

    phone: str | None
    email: str | None
    wechat_bound: bool
    push_bound: bool


class MessageState(BaseModel):
    id: str
    event_id: str
    recipient_id: str | None = Field(
        description="收件人；居民的身份只对管理员显示 the recipient; a resident's only to admins")
    channel: str
    template: str
    status: str
    attempts: int
    reason: str | None
    provider_message_id: str | None
    fallback_from: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    dead_at: datetime | None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "市12345平台", "url": "https://12345.example.gov.cn/hooks/cg", "event_patterns": ["routing.case.*"]}]})

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=500)
    event_patterns: list[str] = Field(min_length=1, max_length=20)


class WebhookOut(BaseModel):
    id: str
    name: str
    url: str
    event_patterns: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(None, description="签名密钥，仅创建时返回一次 the signing secret, shown once")


class DigestEntry(BaseModel):
    kind: str
    clock: str
    case_id: str
    case_no: str
    work_order_id: str
    deadline: datetime
