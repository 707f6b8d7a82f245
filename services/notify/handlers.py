"""Who hears about each event. Messages are recorded in the in-app inbox here; the
external channels (SMS, WeChat, push, email, webhooks) build on the same records."""

import uuid

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared.db import utcnow
from shared.events.intake import CaseSubmitted
from shared.events.routing import CaseDispatched
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from .models import Message
from .templates import TEMPLATES


def record(ctx: HandlerContext, recipient_id: str | None, template: str, **values) -> None:
    """Record an inbox message; a second delivery of the same event records nothing."""
    if not recipient_id:
        return
    title, body = TEMPLATES[template].render(**values)
    subject = ctx.envelope.subject
    insert = pg_insert if ctx.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ctx.session.execute(
        insert(Message).values(
            id=str(uuid.uuid4()), event_id=ctx.envelope.id, recipient_id=recipient_id, channel="inbox",
            template=template, subject_kind=subject.kind, subject_id=subject.id, title=title, body=body,
            status="delivered", created_at=utcnow(),
        ).on_conflict_do_nothing()
    )


def on_submitted(ctx: HandlerContext, event: CaseSubmitted) -> None:
    record(ctx, event.reporter_id, "case.accepted", case_no=event.case_no)


def on_dispatched(ctx: HandlerContext, event: CaseDispatched) -> None:
    record(ctx, event.requester_id, "case.dispatched", case_no=event.case_no, unit_name=event.unit_name)
    record(ctx, event.assignee_id, "workorder.new", case_no=event.case_no, unit_name=event.unit_name)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {
        "intake.case.submitted.v1": on_submitted,
        "routing.case.dispatched.v1": on_dispatched,
    }
