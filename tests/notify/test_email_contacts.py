"""An email becomes a contact only once its owner proves it with the code mailed to it (security
review: anyone could make any address her email contact, so case mail could reach a stranger and
our mail be aimed at a victim). Every mail goes through the real aiosmtpd server on loopback."""

import json
import logging
import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.notify.config import CACHE_KEY, data_dir, load_config
from services.notify.models import EmailCheck, Recipient
from services.notify.service import SPEC
from services.notify.templates import TemplateError
from shared.db import utcnow

from .conftest import auth, deliver, drain, loopback_config, mailed_code, mails_to, messages, set_person
from .payloads import submitted
from .test_sign_in_codes import everything_notify_stores

V1 = "/notify/v1"
ADDRESS = "liu.shufen.test@example.com"
OTHER = "chen.jianguo.test@example.com"


def me(rt, user_id: str = "u-resident-1") -> dict:
    return auth(rt, user_id)


def ask(client, headers: dict, address: str):
    return client.put(f"{V1}/me/contacts", headers=headers, json={"email": address})


def verify(client, headers: dict, code: str):
    return client.post(f"{V1}/me/contacts/email/verify", headers=headers, json={"code": code})


def error(r) -> str:
    return r.json()["error"]["code"]


def trail(rt) -> list[dict]:
    t = SPEC.audit
    with rt.uow() as session:
        return [dict(r._mapping) for r in session.execute(select(t).order_by(t.c.id))]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_unverified_email_receives_the_code_and_nothing_else(rt, client, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"])
    r = ask(client, me(rt), ADDRESS)
    assert r.status_code == 200
    assert (r.json()["email"], r.json()["email_pending"]) == (None, "l***@example.com")
    deliver(rt, submitted(reporter="u-resident-1"))
    drain(sender, now=utcnow())
    [mail] = mails_to(servers, ADDRESS)
    assert mail["Subject"] == "社区通知邮箱验证码"
    body = mail.get_body(("plain",)).get_content()
    assert "2026-11-000001" not in body and "验证码为" in body
    # The case was told in the inbox only: no email channel while the address is unproven.
    assert [m.channel for m in messages(rt, recipient_id="u-resident-1")] == ["inbox"]
    # The code mail's row keeps neither the address nor the code.
    [code_mail] = messages(rt, template="contact.email_code")
    assert (code_mail.status, code_mail.sealed, code_mail.variables) == ("sent", None, "{}")
    assert code_mail.subject_kind == "email_check" and code_mail.subject_id == "u-resident-1"


def test_the_right_code_makes_it_her_email_and_notifications_go_there(rt, client, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"])
    ask(client, me(rt), ADDRESS)
    r = verify(client, me(rt), mailed_code(sender, servers, ADDRESS))
    assert r.status_code == 200
    assert (r.json()["email"], r.json()["email_pending"]) == ("l***@example.com", None)
    assert client.get(f"{V1}/me/contacts", headers=me(rt)).json()["email"] == "l***@example.com"
    with rt.uow() as session:
        assert session.get(Recipient, "u-resident-1").email == ADDRESS
        assert session.get(EmailCheck, "u-resident-1") is None
    deliver(rt, submitted(reporter="u-resident-1"))
    drain(sender)
    assert "2026-11-000001" in mails_to(servers, ADDRESS)[-1].get_body(("plain",)).get_content()
    [m] = messages(rt, recipient_id="u-resident-1", channel="email")
    assert m.status == "sent"


def test_a_new_address_is_used_only_once_proven_the_verified_one_until_then(rt, client, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"], email=ADDRESS)
    r = ask(client, me(rt), OTHER)
    assert (r.json()["email"], r.json()["email_pending"]) == ("l***@example.com", "c***@example.com")
    mailed_code(sender, servers, OTHER)
    deliver(rt, submitted(case_id="c-1", reporter="u-resident-1"))
    drain(sender)
    assert len(mails_to(servers, ADDRESS)) == 1 and len(mails_to(servers, OTHER)) == 1  # the case; the code


def test_five_wrong_codes_burn_it(rt, client, sender, servers):
    ask(client, me(rt), ADDRESS)
    code = mailed_code(sender, servers, ADDRESS)
    answers = [error(verify(client, me(rt), wrong(code))) for _ in range(5)]
    assert answers == ["notify.email_code_wrong"] * 4 + ["notify.email_code_used_up"]
    burnt = verify(client, me(rt), code)
    assert burnt.status_code == 422 and error(burnt) == "notify.email_code_used_up"
    assert "已作废" in burnt.json()["error"]["message"]
    contacts = client.get(f"{V1}/me/contacts", headers=me(rt)).json()
    assert (contacts["email"], contacts["email_pending"]) == (None, "l***@example.com")
    # Asking again mails a new code, which works.
    ask(client, me(rt), ADDRESS)
    assert verify(client, me(rt), mailed_code(sender, servers, ADDRESS)).status_code == 200


def test_an_expired_code_fails(rt, client, sender, servers):
    ask(client, me(rt), ADDRESS)
    code = mailed_code(sender, servers, ADDRESS)
    with rt.uow() as session:
        session.get(EmailCheck, "u-resident-1").expires_at = utcnow() - timedelta(seconds=1)
    r = verify(client, me(rt), code)
    assert (r.status_code, error(r), r.json()["error"]["field"]) == (422, "notify.email_code_expired", "code")
    assert r.json()["error"]["message"] == "邮箱验证码已过期，请重新提交邮箱获取新的验证码"
    english = client.post(f"{V1}/me/contacts/email/verify", headers={**me(rt), "Accept-Language": "en"},
                          json={"code": code})
    assert english.json()["error"]["message"].startswith("The email code has expired")
    with rt.uow() as session:
        assert session.get(Recipient, "u-resident-1").email is None


def test_a_code_mail_that_expires_before_it_can_go_is_not_sent(rt, client, sender, servers):
    ask(client, me(rt), ADDRESS)
    drain(sender, now=utcnow() + timedelta(minutes=16))
    [m] = messages(rt, template="contact.email_code")
    assert (m.status, m.reason, m.sealed, mails_to(servers, ADDRESS)) == (
        "suppressed", "expired before it could be sent", None, [])


def test_another_users_code_cannot_verify_yours(rt, client, sender, servers):
    liu, chen = me(rt, "u-resident-1"), me(rt, "u-resident-2")
    ask(client, liu, ADDRESS)
    hers = mailed_code(sender, servers, ADDRESS)
    r = verify(client, chen, hers)  # nothing pending for him
    assert error(r) == "notify.email_code_missing"
    ask(client, chen, ADDRESS)  # the same address, asked for by him
    his = mailed_code(sender, servers, ADDRESS)
    if his != hers:  # one chance in a million they are the same digits: each is bound to its owner anyway
        assert error(verify(client, chen, hers)) == "notify.email_code_wrong"
    assert verify(client, liu, his if his != hers else wrong(hers)).status_code == 422
    assert verify(client, liu, hers).status_code == 200
    with rt.uow() as session:
        assert session.get(Recipient, "u-resident-2").email is None


def test_removing_the_email_is_immediate(rt, client, sender, servers):
    set_person(rt, "u-resident-1", channels=["email"], email=ADDRESS)
    ask(client, me(rt), OTHER)  # a new one pending, its code mail not sent yet
    r = client.put(f"{V1}/me/contacts", headers=me(rt), json={"email": ""})
    assert r.status_code == 200 and (r.json()["email"], r.json()["email_pending"]) == (None, None)
    with rt.uow() as session:
        assert session.get(Recipient, "u-resident-1").email is None
        assert session.get(EmailCheck, "u-resident-1") is None
    deliver(rt, submitted(reporter="u-resident-1"))
    drain(sender, now=utcnow())
    assert servers["smtp"].handler.messages == []  # neither the withdrawn code nor the case
    [code_mail] = messages(rt, template="contact.email_code")
    assert (code_mail.status, code_mail.reason, code_mail.sealed) == ("suppressed", "code replaced or withdrawn",
                                                                      None)
    assert code_mail.dead_at is None  # withdrawn, not a failure for the dead-letter queue
    assert error(verify(client, me(rt), "123456")) == "notify.email_code_missing"


def test_asking_again_replaces_the_code_and_withdraws_the_unsent_mail(rt, client, sender, servers):
    ask(client, me(rt), OTHER)
    ask(client, me(rt), ADDRESS)
    code = mailed_code(sender, servers, ADDRESS)
    assert mails_to(servers, OTHER) == []
    assert verify(client, me(rt), code).status_code == 200
    with rt.uow() as session:
        assert session.get(Recipient, "u-resident-1").email == ADDRESS


def test_setting_the_verified_email_again_mails_nothing_and_drops_a_pending_one(rt, client, sender, servers):
    set_person(rt, "u-resident-1", email=ADDRESS)
    ask(client, me(rt), OTHER)
    r = ask(client, me(rt), ADDRESS.upper())
    assert (r.json()["email"], r.json()["email_pending"]) == ("l***@example.com", None)
    drain(sender, now=utcnow())
    assert servers["smtp"].handler.messages == []


def test_code_sending_is_rate_limited_per_person_and_per_address_with_retry_after(rt, client):
    for i in range(5):
        assert ask(client, me(rt), f"typo{i}@example.com").status_code == 200
    r = ask(client, me(rt), "typo5@example.com")
    assert r.status_code == 429 and error(r) == "rate.limited" and r.json()["error"]["detail"] == \
        "notify.email_code.user"
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    # One address, however many people ask for it: the mailbox gets 10 codes a day at most.
    for i in range(10):
        assert ask(client, auth(rt, f"u-new-{i}"), "victim@example.com").status_code == 200
    r = ask(client, auth(rt, "u-new-10"), "VICTIM@example.com")
    assert r.status_code == 429 and r.json()["error"]["detail"] == "notify.email_code.address"
    assert int(r.headers["Retry-After"]) > 0
    # Refused: nothing recorded for that person, no code queued.
    with rt.uow() as session:
        assert session.get(EmailCheck, "u-new-10") is None
    assert len(messages(rt, template="contact.email_code")) == 15


def test_tries_are_rate_limited_per_person(rt, client, sender, servers):
    ask(client, me(rt), ADDRESS)
    answers = [verify(client, me(rt), "000000").status_code for _ in range(31)]
    assert answers[:30] == [422] * 30 and answers[30] == 429


def test_nothing_of_the_address_or_code_is_in_the_audit_trail_logs_or_database(rt, client, sender, servers,
                                                                                caplog):
    caplog.set_level(logging.DEBUG)
    set_person(rt, "u-resident-1", channels=["email"])
    assert ask(client, me(rt), ADDRESS).status_code == 200
    code = mailed_code(sender, servers, ADDRESS)
    assert verify(client, me(rt), wrong(code)).status_code == 422
    assert verify(client, me(rt), code).status_code == 200
    deliver(rt, submitted(reporter="u-resident-1"))
    drain(sender)
    entries = {e["action"]: e for e in trail(rt)}
    requested, refused, verified = (entries[f"notify.contacts.{a}"]
                                    for a in ("email_requested", "email_code_refused", "email_verified"))
    assert all(e["subject_id"] == "u-resident-1" and e["actor_id"] == "u-resident-1"
               for e in (requested, refused, verified))
    assert json.loads(refused["detail"]) == {"reason": "wrong", "attempts": 1}
    assert json.loads(verified["detail"]) == {"attempts": 2}
    # The requested entry names the code mail's event, by which an admin finds its delivery.
    [code_mail] = messages(rt, template="contact.email_code")
    assert json.loads(requested["detail"]) == {"event_id": code_mail.event_id}
    everything = json.dumps(trail(rt), default=str)
    # The aiosmtpd test server ("mail.log") logs what it receives: it stands for the mailbox, not for us.
    ours = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if not r.name.startswith("mail"))
    stored = everything_notify_stores(rt)
    assert "u-resident-1" in stored and "u-resident-1" in everything  # the scans see what is there
    for secret in (ADDRESS, "liu.shufen", code):
        assert secret not in everything and secret not in ours and secret not in stored, secret


def test_without_an_email_channel_no_email_can_be_set_but_one_can_be_removed(rt, client, servers):
    rt.cache[CACHE_KEY] = loopback_config(servers, email={"enabled": False})
    app = TestClient(SPEC.app(rt))
    set_person(rt, "u-resident-1", email=ADDRESS)
    r = ask(app, me(rt), OTHER)
    assert (r.status_code, error(r), r.json()["error"]["field"]) == (422, "notify.email_unavailable", "email")
    assert ask(app, me(rt), "").json()["email"] is None


def test_staff_prove_an_email_the_same_way(rt, client, sender, servers):
    worker = auth(rt, "u-grid-worker-001001", "grid_worker", "510107001001001")
    assert ask(client, worker, "zhang.wei.test@example.com").json()["email"] is None
    assert verify(client, worker, mailed_code(sender, servers, "zhang.wei.test@example.com")).status_code == 200
    assert client.get(f"{V1}/me/contacts", headers=worker).json()["email"] == "z***@example.com"


def test_the_code_mail_is_in_her_language(rt, client, sender, servers):
    set_person(rt, "u-resident-1", lang="en")
    ask(client, me(rt), ADDRESS)
    code = mailed_code(sender, servers, ADDRESS)
    [mail] = mails_to(servers, ADDRESS)
    assert mail["Subject"] == "Your email verification code"
    assert f"Your code is {code}, valid for 15 minutes" in mail.get_body(("plain",)).get_content()


def test_an_address_no_mail_can_carry_is_refused(rt, client):
    for bad in ("a b@example.com", "liu@例子.中国", "a@b", "a\x00b@example.com", "a@example.com\r\nBcc: x@y.zz"):
        r = ask(client, me(rt), bad)
        assert r.status_code == 422 and error(r) == "notify.bad_email", bad


def test_roster_emails_are_the_deployments_word(rt, tmp_path):
    """The seed's users.json may give an email (a staff roster): used as given, like its phones."""
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "org.geojson").write_text((rt.settings.demo_dir / "org.geojson").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    (demo / "users.json").write_text(json.dumps([{"id": "u-roster-1", "role": "grid_worker",
                                                  "unit_code": "510107001001001", "phone": "13800000005",
                                                  "email": "roster.test@example.gov.cn"}]), encoding="utf-8")
    with rt.uow() as session:
        session.execute(text("DELETE FROM recipients"))
        session.execute(text("DELETE FROM units"))
    roster = SPEC.runtime(rt.settings.model_copy(update={"demo_dir": demo}))
    try:
        SPEC.seed(roster)
    finally:
        roster.dispose()
    with rt.uow() as session:
        assert session.get(Recipient, "u-roster-1").email == "roster.test@example.gov.cn"


def test_the_migration_keeps_unproven_emails_pending_and_unused(tmp_path, monkeypatch, servers):
    from alembic import command

    from shared.config import get_settings
    from shared.migrate import alembic_config

    monkeypatch.setenv("CG_MODE", "embedded")
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))  # the keys the migration reads: this deployment's
    settings = get_settings()
    url = settings.database_url("notify")
    cfg = alembic_config("notify", url)
    command.upgrade(cfg, "notify_0007")
    rt = SPEC.runtime(settings, url)
    rt.cache[CACHE_KEY] = loopback_config(servers)
    people = {"u-resident-1": ("resident", ADDRESS), "u-grid-worker-001001": ("grid_worker", OTHER),
              "u-resident-2": ("resident", None)}
    try:
        with rt.uow() as session:  # as PUT /me/contacts stored them before: sealed, in use
            for uid, (role, email) in people.items():
                session.add(Recipient(user_id=uid, role=role, email=email, lang="zh", channels='["email"]',
                                      opt_outs="[]", quiet_start="22:00", quiet_end="07:00",
                                      timezone="Asia/Shanghai", sms_daily_limit=10, updated_at=utcnow()))
        command.upgrade(cfg, "head")
        with rt.engine.connect() as conn:
            raw = {r.user_id: r for r in conn.execute(text("SELECT user_id, email FROM recipients"))}
            checks = {r.user_id: r for r in conn.execute(text("SELECT * FROM email_checks"))}
        assert all(r.email is None for r in raw.values())  # none in use: staff's neither
        assert set(checks) == {"u-resident-1", "u-grid-worker-001001"}
        assert all(c.address.startswith("dev1.") and c.code_id is None and c.code_hash is None
                   for c in checks.values())
        with rt.uow() as session:
            assert session.get(EmailCheck, "u-resident-1").address == ADDRESS
        client = TestClient(SPEC.app(rt))
        contacts = client.get(f"{V1}/me/contacts", headers=auth(rt, "u-resident-1")).json()
        assert (contacts["email"], contacts["email_pending"]) == (None, "l***@example.com")
        deliver(rt, submitted(reporter="u-resident-1"))
        assert [m.channel for m in messages(rt, recipient_id="u-resident-1")] == ["inbox"]
        # No code was sent for it: a try finds none; asking again mails one.
        assert error(verify(client, auth(rt, "u-resident-1"), "123456")) == "notify.email_code_missing"
        assert ask(client, auth(rt, "u-resident-1"), ADDRESS).status_code == 200
        command.downgrade(cfg, "notify_0007")  # and back: the addresses where they were
        with rt.uow() as session:
            assert {uid: session.get(Recipient, uid).email for uid in people} == {
                uid: email for uid, (_, email) in people.items()}
    finally:
        rt.dispose()


@pytest.mark.parametrize("change, refusal", [
    (lambda t: t.pop("contact.email_code"), "must have contact.email_code"),
    (lambda t: t["contact.email_code"].pop("email"), "must have contact.email_code"),
    (lambda t: t["contact.email_code"].update(body=["验证码 {code}", "Code {code}"]), "must not carry the code"),
])
def test_a_deployments_templates_without_a_proper_code_mail_stop_start_up(tmp_path, change, refusal):
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)
    raw = json.loads((tmp_path / "templates.json").read_text(encoding="utf-8"))
    change(raw["templates"])
    (tmp_path / "templates.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TemplateError, match=refusal):
        load_config(tmp_path)
