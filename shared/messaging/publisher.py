"""What a relay hands messages to: the AMQP publisher or the in-process bus."""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    routing_key: str
    body: bytes
    headers: dict = field(default_factory=dict)


class PublishError(Exception):
    """The whole batch could not be handed over (broker unreachable, channel closed)."""


class Publisher(Protocol):
    def publish_batch(self, messages: list[OutgoingMessage]) -> list[str | None]:
        """Publish and wait until the transport has taken responsibility for each message.

        Returns, per message, None when it was confirmed and routed, or the reason it was
        not (nacked, unroutable). Raises PublishError when nothing could be published.
        """
        ...

    def close(self) -> None: ...
