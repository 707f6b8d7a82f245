"""Identity's sign-in codes sent by SMS (identity.code.requested): opened from their seals, sent
through the real Alibaba Cloud loopback server to a number with no recipient entry, urgent, and
never kept readable by notify."""

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from services.identity.service import SPEC as IDENTITY
from services.notify.config import CACHE_KEY
from services.notify.models import Recipient
from services.notify.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.events.identity import CodeRequested
from shared.keys import KeyConfigError, data_keys
from shared.messaging.dispatcher import Outcome
from shared.migrate import upgrade

from .conftest import NIGHT, deliver, events, loopback_config, messages, send_once

PHONE = "13912345678"  # nobody in the demo directory has it


@pytest.fixture
def identity(rt):
    """Identity beside notify, in the same var/ (so with the same development data key)."""
    upgrade("identity", rt.settings.database_url("identity"))
    runtime = IDENTITY.runtime(rt.settings)
    IDENTITY.seed(runtime)
    yield runtime, TestClient(IDENTITY.app(runtime), client=("127.0.0.1", 50000))
    runtime.dispose()


def identity_events(runtime) -> list[bytes]:
    table = IDENTITY.outbox
    with runtime.uow() as session:
        rows = session.execute(select(table.c.body).where(table.c.routing_key == "identity.code.requested.v1")
                               .order_by(table.c.id)).scalars().all()
    return [body.encode() for body in rows]


def code_event(rt, phone: str = "+86" + PHONE, code: str = "493817", expires_in: timedelta = timedelta(minutes=5),
               seal_for: str | None = None) -> CodeRequested:
    """The event as identity writes it: phone and code sealed for this challenge (or another's)."""
    keys, challenge = data_keys(rt.settings), str(uuid.uuid4())
    bound = seal_for or challenge
    now = utcnow()
    return CodeRequested(challenge_id=challenge, purpose="sign_in", phone_sealed=keys.seal(phone, f"sms-phone:{bound}"),
                         code_sealed=keys.seal(code, f"sms-code:{bound}"), expires_at=now + expires_in, at=now)


def everything_notify_stores(rt) -> str:
    """Every value of every table of notify's database, and the raw bytes of its files."""
    values = []
    with rt.uow() as session:
        names = session.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars().all()
        for name in names:
            for row in session.execute(text(f'SELECT * FROM "{name}"')):
                values.extend(str(v) for v in row)
    raw = b"".join(p.read_bytes() for p in rt.settings.var_dir.glob("notify.sqlite*"))
    return "\n".join(values) + raw.decode("latin-1")


def test_a_code_asked_for_at_identity_reaches_that_number_by_sms(rt, sender, servers, identity):
    runtime, client = identity
    assert client.post("/identity/v1/sms-codes", json={"phone": PHONE}).status_code == 202
    [body] = identity_events(runtime)
    assert SPEC.dispatcher(rt).handle(body).outcome is Outcome.ACK
    assert send_once(sender, utcnow()) == 1
    [sent] = servers["sms"].sent
    [dev] = client.get("/identity/v1/dev/sms-codes", params={"phone": PHONE}).json()["codes"]
    assert sent["phone"] == PHONE and sent["params"] == {"code": dev["code"]}
    assert (sent["template"], sent["sign"]) == ("SMS_470900001", "玉林街道")
    # The code the provider delivered signs the resident in at identity.
    signed_in = client.post("/identity/v1/tokens/sms", json={"phone": PHONE, "code": sent["params"]["code"]})
    assert signed_in.status_code == 200


def test_notify_keeps_neither_the_number_nor_the_code_in_clear(rt, sender, servers):
    deliver(rt, code_event(rt))
    [queued] = messages(rt, channel="sms")
    assert queued.sealed and queued.variables == "{}" and "493817" not in queued.body + queued.title
    assert send_once(sender, utcnow()) == 1
    assert servers["sms"].sent[0]["params"] == {"code": "493817"}
    [m] = messages(rt, channel="sms")
    assert (m.status, m.sealed) == ("sent", None)  # nothing left to open once it went
    stored = everything_notify_stores(rt)
    assert "u-resident-1" in stored  # the scan sees what is there
    # Not even a demo resident's own number: recipients' phones are sealed at rest too.
    assert "13800000001" not in stored and PHONE not in stored and "493817" not in stored


def test_a_code_has_no_inbox_message_and_no_recipient_entry(rt, sender, servers):
    with rt.uow() as session:
        people = session.scalar(select(func.count()).select_from(Recipient))
    env, _ = deliver(rt, code_event(rt))
    assert [m.channel for m in messages(rt, event_id=env.id)] == ["sms"]
    send_once(sender, utcnow())
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Recipient)) == people
    [sent] = events(rt, "notify.message.sent")
    assert PHONE not in str(sent) and "493817" not in str(sent)


def test_a_code_goes_out_in_quiet_hours_and_cannot_be_opted_out_of(rt, sender, servers):
    deliver(rt, code_event(rt, expires_in=timedelta(days=3650)))  # valid at the test's night clock
    assert send_once(sender, NIGHT) == 1 and len(servers["sms"].sent) == 1
    [m] = messages(rt, channel="sms")
    assert m.urgent and m.category == "security" and m.status == "sent"


def test_the_event_delivered_twice_sends_one_sms(rt, sender, servers):
    env, _ = deliver(rt, code_event(rt))
    deliver(rt, None, env)
    send_once(sender, utcnow())
    assert len(servers["sms"].sent) == 1


def test_a_provider_failure_keeps_the_code_sealed_for_the_retry_then_clears_it(rt, sender, servers):
    deliver(rt, code_event(rt))
    servers["sms"].http_errors = 1
    now = utcnow()
    send_once(sender, now)
    [m] = messages(rt, channel="sms")
    assert (m.status, m.sealed is not None) == ("queued", True)
    send_once(sender, now + timedelta(seconds=31))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.sealed) == ("sent", None) and len(servers["sms"].sent) == 1


def test_a_code_that_expires_before_it_can_go_is_not_sent(rt, sender, servers):
    deliver(rt, code_event(rt, expires_in=timedelta(seconds=30)))
    send_once(sender, utcnow() + timedelta(minutes=1))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.sealed, servers["sms"].sent) == ("suppressed", None, [])
    assert m.reason == "expired before it could be sent"


def test_a_code_already_expired_on_arrival_is_recorded_not_queued(rt, sender, servers):
    deliver(rt, code_event(rt, expires_in=timedelta(seconds=-1)))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.sealed) == ("suppressed", None)
    assert events(rt, "notify.message.suppressed")


def test_a_seal_made_for_another_challenge_does_not_open(rt, sender, servers):
    _, result = deliver(rt, code_event(rt, seal_for=str(uuid.uuid4())))
    assert result.outcome is Outcome.RETRY and "493817" not in result.reason and PHONE not in result.reason
    assert messages(rt, channel="sms") == []


def test_without_an_sms_provider_the_code_is_recorded_as_not_sent(rt, sender, servers):
    rt.cache[CACHE_KEY] = loopback_config(servers, sms={"enabled": False})
    deliver(rt, code_event(rt))
    [m] = messages(rt, channel="sms")
    assert (m.status, m.reason, m.sealed) == ("suppressed", "sms: no provider configured", None)


def test_services_mode_refuses_to_start_notify_without_a_data_key(tmp_path):
    settings = get_settings(mode="services", var_dir=tmp_path, data_keys=None)
    with pytest.raises(KeyConfigError, match="CG_DATA_KEYS"):
        SPEC.runtime(settings)


def test_the_code_template_is_sms_only_with_the_code_in_the_text_alone(rt):
    catalogue = rt.cache[CACHE_KEY].catalogue
    template = catalogue["auth.code"]
    assert template.wechat is None and "{code}" not in "".join(template.title + template.body)
    text = catalogue.sms("auth.code", {"code": "012345"})[2]
    assert text == "【玉林街道】您的验证码为012345，5分钟内有效，请勿泄露。"
