"""Personal data: sealed at rest (the raw database file shows none of it), sealed by the migration for
records kept before, and anonymised when a dispute has been closed longer than the retention period."""

import json
import threading
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import func, select, text

from services.mediation import clocks, config, retention
from services.mediation.models import Dispute, IdempotencyKey, Participant, Party, audit
from services.mediation.parties import phone_indexer
from services.mediation.service import SPEC
from shared.config import get_settings
from shared.db import make_engine
from shared.migrate import alembic_config

from .conftest import auth
from .helpers import CHAIR, MEDIATOR, RESIDENT, RESIDENT_2, accepted, respondent_of, verify_in_person

BASE = "/mediation/v1/disputes"
# Distinctive values, so that finding one in a file can only mean it was stored readable.
NAME, PHONE, ID_NUMBER, ADDRESS = "欧阳翠花", "13712345678", "11010519491231002X", "紫荆花园7栋1单元1701"
REP_NAME, REP_PHONE = "司马长风", "13698765432"
INVITEE = "诸葛明亮"
INVITEES = [{"name": INVITEE, "role_code": "relative"}]


def _apply_with_distinctive_parties(client, rt) -> dict:
    body = {"dispute_type": "neighbour", "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。", "lat": 30.6283,
            "lon": 104.052115, "coord_system": "wgs84", "requested_mediator_id": MEDIATOR,
            "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13800000001"},
                        {"role": "respondent", "name": NAME, "phone": PHONE, "id_number": ID_NUMBER,
                         "address": ADDRESS, "representative_name": REP_NAME, "representative_phone": REP_PHONE}]}
    r = client.post(BASE, json=body, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_raw_database_file_shows_no_partys_personal_data(client, rt):
    d = _apply_with_distinctive_parties(client, rt)
    chair = auth(rt, CHAIR)
    respondent = respondent_of(d)
    verify_in_person(client, rt, d, respondent, chair)
    client.post(f"{BASE}/{d['id']}/consent", json={"consent": True}, params={"party_id": respondent["id"]},
                headers=chair)
    assert client.post(f"{BASE}/{d['id']}/accept", headers=chair).status_code == 200
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = client.post(f"{BASE}/{d['id']}/sessions", headers=auth(rt, MEDIATOR),
                    json={"starts_at": when, "place": "社区调解室", "invitees": INVITEES})
    assert r.status_code == 201, r.text
    # The mediator reads everything in full: sealed is not lost.
    full = respondent_of(client.get(f"{BASE}/{d['id']}", headers=auth(rt, MEDIATOR)).json())
    assert (full["name"], full["phone"], full["id_number"], full["address"], full["representative_phone"]) == (
        NAME, PHONE, ID_NUMBER, ADDRESS, REP_PHONE)
    db = rt.settings.database_url("mediation").removeprefix("sqlite:///")
    raw = b""
    for suffix in ("", "-wal"):  # the WAL holds what is not yet checkpointed
        try:
            with open(db + suffix, "rb") as f:
                raw += f.read()
        except FileNotFoundError:
            pass
    assert raw
    for value in (NAME, PHONE, ID_NUMBER, ADDRESS, REP_NAME, REP_PHONE, INVITEE, "刘淑芬", "13800000001"):
        assert value.encode() not in raw, value
    with rt.uow() as s:  # what is stored: a key id and ciphertext, and a keyed hash beside the phone
        stored = s.execute(text("SELECT phone, phone_index FROM parties WHERE id = :i"),
                           {"i": respondent["id"]}).one()
    assert stored.phone.startswith("dev1.") and PHONE not in stored.phone
    assert stored.phone_index == phone_indexer(rt.settings)(PHONE) and PHONE not in stored.phone_index


def test_the_migration_seals_what_was_stored_and_moves_the_read_log_into_the_audit_trail(tmp_path, monkeypatch):
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))  # the migration reads the deployment's keys as the service does
    settings = get_settings(mode="embedded", var_dir=tmp_path)
    url = settings.database_url("mediation")
    command.upgrade(alembic_config("mediation", url), "mediation_0005")
    rt = SPEC.runtime(settings)
    SPEC.seed(rt)
    engine = make_engine(url)
    at = "2026-03-02 09:00:00.000000"
    with engine.begin() as conn:
        committee = conn.execute(text("SELECT id FROM committees ORDER BY code LIMIT 1")).scalar()
        for n, source, created_by in [(1, "application", "u-resident-1"), (2, "intake", "u-operator-1")]:
            conn.execute(text(
                "INSERT INTO disputes (id, dispute_no, source, dispute_type, status, committee_id, matter, "
                "people_involved, privacy, risk_level, created_by, applied_at, routes, seq, updated_at) VALUES "
                "(:id, :no, :source, 'neighbour', 'applied', :c, '噪声', 2, 'private', '低', :by, :at, '[]', 1, :at)"),
                {"id": f"d{n}", "no": f"TJ-OLD-{n}", "source": source, "c": committee, "by": created_by, "at": at})
        parties = [("p1", "d1", "applicant", "u-resident-1", "刘淑芬", "13800000001"),
                   ("p2", "d1", "respondent", "u-resident-2", NAME, PHONE),  # named by account id: never verified
                   ("p3", "d2", "applicant", "u-resident-3", "张三", None),
                   ("p4", "d2", "respondent", None, "李四", "028-85551234")]
        for pid, did, role, user, name, phone in parties:
            conn.execute(text(
                "INSERT INTO parties (id, dispute_id, role, user_id, name, phone, id_number, address, consent) "
                "VALUES (:p, :d, :r, :u, :n, :ph, :idn, :a, 'pending')"),
                {"p": pid, "d": did, "r": role, "u": user, "n": name, "ph": phone,
                 "idn": ID_NUMBER if pid == "p2" else None, "a": ADDRESS if pid == "p2" else None})
        conn.execute(text("INSERT INTO objections (dispute_id, party_id, mediator_id, at) "
                          "VALUES ('d1', 'p2', 'u-med-wulao-001', :at)"), {"at": at})
        conn.execute(text("INSERT INTO sessions (id, dispute_id, kind, starts_at, privacy, status) "
                          "VALUES ('s1', 'd1', 'ordinary', :at, 'private', 'scheduled')"), {"at": at})
        conn.execute(text("INSERT INTO session_participants (session_id, kind, party_id, name) "
                          "VALUES ('s1', 'party', 'p2', :n)"), {"n": NAME})
        for user, role, dispute, action, allowed, cap in [
                ("u-resident-1", "resident", "d1", "read.dispute", True, "party"),
                ("u-resident-3", "resident", "d1", "read.dispute", False, None),
                ("u-resident-1", "resident", None, "list:2", True, None)]:
            conn.execute(text("INSERT INTO audit_log (at, user_id, role, dispute_id, action, allowed, capacity) "
                              "VALUES (:at, :u, :r, :d, :a, :al, :c)"),
                         {"at": at, "u": user, "r": role, "d": dispute, "a": action, "al": allowed, "c": cap})
    command.upgrade(alembic_config("mediation", url), "head")
    with engine.connect() as conn:
        raw = {r.id: r for r in conn.execute(text("SELECT * FROM parties"))}
        assert not conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'audit_log'")).first()
        participant = conn.execute(text("SELECT name FROM session_participants")).scalar()
    assert NAME not in raw["p2"].name and PHONE not in raw["p2"].phone and ID_NUMBER not in raw["p2"].id_number
    assert NAME not in participant
    with rt.uow() as s:
        got = {p.id: p for p in s.scalars(select(Party))}
        assert (got["p2"].name, got["p2"].phone, got["p2"].id_number, got["p2"].address) == (
            NAME, PHONE, ID_NUMBER, ADDRESS)
        assert s.scalar(select(Participant.name)) == NAME
        entries = s.execute(select(audit).order_by(audit.c.id)).all()
    index = phone_indexer(settings)
    assert got["p2"].phone_index == index(PHONE) and got["p4"].phone_index is None  # a landline: never verified
    assert (got["p1"].user_id, got["p1"].verification_method) == ("u-resident-1", "account")
    assert (got["p3"].user_id, got["p3"].verification_method) == ("u-resident-3", "intake")
    assert got["p2"].user_id is None  # the forged link is gone: she links again by her verified phone
    moved = [(e.actor_id, e.action, e.subject_id, json.loads(e.detail)) for e in entries]
    assert moved == [("u-resident-1", "read.dispute", "d1", {"allowed": True, "capacity": "party"}),
                     ("u-resident-3", "read.dispute", "d1", {"allowed": False, "capacity": None}),
                     ("u-resident-1", "read.disputes", None, {"allowed": True, "count": 2})]
    engine.dispose()
    rt.dispose()


def _close_long_ago(rt, dispute_id: str, days: int) -> None:
    with rt.uow() as s:
        s.get(Dispute, dispute_id).closed_at = datetime.now(UTC) - timedelta(days=days)


def test_personal_data_of_disputes_closed_longer_than_the_retention_period_is_anonymised(client, rt):
    old = accepted(client, rt, requested_mediator_id=MEDIATOR, respondent_user=RESIDENT_2)
    mediator = auth(rt, MEDIATOR)
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    client.post(f"{BASE}/{old['id']}/sessions", headers=mediator,
                json={"starts_at": when, "place": "社区调解室", "invitees": INVITEES})
    client.post(f"{BASE}/{old['id']}/terminate", json={"reason": "对方电话13900001111始终不接"}, headers=mediator)
    recent = accepted(client, rt, requested_mediator_id=MEDIATOR)
    client.post(f"{BASE}/{recent['id']}/terminate", json={"reason": "双方分歧过大"}, headers=mediator)
    still_open = accepted(client, rt, requested_mediator_id=MEDIATOR)
    _close_long_ago(rt, old["id"], 3 * 365 + 1)
    _close_long_ago(rt, recent["id"], 3 * 365 - 30)
    with rt.uow() as s:  # an open dispute is never anonymised, however old
        s.get(Dispute, still_open["id"]).applied_at = datetime.now(UTC) - timedelta(days=4000)

    assert retention.anonymise(rt) == 1
    assert retention.anonymise(rt) == 0  # once
    view = client.get(f"{BASE}/{old['id']}", headers=mediator).json()
    assert view["status"] == "failed" and view["matter"]  # the record stays
    for p in view["parties"]:
        assert p["name"] == "（已匿名）" and p["phone"] is None and p["address"] is None
    assert view["close_reason"] == "对方电话139****1111始终不接"
    sessions = client.get(f"{BASE}/{old['id']}/sessions", headers=mediator).json()
    names = {p["name"] for p in sessions[0]["participants"]}
    assert INVITEE not in names and "梁德明" in names  # the mediator is staff, not a private person
    # Her phone finds nothing any more: she no longer links to it (she stays the party she was).
    with rt.uow() as s:
        assert s.scalars(select(Party.phone_index).where(Party.dispute_id == old["id"])).all() == [None, None]
    assert respondent_of(client.get(f"{BASE}/{recent['id']}", headers=mediator).json())["name"] == "王建华"
    assert respondent_of(client.get(f"{BASE}/{still_open['id']}", headers=mediator).json())["name"] == "王建华"
    with rt.uow() as s:
        entry = s.execute(select(audit).where(audit.c.action == "retention.anonymised")).one()
    detail = json.loads(entry.detail)
    assert entry.actor_id == "system"
    assert (detail["disputes"], detail["parties"], detail["participants"], detail["retention_days"]) == (1, 2, 3, 1095)
    assert detail["dispute_ids"] == [old["id"]] and RESIDENT not in entry.detail


def test_the_retention_period_is_configurable_and_the_clock_scanner_applies_it(client, rt, monkeypatch):
    d = accepted(client, rt, requested_mediator_id=MEDIATOR)
    client.post(f"{BASE}/{d['id']}/terminate", json={"reason": "双方分歧过大"}, headers=auth(rt, MEDIATOR))
    _close_long_ago(rt, d["id"], 40)
    shipped = config.get()
    short = shipped.model_copy(update={"procedure": shipped.procedure.model_copy(update={"retention_days": 30})})
    monkeypatch.setattr(config, "get", lambda: short)
    stop = threading.Event()
    scanner = threading.Thread(target=clocks.background, args=(rt, stop))
    scanner.start()
    try:
        for _ in range(200):
            with rt.uow() as s:
                if s.get(Dispute, d["id"]).anonymised_at is not None:
                    break
            stop.wait(0.02)
    finally:
        stop.set()
        scanner.join(5)
    with rt.uow() as s:
        assert s.get(Dispute, d["id"]).anonymised_at is not None
        assert {p.name for p in s.scalars(select(Party).where(Party.dispute_id == d["id"]))} == {"（已匿名）"}


def test_the_answers_kept_for_idempotency_keys_go_with_the_retention_period(client, rt):
    """An application's kept answer names its parties: it does not outlive the records anonymised."""
    r = client.post(BASE, headers={**auth(rt, RESIDENT, "resident"), "Idempotency-Key": "k-old"}, json={
        "dispute_type": "neighbour", "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。", "lat": 30.6283,
        "lon": 104.052115, "coord_system": "wgs84",
        "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13800000001"},
                    {"role": "respondent", "name": NAME, "phone": PHONE}]})
    assert r.status_code == 201, r.text
    retention.anonymise(rt, now=datetime.now(UTC) + timedelta(days=3 * 365 - 1))
    with rt.uow() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    retention.anonymise(rt, now=datetime.now(UTC) + timedelta(days=3 * 365 + 1))
    with rt.uow() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
