"""Notify's loaders and runtime pieces as Annotated dependencies."""

import threading
from typing import Annotated

from fastapi import Depends, Path, Request

from shared.deps import CurrentUser, Runtime, SessionDep, StaffUser, User
from shared.errors import ApiError
from shared.keys import BlindIndex
from shared.ratelimit import LimiterDep

from .. import access, codes, directory
from ..config import Config, config_of
from ..email_checks import EmailChecks
from ..messages import sender_wakeup
from ..models import Message, Recipient, WebhookSubscription
from ..targets import Resolver, resolver_of
from ..webhooks import Subscriptions, subscriptions_of


def get_config(rt: Runtime) -> Config:
    return config_of(rt)


ConfigDep = Annotated[Config, Depends(get_config)]


def get_sender_wakeup(rt: Runtime) -> threading.Event:
    return sender_wakeup(rt)


SenderWakeup = Annotated[threading.Event, Depends(get_sender_wakeup)]


def get_subscriptions(rt: Runtime) -> Subscriptions:
    return subscriptions_of(rt)


SubscriptionsDep = Annotated[Subscriptions, Depends(get_subscriptions)]


def admin_user(user: CurrentUser) -> User:
    access.require_admin(user)
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def my_recipient(user: CurrentUser, session: SessionDep, cfg: ConfigDep) -> Recipient:
    return directory.recipient_for(session, cfg.rules, user)


Me = Annotated[Recipient, Depends(my_recipient)]


def get_index(rt: Runtime) -> BlindIndex:
    return directory.index_of(rt)


IndexDep = Annotated[BlindIndex, Depends(get_index)]


def get_email_checks(rt: Runtime, cfg: ConfigDep, index: IndexDep, limiter: LimiterDep,
                     wake: SenderWakeup) -> EmailChecks:
    return EmailChecks(cfg, codes.keys_of(rt), index, limiter, wake)


EmailChecksDep = Annotated[EmailChecks, Depends(get_email_checks)]


def get_resolver(rt: Runtime) -> Resolver:
    return resolver_of(rt)


ResolverDep = Annotated[Resolver, Depends(get_resolver)]

# Ids in paths: uuid4 strings, bounded so no input reaches a query unbounded.
MessageId = Annotated[str, Path(min_length=1, max_length=64, description="消息编号 message id")]
HookId = Annotated[str, Path(min_length=1, max_length=64, description="订阅编号 subscription id")]
UnitId = Annotated[str, Path(min_length=1, max_length=36, description="单位编号 unit id")]


def my_inbox_message(message_id: MessageId, user: CurrentUser, session: SessionDep) -> Message:
    return access.inbox_message(session, user, message_id)


MyInboxMessage = Annotated[Message, Depends(my_inbox_message)]


def message_by_id(message_id: MessageId, session: SessionDep) -> Message:
    m = session.get(Message, message_id)
    if m is None:
        raise ApiError(404, "not_found", field="message_id")
    return m


MessageById = Annotated[Message, Depends(message_by_id)]


def webhook_by_id(hook_id: HookId, session: SessionDep) -> WebhookSubscription:
    hook = session.get(WebhookSubscription, hook_id)
    if hook is None:
        raise ApiError(404, "not_found", field="hook_id")
    return hook


WebhookById = Annotated[WebhookSubscription, Depends(webhook_by_id)]


def readable_unit(unit_id: UnitId, user: StaffUser, session: SessionDep) -> str:
    access.check_digest_reader(session, user, unit_id)
    return unit_id


ReadableUnit = Annotated[str, Depends(readable_unit)]


async def raw_body(request: Request) -> bytes:
    """The body as sent: a signature is computed over these bytes, not over parsed JSON."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
