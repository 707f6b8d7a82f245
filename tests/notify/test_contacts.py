"""A resident's SMS contact is the phone she verified at identity, nothing else (issue 11); staff
phones come from the roster. Contact details are sealed at rest, and an SMS delivery report naming
only the number finds its message through the number's blind index. (An email is used once proven:
test_email_contacts.py.)"""

from sqlalchemy import text

from services.notify.directory import index_of, phone_index
from services.notify.models import Recipient

from .conftest import DAYTIME, auth, deliver, drain, mailed_code, messages, send_once
from .payloads import submitted

VERIFIED = "13912345678"
EMAIL = "zhao.xiaoyu.test@example.com"


def test_a_resident_sets_the_phone_she_verified_at_identity(rt, client, sender, servers):
    me = auth(rt, "u-resident-3", phone=VERIFIED)
    r = client.put("/notify/v1/me/contacts", headers=me, json={"phone": VERIFIED})
    assert r.status_code == 200 and r.json()["phone"] == "139****5678"
    with rt.uow() as session:
        who = session.get(Recipient, "u-resident-3")
        assert who.phone == VERIFIED and who.phone_index == phone_index(index_of(rt), VERIFIED)
    deliver(rt, submitted(reporter="u-resident-3"))
    drain(sender)
    assert [s["phone"] for s in servers["sms"].sent] == [VERIFIED]


def test_a_phone_she_did_not_verify_is_refused_with_what_to_do_and_nothing_changes(rt, client):
    for headers in (auth(rt, "u-resident-1", phone="13800000001"), auth(rt, "u-resident-1")):
        r = client.put("/notify/v1/me/contacts", headers=headers, json={"phone": VERIFIED, "email": EMAIL})
        assert r.status_code == 422
        error = r.json()["error"]
        assert (error["code"], error["field"]) == ("notify.phone_not_verified", "phone")
        assert "请先" in error["message"] and "POST /identity/v1/me/phone" in error["message"]
    english = client.put("/notify/v1/me/contacts", headers={**auth(rt, "u-resident-1"), "Accept-Language": "en"},
                         json={"phone": VERIFIED})
    assert english.json()["error"]["message"].startswith("This phone is not the one you verified")
    assert client.get("/notify/v1/me/contacts", headers=auth(rt, "u-resident-1")).json() == {
        "phone": "138****0001", "email": None, "email_pending": None, "wechat_bound": False, "push_bound": False}


def test_a_resident_may_always_remove_her_phone(rt, client):
    r = client.put("/notify/v1/me/contacts", headers=auth(rt, "u-resident-1"), json={"phone": ""})
    assert r.status_code == 200 and r.json()["phone"] is None
    with rt.uow() as session:
        who = session.get(Recipient, "u-resident-1")
        assert (who.phone, who.phone_index) == (None, None)


def test_staff_phones_come_from_the_roster_not_from_this_endpoint(rt, client):
    worker = auth(rt, "u-grid-worker-001001", "grid_worker", "510107001001001")
    for phone in (VERIFIED, "13800000005", ""):
        r = client.put("/notify/v1/me/contacts", headers=worker, json={"phone": phone})
        assert r.status_code == 403 and r.json()["error"]["code"] == "notify.phone_from_directory"
    assert client.put("/notify/v1/me/contacts", headers=worker, json={"email": EMAIL}).status_code == 200
    assert client.get("/notify/v1/me/contacts", headers=worker).json()["phone"] == "138****0005"


def test_the_database_file_shows_no_phone_and_no_email(rt, client, sender, servers):
    me = auth(rt, "u-resident-3", phone=VERIFIED)
    client.put("/notify/v1/me/contacts", headers=me, json={"phone": VERIFIED, "email": EMAIL})
    code = mailed_code(sender, servers, EMAIL)
    assert client.post("/notify/v1/me/contacts/email/verify", headers=me, json={"code": code}).status_code == 200
    deliver(rt, submitted(reporter="u-resident-3"))
    drain(sender)
    with rt.uow() as session:
        stored = session.execute(text("SELECT phone, email, phone_index FROM recipients "
                                      "WHERE user_id = 'u-resident-3'")).one()
        assert stored.phone.startswith("dev1.") and stored.email.startswith("dev1.")  # key id . ciphertext
        assert len(stored.phone_index) == 64
    raw = b"".join(p.read_bytes() for p in rt.settings.var_dir.glob("notify.sqlite*"))  # the file and its WAL
    assert b"u-resident-3" in raw  # the scan reads what is there
    for secret in (VERIFIED, EMAIL, code, "13800000001", "13800000005", "+8613912345678"):
        assert secret.encode() not in raw, secret


def test_a_report_of_a_batch_send_finds_its_message_by_the_numbers_blind_index(rt, client, sender, servers):
    deliver(rt, submitted(case_id="c-1", reporter="u-resident-1"))
    deliver(rt, submitted(case_id="c-2", reporter="u-resident-2"))
    assert send_once(sender, DAYTIME) == 2
    assert servers["sms"].calls == 1  # one SendBatchSms: one BizId, no OutId
    [biz_id] = {s["biz_id"] for s in servers["sms"].sent}
    reports = [{"phone_number": "13800000002", "success": False, "biz_id": biz_id, "err_code": "MK:0001"},
               {"phone_number": "13800000009", "success": False, "biz_id": biz_id, "err_code": "MK:0001"},
               {"phone_number": "not a number", "success": True, "biz_id": biz_id}]
    r = client.post("/notify/v1/callbacks/sms/aliyun", params={"token": "sms-callback-token"}, json=reports)
    assert r.status_code == 200
    states = {m.recipient_id: (m.status, m.reason) for m in messages(rt, channel="sms")}
    assert states == {"u-resident-1": ("sent", None), "u-resident-2": ("failed", "sms report: MK:0001")}


def test_the_migration_seals_the_contacts_stored_before_it_and_indexes_their_phones(tmp_path, monkeypatch):
    from alembic import command

    from services.notify.service import SPEC
    from shared.config import get_settings
    from shared.keys import blind_index
    from shared.migrate import alembic_config

    monkeypatch.setenv("CG_MODE", "embedded")
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))  # the keys the migration reads: this deployment's
    settings = get_settings()
    url = settings.database_url("notify")
    cfg = alembic_config("notify", url)
    command.upgrade(cfg, "notify_0005")
    people = {"u-a": ("13900000001", "a.test@example.com"), "u-b": ("02887654321", None), "u-c": (None, None)}
    rt = SPEC.runtime(settings, url)
    try:
        with rt.engine.begin() as conn:
            for uid, (phone, email) in people.items():
                conn.execute(text(
                    "INSERT INTO recipients (user_id, role, phone, email, lang, channels, opt_outs, quiet_start, "
                    "quiet_end, timezone, sms_daily_limit, updated_at) VALUES (:u, 'resident', :p, :e, 'zh', "
                    "'[\"sms\"]', '[]', '22:00', '07:00', 'Asia/Shanghai', 10, '2026-11-30 00:00:00')"),
                    {"u": uid, "p": phone, "e": email})
        command.upgrade(cfg, "notify_0007")  # (notify_0008 then moves unproven emails to pending)
        with rt.engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, phone, email, phone_index FROM recipients"))
            raw = {r.user_id: r for r in rows}
        assert raw["u-a"].phone.startswith("dev1.") and raw["u-a"].email.startswith("dev1.")
        assert raw["u-a"].phone_index == blind_index(settings)("+8613900000001", "phone")
        assert raw["u-b"].phone.startswith("dev1.") and raw["u-b"].phone_index is None  # a landline gets no SMS
        assert (raw["u-c"].phone, raw["u-c"].phone_index) == (None, None)
        with rt.uow() as session:
            assert {uid: (session.get(Recipient, uid).phone, session.get(Recipient, uid).email)
                    for uid in people} == people
        command.downgrade(cfg, "notify_0005")  # and back: plain again
        with rt.engine.connect() as conn:
            plain = {r.user_id: (r.phone, r.email) for r in conn.execute(text("SELECT user_id, phone, email "
                                                                               "FROM recipients"))}
        assert plain == people
    finally:
        rt.dispose()
