"""Events notify publishes about deliveries."""

from datetime import datetime

from .registry import Payload, event


class MessageEvent(Payload):
    message_id: str
    event_id: str  # the event the message was about
    recipient_id: str
    channel: str  # inbox, sms, wechat, push, email, webhook
    template: str
    at: datetime


@event("notify.message.sent", 1, subject=("message", "message_id"))
class MessageSent(MessageEvent):
    provider_message_id: str | None = None


@event("notify.message.delivered", 1, subject=("message", "message_id"))
class MessageDelivered(MessageEvent):
    provider_message_id: str | None = None


@event("notify.message.failed", 1, subject=("message", "message_id"))
class MessageFailed(MessageEvent):
    reason: str
    permanent: bool = True


@event("notify.message.suppressed", 1, subject=("message", "message_id"))
class MessageSuppressed(MessageEvent):
    reason: str  # opted out, quiet hours, limit reached, user refused (43101)
