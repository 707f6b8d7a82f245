"""Notify on a fresh SQLite database, migrated and seeded, with every channel pointed at a real
server on loopback."""

import json
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.notify.config import CACHE_KEY, load_config
from services.notify.models import Message, Recipient
from services.notify.sender import Sender
from services.notify.service import SPEC
from services.notify.targets import RESOLVER_KEY
from shared.auth import issue_token
from shared.config import get_settings
from shared.events import envelope_for
from shared.migrate import upgrade

from .servers import AliyunSmsServer, PushServer, SmtpServer, WebhookReceiver, WechatServer

# The sender is driven with explicit clocks later than anything queued now (queued rows are due
# from the real "now"). 10:00 in Chengdu: outside the default quiet hours; 23:30: inside them.
DAYTIME = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)
NIGHT = datetime(2030, 1, 2, 15, 30, tzinfo=UTC)


@pytest.fixture
def servers():
    with AliyunSmsServer() as sms, WechatServer() as wechat, PushServer() as push, SmtpServer() as smtp, \
            WebhookReceiver() as hook:
        yield {"sms": sms, "wechat": wechat, "push": push, "smtp": smtp, "webhook": hook}


def loopback_config(servers, **extra):
    overrides = {
        "sms": {"enabled": True, "endpoint": servers["sms"].url + "/", "access_key_id": "test-key",
                "access_key_secret": "test-secret", "callback_token": "sms-callback-token"},
        "wechat": {"enabled": True, "endpoint": servers["wechat"].url, "appid": "wx-app", "secret": "wx-secret",
                   "callback_token": "wx-callback-token"},
        "push": {"enabled": True, "endpoint": servers["push"].url, "api_key": "push-key",
                 "callback_secret": "push-callback-secret"},
        "email": {"enabled": True, "host": "127.0.0.1", "port": servers["smtp"].port},
        # The receiver speaks plain HTTP on loopback: both test-only settings, and its address listed
        # explicitly (an empty allow-list allows no host).
        "webhook": {"enabled": True, "timeout_seconds": 5, "allow_http": True, "allow_private_addresses": True,
                    "allowed_hosts": ["127.0.0.1"]},
        "policy": {"retry_delays_seconds": [30, 120, 600], "workers": 4, "http_timeout_seconds": 5},
    }
    for key, value in extra.items():
        overrides.setdefault(key, {}).update(value)
    return load_config(overrides=overrides)


def no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"the tests resolve no names ({host})")


@pytest.fixture
def rt(tmp_path, servers):
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    upgrade("notify", settings.database_url("notify"))
    runtime = SPEC.runtime(settings)
    runtime.cache[CACHE_KEY] = loopback_config(servers)
    runtime.cache[RESOLVER_KEY] = no_dns  # no test asks a real DNS server; those that need names bring their own
    SPEC.seed(runtime)
    yield runtime
    runtime.dispose()


@pytest.fixture
def sender(rt):
    s = Sender(rt)
    yield s
    s.close()


@pytest.fixture
def client(rt):
    return TestClient(SPEC.app(rt))


def auth(rt, user_id: str, role: str = "resident", unit_code: str | None = None, phone: str | None = None) -> dict:
    """A token's header; `phone`: the phone the resident verified at identity (its blind index in the token)."""
    return {"Authorization": f"Bearer {issue_token(rt.settings, user_id, role, unit_code, phone=phone)}"}


def deliver(rt, payload, envelope=None):
    """Hand one event to notify's consumer as the broker would; returns (envelope, result)."""
    env = envelope or envelope_for(payload)
    result = SPEC.dispatcher(rt).handle(env.model_dump_json().encode())
    return env, result


def set_person(rt, user_id: str, **fields):
    with rt.uow() as session:
        who = session.get(Recipient, user_id)
        for key, value in fields.items():
            setattr(who, key, json.dumps(value) if key in ("channels", "opt_outs") else value)


def messages(rt, **where) -> list[Message]:
    with rt.uow() as session:
        query = select(Message).order_by(Message.created_at, Message.channel)
        for key, value in where.items():
            query = query.where(getattr(Message, key) == value)
        rows = session.scalars(query).all()
        session.expunge_all()
        return rows


def events(rt, event_type: str | None = None) -> list[dict]:
    table = SPEC.outbox
    with rt.uow() as session:
        rows = session.execute(select(table.c.body).order_by(table.c.id)).scalars().all()
    envs = [json.loads(b) for b in rows]
    return [e for e in envs if event_type is None or e["type"] == event_type]


def send_once(sender, now=None) -> int:
    """One batch as the sender's loop handles it (claim, deliver, record), at an explicit clock.
    Returns how many messages were claimed."""
    now = now or datetime.now(UTC)
    claimed = sender.claim(now)
    if claimed:
        sender.record(claimed, sender.deliver(claimed), now)
    return len(claimed)


def drain(sender, now=DAYTIME, rounds: int = 10) -> None:
    for _ in range(rounds):
        if send_once(sender, now) == 0:
            return


def mails_to(servers, address: str) -> list[EmailMessage]:
    """The mails the loopback SMTP server received for `address`, oldest first, parsed."""
    return [message_from_bytes(e.content, policy=policy.default) for e in servers["smtp"].handler.messages
            if address in e.rcpt_tos]


def mailed_code(sender, servers, address: str) -> str:
    """Send what is due now (a code mail is urgent and valid 15 minutes) and read the code of the
    newest mail to `address`, as its owner would."""
    send_once(sender, datetime.now(UTC))
    text = mails_to(servers, address)[-1].get_body(("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", text).group(1)
