"""What a channel is given and what it answers."""

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Outgoing:
    message_id: str
    template: str
    title: str
    body: str
    values: dict
    urgent: bool = False
    address: str | None = None  # phone, openid, push token, email, or the webhook URL: never logged
    secret: str | None = None  # the webhook subscription's signing secret
    event_type: str | None = None
    channel: str = ""
    lang: str = "zh"  # the language of a mail rendered at send time (a template's email section)


@dataclass
class Result:
    """sent: the provider took it; retry: a transient failure; failed: permanent, try the next channel;
    suppressed: deliberately not sent (user refused, limit), try the next channel."""

    outcome: Literal["sent", "retry", "failed", "suppressed"]
    provider_message_id: str | None = None
    reason: str | None = None  # a code or short text: never personal data
    extra: dict = field(default_factory=dict)


def http_outcome(status: int) -> Literal["retry", "failed"]:
    # Throttling, timeouts and server errors pass; other refusals will not change on their own.
    return "retry" if status in (408, 425, 429) or status >= 500 else "failed"
