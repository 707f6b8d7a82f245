"""A unit of work: one transaction's session and the one way to emit events from it.

Domain functions take `session` and `emit` and never know whether they run in a request, a
message handler or a background job: the request's UnitOfWork, the consumer's HandlerContext
(a UnitOfWork caused by the message being handled) and a background job's UnitOfWork all
provide them. Events go to the outbox in the same transaction as the change.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.orm import Session

from shared import audit
from shared.events import Envelope, Payload
from shared.messaging import deferred
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
    # The service's audit trail, and who is acting (read when an entry is written: a request's
    # user is known once its authentication dependency ran).
    audit_table: Table | None = None
    actor: Callable[[], audit.Actor] | None = None
    # The service's keyed pseudonym of a user id on a subject (shared.audit.AuditKeys.pseudonym), for
    # `conceal_actor`, and who is told when the actor is concealed (the request: its refusals and
    # access log line).
    pseudonym: Callable[[str, str], str] | None = None
    on_conceal: Callable[[audit.Actor], None] | None = None
    concealed: bool = False

    def emit(self, payload: Payload) -> Envelope:
        """Publish an event of this change; the audit trail records who caused it."""
        envelope = self.outbox.emit(self.session, payload, correlation_id=self.correlation_id,
                                    causation_id=self.causation_id)
        self.audit(envelope.type, subject_kind=envelope.subject.kind, subject_id=envelope.subject.id,
                   detail={"event_id": envelope.id})
        return envelope

    def conceal_actor(self) -> None:
        """From now on, this unit of work's entries name its actor by the service's keyed pseudonym
        of her and each entry's subject, without her address: a resident acting on her own anonymous
        or confidential case (the service decides, where it recognises her as the reporter, before
        anything is recorded).

        Why here, once per unit of work, rather than per entry or by the events' payloads: every entry
        of the request (the events it emits, the reads it records, a refusal) is about that case and
        by her, and only the service's access rule knows she is its reporter; most of those entries
        are no event, and most events do not say whether the case is anonymous."""
        if self.concealed:
            return
        self.concealed = True
        if self.on_conceal is not None:
            actor = self.actor() if self.actor else None
            if actor is not None:
                self.on_conceal(actor.concealed())  # "anon": a request's log line names no subject

    def current_actor(self, subject_kind: str | None = None, subject_id: str | None = None) -> audit.Actor | None:
        """Who this unit of work's entry about this subject names (concealed when told so)."""
        actor = self.actor() if self.actor else None
        if actor is not None and self.concealed:
            actor = actor.concealed(self.pseudonym, audit.subject_key(subject_kind, subject_id))
        return actor

    def audit(self, action: str, *, subject_kind: str | None = None, subject_id: str | None = None,
              detail: dict | None = None) -> None:
        """An audit entry in this transaction (a read of a confidential record, an export, ...), inserted
        with the transaction's other entries at COMMIT (deferred.py): a statement of its own made the session
        flush first, once per entry (a consumer's batch flushed its cases one by one; a submission flushed
        its case, timeline and outbox rows twice)."""
        if self.audit_table is not None:
            deferred.insert_later(self.session, self.audit_table, [audit.entry(
                self.current_actor(subject_kind, subject_id), action, subject_kind=subject_kind,
                subject_id=subject_id, detail=detail)])
