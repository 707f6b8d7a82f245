"""Channel adapters: each turns queued messages into provider calls and says what came of each."""

from .base import Outgoing, Result
from .email import EmailChannel
from .push import PushChannel
from .sms import AliyunSms
from .webhook import WebhookChannel
from .wechat import WechatSubscribe

__all__ = ["AliyunSms", "EmailChannel", "Outgoing", "PushChannel", "Result", "WebhookChannel", "WechatSubscribe"]
