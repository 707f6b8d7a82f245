"""A unit of work: one transaction's session and the one way to emit events from it.

Domain functions take `session` and `emit` and never know whether they run in a request, a
message handler or a background job: the request's UnitOfWork, the consumer's HandlerContext
(a UnitOfWork caused by the message being handled) and a background job's UnitOfWork all
provide them. Events go to the outbox in the same transaction as the change.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.events import Envelope, Payload
from shared.messaging.outbox import Outbox

# What a domain function is given to publish an event: takes a payload, returns its envelope.
Emit = Callable[[Payload], Envelope]


@dataclass
class UnitOfWork:
    session: Session
    outbox: Outbox
    # One resident request end to end (the HTTP X-Request-ID), and the message that caused this one.
    correlation_id: str | None = None
    causation_id: str | None = None

    def emit(self, payload: Payload) -> Envelope:
        return self.outbox.emit(self.session, payload, correlation_id=self.correlation_id,
                                causation_id=self.causation_id)
