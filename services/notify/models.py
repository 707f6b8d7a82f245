"""Notify's own tables: the recipient directory with preferences, email addresses awaiting proof,
units, messages (the send queue and its history), webhook subscriptions, send counters and digest
items."""

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import audit_table
from shared.auth_state import auth_tables
from shared.db import UTCDateTime, service_metadata
from shared.events.routing import UNIT_PATH_MAX_LENGTH
from shared.messaging.tables import messaging_tables
from shared.sealed import Sealed
from shared.tracing import event_log_table


class Base(DeclarativeBase):
    metadata = service_metadata()


outbox, inbox = messaging_tables(Base.metadata)
event_log = event_log_table(Base.metadata)  # the admins' trace of a request (shared/tracing.py)
auth = auth_tables(Base.metadata)
audit = audit_table(Base.metadata)

EXTERNAL_CHANNELS = ("sms", "wechat", "push", "email")  # what Recipient.channels may order
OPTIONAL_CATEGORIES = ("case_progress", "mediation", "digest")  # work orders and supervision cannot be muted


class Recipient(Base):
    """Contact details and preferences of one person. Personal data: sealed at rest, never logged,
    masked in responses. The phone is found (an SMS delivery report names only the number) through
    its blind index: the keyed hash of the number in E.164 (directory.phone_index), the same hash a
    resident's token carries for the phone she verified at identity. The email is one proven to be
    the person's (a code mailed to it came back, email_checks.py) or the roster's: the email channel
    uses no other; an address awaiting proof is an EmailCheck."""

    __tablename__ = "recipients"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    phone: Mapped[str | None] = mapped_column(Sealed("notify.recipients.phone"))
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64))
    push_token: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(Sealed("notify.recipients.email"))
    lang: Mapped[str] = mapped_column(String(5), default="zh")
    # JSON lists: the external channels in the order the person reads them; categories opted out of
    channels: Mapped[str] = mapped_column(Text, default='["wechat", "push", "sms", "email"]')
    opt_outs: Mapped[str] = mapped_column(Text, default="[]")
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="07:00")
    timezone: Mapped[str] = mapped_column(String(40))  # the deployment's zone unless the person chose another
    sms_daily_limit: Mapped[int] = mapped_column(Integer, default=10)  # per number and template
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmailCheck(Base):
    """An email address someone asked to be told at, not used until she proves it is hers by the
    code mailed to it (email_checks.py); at most one per person. The address sealed at rest, the
    code kept only as a keyed hash bound to the person and to this code."""

    __tablename__ = "email_checks"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Sealed("notify.email_checks.address"))
    # The current code: its id (the context of its hash, the event id of the message mailing it),
    # hash, expiry and tries so far. None: no code sent yet (an address the migration to notify_0008
    # found unproven; asking for it again sends one).
    code_id: Mapped[str | None] = mapped_column(String(36))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Unit(Base):
    """The organisation tree, enough to find a unit's supervisor and its staff."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # the organisation file's, as routing's units.code
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(String(36))


class Message(Base):
    """One message to one recipient on one channel; at most one per event, recipient and channel.

    Also the send queue: the sender claims rows in state queued whose next_attempt_at has come.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", "channel", name="uq_messages_once"),
        Index("ix_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(60))
    subject_kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # queued, sending (claimed by a sender), sent, delivered, failed, suppressed
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    category: Mapped[str] = mapped_column(String(30), default="general", server_default="general")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    template_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    variables: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")  # JSON; ids and codes only
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))  # why failed/suppressed/deferred, no personal data
    fallback_from: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # in the dead-letter queue since
    # A message to someone with no Recipient (a sign-in code to a number): the address and the
    # values, sealed (AES-GCM bound to this message's id, codes.py); opened only by the sender,
    # cleared once the message is settled. Never personal data or a code in clear here.
    sealed: Mapped[str | None] = mapped_column(Text)
    # The request that caused the message (its X-Request-ID, which every event it caused carries): an admin
    # sees which request a notification answers, and the trace of a request finds its notifications.
    correlation_id: Mapped[str | None] = mapped_column(String(64), index=True)


class WebhookSubscription(Base):
    """A government system that wants events (ids only), signed with its own secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    event_patterns: Mapped[str] = mapped_column(Text)  # JSON list of topic patterns, e.g. "routing.case.*"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # JSON lists; empty: no filter. Unit code prefixes, one of which some unit of the case's area path must
    # start with; category prefixes ("env" for env.*), one of which the case's category must be or start
    # with. An event whose case's area (or category) notify does not know is not sent to a filtered one.
    areas: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    categories: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class SendCounter(Base):
    """Messages sent per (channel, hashed address, template, local day): the per-number limits."""

    __tablename__ = "send_counters"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class WechatRefusal(Base):
    """A user refused a subscription template (errcode 43101): stop sending it until they subscribe again."""

    __tablename__ = "wechat_refusals"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestItem(Base):
    """A warned or overdue work order of a unit on a day, for the unit's daily digest."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("unit_id", "day", "work_order_id", "kind", "clock", name="uq_digest_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[str] = mapped_column(String(10))  # local date, YYYY-MM-DD
    kind: Mapped[str] = mapped_column(String(10))  # warned, overdue
    clock: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[str] = mapped_column(String(36))
    case_no: Mapped[str] = mapped_column(String(40))
    work_order_id: Mapped[str] = mapped_column(String(36))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseFacts(Base):
    """What notify remembers about a case from intake's and routing's events, for the rules (cases.py):
    routing's events name neither the case's urgency nor its followers, intake's evaluation names no
    requester. Ids, a level and times only."""

    __tablename__ = "case_facts"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    urgency: Mapped[str | None] = mapped_column(String(4))
    urgency_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of the newest urgency applied
    requester_id: Mapped[str | None] = mapped_column(String(64))
    lead_work_order_id: Mapped[str | None] = mapped_column(String(36))  # the newest lead dispatch's
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest result: the reopen window
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False)  # the latest result was rated 不满意
    # For webhook subscriptions' filters (intake's events name the category, only routing's dispatch the area).
    category: Mapped[str | None] = mapped_column(String(100))
    # The newest lead dispatch's, whole (a cut path would miss a webhook's filter).
    area_path: Mapped[str | None] = mapped_column(String(UNIT_PATH_MAX_LENGTH))
    unit_path: Mapped[str | None] = mapped_column(String(UNIT_PATH_MAX_LENGTH))
    # A case another platform gave us ("12345" and its order number): its progress is written back there.
    external_source: Mapped[str | None] = mapped_column(String(20))
    external_no: Mapped[str | None] = mapped_column(String(100), index=True)
    # The phone of a hotline caller without an account who consented (intake's caller_phone_sealed), as the
    # SMS provider takes it: sealed at rest, with its blind index (a batch's delivery report names only the
    # number); told of the dispatch and the result by SMS. Cleared when the case is closed.
    caller_phone: Mapped[str | None] = mapped_column(Sealed("notify.case_facts.caller_phone"))
    caller_phone_index: Mapped[str | None] = mapped_column(String(64))


class CaseFollower(Base):
    """A resident who joined a case (它也影响我, intake.case.joined), or whose case was merged into it:
    told of its progress, never of the reporter."""

    __tablename__ = "case_followers"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class PlatformUpdate(Base):
    """One status written back to the 12345 platform (platform.py). Its delivery is the Message of the same
    id (channel "platform": attempts, back-off, outcome); what is posted is kept here, sealed, since a
    result's or a return's text is typed by a handler and may name someone. Sent in order per order
    number: by the time it happened, then by when notify recorded it."""

    __tablename__ = "platform_updates"
    __table_args__ = (Index("ix_platform_updates_order", "source", "external_no", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_no: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(60))
    status_code: Mapped[str] = mapped_column(String(40))
    status_name: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Sealed("notify.platform_updates.body"))  # the JSON as posted
