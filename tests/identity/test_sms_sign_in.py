"""Residents sign in with a one-time SMS code: sent through notify (sealed in the event), 6 digits,
5 minutes, 5 tries, 5 codes per number and 30 per address an hour, used once, never in clear,
and no answer tells whether the number has an account."""

import json
import logging
import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from services.identity import config
from services.identity.models import CodeChallenge, SignInAttempt, User
from services.identity.service import SPEC
from shared.config import get_settings
from shared.db import utcnow
from shared.keys import blind_index, data_keys, new_private_key_pem
from shared.migrate import upgrade

from .conftest import events

NEW = "13912345678"  # nobody has it yet
DEMO = "13800000001"  # u-resident-1


def ask(client, phone: str, **extra):
    return client.post("/identity/v1/sms-codes", json={"phone": phone, **extra})


def sign_in(client, phone: str, code: str):
    return client.post("/identity/v1/tokens/sms", json={"phone": phone, "code": code})


def sent_codes(rt) -> list[tuple[str, str]]:
    """(phone, code) of every code identity asked notify to send, opened as notify opens them."""
    keys = data_keys(rt.settings)
    out = []
    for e in events(rt, "identity.code.requested"):
        d = e["data"]
        out.append((keys.open(d["phone_sealed"], f"sms-phone:{d['challenge_id']}"),
                    keys.open(d["code_sealed"], f"sms-code:{d['challenge_id']}")))
    return out


def code_for(client, rt, phone: str) -> str:
    assert ask(client, phone).status_code == 202
    return sent_codes(rt)[-1][1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def attempts(rt, method: str | None = None) -> list[SignInAttempt]:
    with rt.uow() as session:
        query = select(SignInAttempt).order_by(SignInAttempt.id)
        rows = session.scalars(query.where(SignInAttempt.method == method) if method else query).all()
        session.expunge_all()
        return rows


def test_a_code_is_sent_through_notify_sealed_for_that_number(client, rt):
    response = ask(client, NEW)
    assert response.status_code == 202 and response.json() == {"expires_in": 300, "resend_after": None}
    [event] = events(rt, "identity.code.requested")
    [(phone, code)] = sent_codes(rt)
    assert phone == "+86" + NEW and len(code) == 6 and code.isdigit()
    assert event["data"]["purpose"] == "sign_in" and NEW not in str(event) and code not in str(event)
    # A seal opens only for its own challenge: it cannot be replayed into another one.
    with pytest.raises(Exception):  # noqa: B017  (cryptography's InvalidTag)
        data_keys(rt.settings).open(event["data"]["code_sealed"], "sms-code:another-challenge")


def test_the_first_sign_in_creates_the_resident_and_the_next_finds_them(client, rt):
    first = sign_in(client, NEW, code_for(client, rt, NEW))
    assert first.status_code == 200 and first.json()["role"] == "resident"
    second = sign_in(client, NEW, code_for(client, rt, NEW))
    assert second.status_code == 200 and second.json()["user_id"] == first.json()["user_id"]
    created = [e for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == first.json()["user_id"]]
    assert len(created) == 1 and created[0]["data"]["kind"] == "resident"
    with rt.uow() as session:
        user = session.get(User, first.json()["user_id"])
        assert user.phone_index == blind_index(rt.settings)("+86" + NEW, "phone")
        assert data_keys(rt.settings).open(user.phone_sealed, "phone") == "+86" + NEW
    me = client.get("/identity/v1/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"})
    assert me.json()["phone_verified"] is True


def test_a_demo_resident_signs_in_as_themself(client, rt):
    response = sign_in(client, "+86 138-0000-0001", code_for(client, rt, DEMO))
    assert response.status_code == 200 and response.json()["user_id"] == "u-resident-1"


def test_a_wrong_code_counts_and_five_wrong_kill_the_code(client, rt):
    code = code_for(client, rt, NEW)
    for _ in range(5):
        refused = sign_in(client, NEW, wrong(code))
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.code_invalid"
    with rt.uow() as session:
        assert session.scalar(select(CodeChallenge.attempts)) == 5
    assert sign_in(client, NEW, code).status_code == 401  # dead, even with the right code
    assert ask(client, NEW).status_code == 202  # a new code works again
    assert sign_in(client, NEW, sent_codes(rt)[-1][1]).status_code == 200


def test_the_right_code_on_the_fifth_try_still_works(client, rt):
    code = code_for(client, rt, NEW)
    for _ in range(4):
        sign_in(client, NEW, wrong(code))
    assert sign_in(client, NEW, code).status_code == 200


def test_an_expired_code_is_refused_and_the_try_counted(client, rt):
    code = code_for(client, rt, NEW)
    with rt.uow() as session:
        session.execute(update(CodeChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = sign_in(client, NEW, code)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.code_invalid"
    assert attempts(rt, "sms")[-1].result == "signin.code_invalid"
    with rt.uow() as session:
        assert session.scalar(select(CodeChallenge.attempts)) == 1


def test_a_used_code_is_refused_when_replayed(client, rt):
    code = code_for(client, rt, NEW)
    assert sign_in(client, NEW, code).status_code == 200
    replayed = sign_in(client, NEW, code)
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "signin.code_invalid"


def test_only_the_newest_code_of_the_number_is_checked(client, rt):
    older = code_for(client, rt, NEW)
    newer = code_for(client, rt, NEW)
    if older != newer:
        assert sign_in(client, NEW, older).status_code == 401
    assert sign_in(client, NEW, newer).status_code == 200


def test_a_code_for_one_number_does_not_sign_in_another(client, rt):
    code = code_for(client, rt, NEW)
    assert sign_in(client, DEMO, code).status_code == 401


def test_the_sixth_code_in_an_hour_for_a_number_is_refused(client, rt):
    answers = [ask(client, NEW) for _ in range(5)]
    assert [a.status_code for a in answers] == [202] * 5
    assert answers[3].json()["resend_after"] is None and 3500 < answers[4].json()["resend_after"] <= 3600
    refused = ask(client, NEW)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "signin.code_limit"
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert len(events(rt, "identity.code.requested")) == 5  # nothing sent for the refusal
    # An hour on, the number may have codes again.
    with rt.uow() as session:
        session.execute(update(CodeChallenge).values(created_at=utcnow() - timedelta(minutes=61)))
    assert ask(client, NEW).status_code == 202


def test_one_address_may_ask_for_thirty_codes_an_hour(client, rt):
    for i in range(30):
        assert ask(client, f"1391234{i:04d}").status_code == 202
    refused = ask(client, "13698765432")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "signin.code_limit"
    assert int(refused.headers["Retry-After"]) > 0
    with rt.uow() as session:
        ip_index = blind_index(rt.settings)("testclient", "ip")
        assert set(session.scalars(select(CodeChallenge.ip_index))) == {ip_index}


@pytest.mark.parametrize("phone", ["12345", "028-85551234", "not a phone", "+86 199"])
def test_a_number_that_is_not_a_mobile_one_is_refused_and_nothing_sent(client, rt, phone):
    for response in (ask(client, phone), sign_in(client, phone, "123456")):
        assert response.status_code == 422 and response.json()["error"]["code"] == "signin.bad_phone"
    assert events(rt, "identity.code.requested") == []
    assert [a.result for a in attempts(rt)] == ["signin.bad_phone"] * 2


@pytest.mark.parametrize("phone", ["+44 7400 123456", "+1 201-555-0123", "+85251234567", "+82 10-1234-5678"])
def test_codes_go_to_mainland_china_mobile_numbers_only(client, rt, phone):
    """No SMS to numbers abroad (SMS pumping: someone has us pay for texts to premium numbers)."""
    for response in (ask(client, phone), sign_in(client, phone, "123456")):
        assert response.status_code == 422 and response.json()["error"]["code"] == "signin.bad_phone"
        assert response.json()["error"]["field"] == "phone"
    assert events(rt, "identity.code.requested") == []
    assert [a.result for a in attempts(rt)] == ["signin.bad_phone"] * 2


@pytest.fixture
def regions(tmp_path, monkeypatch):
    """identity.json copied with sms_code.regions set, pointed at by CG_IDENTITY_DATA_DIR."""

    def configure(allowed: list[str]) -> None:
        data = tmp_path / "identity-data"
        shutil.copytree(config.DATA, data, dirs_exist_ok=True)
        raw = json.loads((data / "identity.json").read_text(encoding="utf-8"))
        raw["sms_code"]["regions"] = allowed
        (data / "identity.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
        monkeypatch.setenv("CG_IDENTITY_DATA_DIR", str(data))
        config.get.cache_clear()

    yield configure
    config.get.cache_clear()  # the next test reads the shipped configuration again


def test_the_regions_codes_go_to_are_configured(client, rt, regions):
    assert config.get().sms_code.regions == ["CN"]  # shipped: mainland China only
    regions(["CN", "HK", "MO"])
    assert ask(client, "+852 5123 4567").status_code == 202
    assert ask(client, "+853 6612 3456").status_code == 202
    assert ask(client, NEW).status_code == 202
    refused = ask(client, "+44 7400 123456")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "signin.bad_phone"
    assert [p for p, _ in sent_codes(rt)] == ["+85251234567", "+85366123456", "+86" + NEW]


def test_a_region_that_does_not_exist_stops_start_up():
    with pytest.raises(ValueError, match="regions"):
        config.SmsCodePolicy(digits=6, ttl_seconds=300, max_attempts=5, per_phone_per_hour=5, per_ip_per_hour=30,
                             regions=["CN", "XX"])
    with pytest.raises(ValueError):
        config.SmsCodePolicy(digits=6, ttl_seconds=300, max_attempts=5, per_phone_per_hour=5, per_ip_per_hour=30,
                             regions=[])


def test_no_answer_tells_whether_the_number_has_an_account(client, rt):
    known, unknown = ask(client, DEMO), ask(client, NEW)
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    known, unknown = sign_in(client, DEMO, "000000"), sign_in(client, NEW, "000000")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    # And a number that never had a code answers the same as one whose code was wrong.
    never = sign_in(client, "13711112222", "000000")
    assert (never.status_code, never.json()) == (unknown.status_code, unknown.json())


def test_every_attempt_is_audited_without_the_code(client, rt, caplog):
    caplog.set_level(logging.DEBUG)
    code = code_for(client, rt, NEW)
    sign_in(client, NEW, wrong(code))
    ok = sign_in(client, NEW, code)
    rows = attempts(rt)
    assert [(a.method, a.result) for a in rows] == [("sms_code", "ok"), ("sms", "signin.code_invalid"),
                                                    ("sms", "ok")]
    phone_index = blind_index(rt.settings)("+86" + NEW, "phone")
    assert {a.identifier_index for a in rows} == {phone_index}
    assert rows[-1].user_id == ok.json()["user_id"] and rows[-1].ip == "testclient"
    for row in rows:
        assert code not in str([getattr(row, c.key) for c in SignInAttempt.__table__.columns])
    assert code not in caplog.text and NEW not in caplog.text
    with rt.uow() as session:
        challenge = session.scalar(select(CodeChallenge))
        assert code not in challenge.code_hash and challenge.consumed_at is not None


def test_a_disabled_resident_cannot_sign_in_with_a_right_code(client, rt):
    with rt.uow() as session:
        session.execute(update(User).where(User.id == "u-resident-1").values(active=False))
    refused = sign_in(client, DEMO, code_for(client, rt, DEMO))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "signin.failed"
    assert attempts(rt, "sms")[-1].result == "signin.failed"


# --------------------------------------------------------------------------- the development inbox


INBOX = "/identity/v1/dev/sms-codes"


def on_this_machine(client, host: str = "127.0.0.1") -> TestClient:
    """The same app asked from a loopback address (TestClient's own client is "testclient")."""
    return TestClient(client.app, client=(host, 50123))


def test_embedded_mode_shows_the_codes_in_the_development_inbox(client, rt):
    code = code_for(client, rt, NEW)
    client = on_this_machine(client)  # the inbox answers this machine only
    inbox = client.get("/identity/v1/dev/sms-codes", params={"phone": NEW})
    assert inbox.status_code == 200 and "开发用" in inbox.json()["development_only"]
    [entry] = inbox.json()["codes"]
    assert (entry["code"], entry["status"], entry["purpose"]) == (code, "active", "sign_in")
    sign_in(client, NEW, code)
    assert client.get("/identity/v1/dev/sms-codes", params={"phone": NEW}).json()["codes"][0]["status"] == "used"
    assert client.get("/identity/v1/dev/sms-codes", params={"phone": DEMO}).json()["codes"] == []
    summary = client.get("/identity/openapi.json").json()["paths"]["/identity/v1/dev/sms-codes"]["get"]["summary"]
    assert "开发用" in summary and "DEVELOPMENT ONLY" in summary


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_the_development_inbox_answers_a_loopback_address(client, rt, host):
    code = code_for(client, rt, NEW)
    inbox = on_this_machine(client, host).get(INBOX, params={"phone": NEW})
    assert inbox.status_code == 200 and inbox.json()["codes"][0]["code"] == code


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.20", "203.0.113.7", "fe80::1", "testclient"])
def test_the_development_inbox_answers_no_one_on_the_network(client, rt, host):
    """An embedded install reachable from a network never shows anyone residents' live codes."""
    code = code_for(client, rt, NEW)
    remote = TestClient(client.app, client=(host, 123))
    refused = remote.get(INBOX, params={"phone": NEW})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "dev.disabled"
    assert code not in refused.text


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "203.0.113.7"}, {"X-Real-IP": "203.0.113.7"},
                                    {"Forwarded": "for=203.0.113.7"}])
def test_the_development_inbox_answers_no_request_relayed_by_a_proxy(client, rt, header):
    """A proxy on this machine relays from loopback: the client is elsewhere all the same."""
    assert ask(client, NEW).status_code == 202
    refused = on_this_machine(client).get(INBOX, params={"phone": NEW}, headers=header)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "dev.disabled"


def test_embedded_mode_with_a_real_sms_provider_has_no_inbox(client, rt, monkeypatch):
    monkeypatch.setenv("CG_NOTIFY_SMS_KEY_ID", "LTAI-real-key")
    ask(client, NEW)
    client = on_this_machine(client)  # refused for the provider, not for where the request comes from
    refused = client.get("/identity/v1/dev/sms-codes", params={"phone": NEW})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "dev.disabled"
    with rt.uow() as session:
        assert session.scalar(select(CodeChallenge.dev_code_sealed)) is None


@pytest.fixture
def services_client(tmp_path):
    """Identity configured as a deployment is (services mode, its own keys), on SQLite."""
    pem = tmp_path / "signing.pem"
    pem.write_text(new_private_key_pem(development=False))
    pem.chmod(0o600)  # a key file others may read stops start-up
    settings = get_settings(mode="services", var_dir=tmp_path, signing_keys=str(pem),
                            data_keys="k1:" + "A" * 43 + "=", index_key="B" * 43 + "=")
    url = f"sqlite:///{tmp_path / 'identity-services.sqlite'}"
    upgrade("identity", url)
    runtime = SPEC.runtime(settings, url)
    yield runtime, TestClient(SPEC.app(runtime))
    runtime.dispose()


def test_services_mode_has_no_development_inbox(services_client):
    runtime, client = services_client
    assert ask(client, NEW).status_code == 202
    client = on_this_machine(client)  # refused for the mode, not for where the request comes from
    refused = client.get("/identity/v1/dev/sms-codes", params={"phone": NEW})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "dev.disabled"
    with runtime.uow() as session:
        [challenge] = session.scalars(select(CodeChallenge)).all()
        assert challenge.dev_code_sealed is None


def test_a_sign_in_code_is_sent_even_when_the_app_sends_a_stale_token(client, rt):
    stale = {"Authorization": "Bearer not-a-token-any-more"}
    assert client.post("/identity/v1/sms-codes", json={"phone": NEW}, headers=stale).status_code == 202
    linking = client.post("/identity/v1/sms-codes", json={"phone": NEW, "purpose": "link_phone"}, headers=stale)
    assert linking.status_code == 401 and linking.json()["error"]["code"] == "auth.invalid_token"
