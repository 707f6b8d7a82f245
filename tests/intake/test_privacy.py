"""Personal data at intake: sealed at rest (and sealed by the migration where it was plain), phones
and ID numbers typed into free text masked for readers without the need, confidential reads and the
hotline lookup audited, personal data removed after the retention period, unattached uploads
deleted, and the rate limits of the costly and sensitive requests."""

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import select, text, type_coerce

from services.intake import attachments, retention
from services.intake.models import Attachment, Case, Evaluation, TimelineEntry
from services.intake.service import SPEC, background
from shared.auth import access_claims, sign
from shared.config import get_settings
from shared.db import make_engine, utcnow
from shared.events.routing import CaseContacted, CaseResolved, CaseSigned
from shared.keys import blind_index, signing_keys
from shared.migrate import alembic_config, upgrade

from .conftest import GRID, GRID_POINT, _intake, dispatched, work_order
from .test_attachments import jpeg_with_gps, upload

PHONE, ADDRESS = "13876543210", "光华村街 77 号 9 栋 3 单元"
ID_NUMBER = "510107199001011234"
NAME = "诸葛小明"  # a name no text of the service holds of itself


def raw_database(tmp_path) -> bytes:
    """Every byte SQLite wrote for intake: the file, its WAL and shared memory."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("intake.sqlite*")))


def audit_rows(intake, action: str) -> list:
    t = SPEC.audit
    with intake.rt.engine.connect() as conn:
        return conn.execute(select(t).where(t.c.action == action).order_by(t.c.id)).all()


# ---------------------------------------------------------------- sealed at rest


def test_the_database_file_holds_neither_the_callers_phone_nor_the_address(intake, tmp_path):
    case = intake.submit(role="operator", channel="hotline", caller_phone=PHONE, consent=True, address=ADDRESS)
    mine = intake.submit(address=ADDRESS)
    raw = raw_database(tmp_path)
    for needle in (PHONE, PHONE[-8:], ADDRESS):
        assert needle.encode() not in raw, needle
    # readable through the service, to those who may read it
    op = intake.get(case["id"], role="operator")
    assert op["reporter"]["phone"] == f"+86{PHONE}" and op["address"] == ADDRESS
    assert intake.get(mine["id"])["address"] == ADDRESS
    with intake.rt.engine.connect() as conn:
        stored = conn.execute(select(type_coerce(Case.reporter_phone, sa.Text), type_coerce(Case.address, sa.Text))
                              .where(Case.id == case["id"])).one()
    assert all(value.startswith("dev1.") for value in stored)  # key id, then the ciphertext


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_seals_what_was_stored_plain_and_drops_what_should_not_have_been(tmp_path, monkeypatch,
                                                                                       request, database):
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))  # the migration reads the deployment's keys
    url = (f"sqlite:///{tmp_path / 'intake.sqlite'}" if database == "sqlite"
           else request.getfixturevalue("pg_database"))
    command.upgrade(alembic_config("intake", url), "intake_0005")
    engine = make_engine(url)
    cases = sa.Table("cases", sa.MetaData(), autoload_with=engine)
    base = {c.name: None for c in cases.columns}
    base |= dict(appeal_type="投诉", category="env.garbage", category_version=1, route="dispatch",
                 description="垃圾", urgency="一般", status="submitted", status_rank=0, mediation_seq=0,
                 interest_count=1, reopen_count=0, anonymous=False, confidential=False, created_at=utcnow(),
                 updated_at=utcnow())
    rows = {
        "called": dict(channel="hotline", reporter_phone=f"+86{PHONE}", consent=True, created_by_id="u-operator-1",
                       address=ADDRESS),
        "refused": dict(channel="hotline", reporter_phone="+8613900001111", consent=False,
                        created_by_id="u-operator-1"),
        "anonymous": dict(channel="hotline", reporter_phone="+8613900002222", consent=True, anonymous=True,
                          created_by_id="u-operator-1"),
        "named": dict(channel="hotline", reporter_phone="+8613900003333", consent=True, reporter_id="u-resident-1",
                      created_by_id="u-operator-1"),
        "own": dict(channel="mini_program", reporter_id="u-resident-2", created_by_id="u-resident-2",
                    address=ADDRESS, status="closed"),
    }
    with engine.begin() as conn:
        for n, (name, values) in enumerate(rows.items()):
            conn.execute(cases.insert().values({**base, "id": name, "case_no": f"2026-11-{n:06d}", **values}))
    engine.dispose()
    upgrade("intake", url)
    if database == "sqlite":
        raw = raw_database(tmp_path)
        assert PHONE.encode() not in raw and ADDRESS.encode() not in raw  # not even in freed pages
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), url)
    try:
        with rt.uow() as s:
            got = {c.id: c for c in s.scalars(select(Case))}
            assert got["called"].reporter_phone == f"+86{PHONE}" and got["called"].address == ADDRESS
            assert got["called"].reporter_phone_index and got["own"].address == ADDRESS
            assert got["refused"].reporter_phone is None and got["refused"].reporter_phone_index is None
            assert got["anonymous"].reporter_phone == "+8613900002222" and got["anonymous"].reporter_phone_index is None
            assert got["named"].reporter_id is None and got["own"].reporter_id == "u-resident-2"
            assert got["own"].finished_at is not None and got["called"].finished_at is None
        with rt.engine.connect() as conn:
            stored = conn.execute(text("SELECT reporter_phone, address FROM cases WHERE id = 'called'")).one()
        assert all(v.startswith("dev1.") for v in stored)
        # the caller's own account finds it by her verified phone, like a new case
        client = TestClient(SPEC.app(rt))
        claims = access_claims(rt.settings, user_id="u-caller", role="resident", session_id="s-1",
                               phone_index=blind_index(rt.settings)(f"+86{PHONE}", "phone"))
        token = sign(claims, signing_keys(rt.settings).active)
        mine = client.get("/intake/v1/cases", headers={"Authorization": f"Bearer {token}"}).json()
        assert [c["id"] for c in mine["items"]] == ["called"]
    finally:
        rt.dispose()


def test_free_text_whoever_typed_it_is_sealed_at_rest(intake, tmp_path):
    _with_a_free_text_question(intake)
    r = intake.client.post("/intake/v1/attachments", params={"filename": f"{NAME}家门口.jpg"}, content=jpeg_with_gps(),
                           headers={**intake.auth("resident"), "Content-Type": "image/jpeg"})
    case = intake.submit(description=f"{NAME}家门口垃圾没人收，电话 {PHONE}", attachment_ids=[r.json()["id"]],
                         answers={"contact_note": f"找{NAME}", "bins": 3}, **GRID_POINT)
    reporter, grid = intake.auth("resident"), intake.auth("grid_worker")
    url = f"/intake/v1/cases/{case['id']}"
    assert intake.client.post(f"{url}/supplements", json={"text": f"身份证 {ID_NUMBER}"}, headers=reporter
                              ).status_code == 200
    intake.deliver(dispatched(case))
    assert intake.client.post(f"{url}/notes", json={"text": f"{NAME}的邻居也反映过"}, headers=grid).status_code == 200
    intake.deliver(CaseSigned(**work_order(case, 2), actor_id="u-grid-worker-001001"))
    intake.deliver(CaseContacted(**work_order(case, 3), actor_id="u-grid-worker-001001"))
    intake.deliver(CaseResolved(**work_order(case, 4), actor_id="u-grid-worker-001001", outcome="解决到位",
                                result_text=f"已联系{NAME}，垃圾已清运"))
    r = intake.client.post(f"{url}/evaluation", json={"contacted": True, "solved": True, "satisfaction": "满意",
                                                      "comment": f"谢谢，我是{NAME}"}, headers=reporter)
    assert r.status_code == 200, r.text
    raw = raw_database(tmp_path)
    for needle in (NAME, PHONE, PHONE[-8:], ID_NUMBER):
        assert needle.encode() not in raw, needle
    # Readable through the service, to those who may read it; stored under the key id.
    mine = json.dumps(intake.get(case["id"]), ensure_ascii=False)
    for said in (f"{NAME}家门口垃圾没人收，电话 {PHONE}", f"找{NAME}", f"身份证 {ID_NUMBER}",
                 f"已联系{NAME}，垃圾已清运", f"{NAME}家门口.jpg"):
        assert said in mine, said
    assert f"{NAME}的邻居也反映过" in json.dumps(intake.get(case["id"], role="admin"), ensure_ascii=False)
    with intake.rt.uow() as s:
        assert s.scalar(select(Evaluation.comment).where(Evaluation.case_id == case["id"])) == f"谢谢，我是{NAME}"
    with intake.rt.engine.connect() as conn:
        stored = [*conn.execute(select(*(type_coerce(c, sa.Text) for c in (
            Case.description, Case.answers, Case.result_text))).where(Case.id == case["id"])).one(),
                  *conn.execute(select(type_coerce(TimelineEntry.text, sa.Text))).scalars(),
                  *conn.execute(select(type_coerce(Evaluation.comment, sa.Text))).scalars(),
                  *conn.execute(select(type_coerce(Attachment.filename, sa.Text))).scalars()]
    assert len(stored) > 10 and all(v.startswith("dev1.") for v in stored)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migration_seals_the_free_text_stored_plain_before_it(tmp_path, monkeypatch, request, database):
    monkeypatch.setenv("CG_VAR_DIR", str(tmp_path))  # the migration reads the deployment's keys
    url = (f"sqlite:///{tmp_path / 'intake.sqlite'}" if database == "sqlite"
           else request.getfixturevalue("pg_database"))
    cfg = alembic_config("intake", url)
    command.upgrade(cfg, ScriptDirectory.from_config(cfg).get_revision("intake_0008").down_revision)
    engine = make_engine(url)
    meta = sa.MetaData()
    cases, timeline, evaluations, files = (sa.Table(name, meta, autoload_with=engine) for name in (
        "cases", "case_timeline", "evaluations", "attachments"))
    base = {c.name: None for c in cases.columns}
    base |= dict(appeal_type="投诉", category="env.garbage", category_version=1, route="dispatch", urgency="一般",
                 status="closed", status_rank=0, mediation_seq=0, interest_count=1, reopen_count=0, anonymous=False,
                 confidential=False, channel="mini_program", created_at=utcnow(), updated_at=utcnow())
    with engine.begin() as conn:
        conn.execute(cases.insert().values({**base, "id": "told", "case_no": "2026-11-000001",
                                            "description": f"{NAME}家门口垃圾，电话 {PHONE}",
                                            "answers": {"contact_note": f"找{NAME}", "bins": 3},
                                            "result_text": f"已联系{NAME}"}))
        conn.execute(cases.insert().values({**base, "id": "bare", "case_no": "2026-11-000002", "description": "路灯"}))
        conn.execute(timeline.insert().values(case_id="told", at=utcnow(), kind="supplemented", public=True,
                                              text=f"反映人补充材料：身份证 {ID_NUMBER}"))
        conn.execute(evaluations.insert().values(case_id="told", evaluated=True, via="resident", at=utcnow(),
                                                 comment=f"谢谢，我是{NAME}"))
        conn.execute(files.insert().values(id="f-1", owner_id="u-resident-1", case_id="told", content_type="image/png",
                                           size=1, filename=f"{NAME}家门口.png", path="f-/f-1.png",
                                           created_at=utcnow()))
    engine.dispose()
    upgrade("intake", url)
    if database == "sqlite":
        raw = raw_database(tmp_path)
        for needle in (NAME, PHONE, ID_NUMBER):
            assert needle.encode() not in raw, needle  # not even in freed pages
    rt = SPEC.runtime(get_settings(mode="embedded", var_dir=tmp_path), url)
    try:
        with rt.uow() as s:
            told, bare = s.get(Case, "told"), s.get(Case, "bare")
            assert told.description == f"{NAME}家门口垃圾，电话 {PHONE}" and told.result_text == f"已联系{NAME}"
            assert told.answers == {"contact_note": f"找{NAME}", "bins": 3}
            assert (bare.description, bare.answers, bare.result_text) == ("路灯", None, None)
            assert s.scalar(select(TimelineEntry.text)) == f"反映人补充材料：身份证 {ID_NUMBER}"
            assert s.scalar(select(Evaluation.comment)) == f"谢谢，我是{NAME}"
            assert s.get(Attachment, "f-1").filename == f"{NAME}家门口.png"
        with rt.engine.connect() as conn:
            stored = [*conn.execute(text("SELECT description, answers, result_text FROM cases WHERE id = 'told'")
                                    ).one(),
                      *conn.execute(text("SELECT text FROM case_timeline UNION ALL SELECT comment FROM evaluations "
                                         "UNION ALL SELECT filename FROM attachments")).scalars()]
        assert len(stored) == 6 and all(v.startswith("dev1.") for v in stored)
    finally:
        rt.dispose()


# ---------------------------------------------------------------- what readers see


def test_phones_and_id_numbers_typed_into_free_text_are_masked_for_readers_without_the_need(intake):
    case = intake.submit(description=f"我家门口垃圾没人收，电话 {PHONE}，身份证 {ID_NUMBER}", **GRID_POINT)
    intake.deliver(dispatched(case))
    h = intake.auth("resident")
    intake.client.post(f"/intake/v1/cases/{case['id']}/supplements", json={"text": f"也可以打 {PHONE}"}, headers=h)
    intake.client.post(f"/intake/v1/cases/{case['id']}/notes", json={"text": f"联系人电话 {PHONE}"},
                       headers=intake.auth("grid_worker"))
    for role in ("grid_worker", "community_staff", "street_dispatcher", "supervisor"):
        view = intake.get(case["id"], role=role)
        shown = json.dumps(view, ensure_ascii=False)
        assert PHONE not in shown and ID_NUMBER not in shown, role
        assert "138****3210" in view["description"] and "5101**********1234" in view["description"]
        assert "138****3210" in shown and "联系人电话" in shown  # the note is there, its number masked
    # the reporter reads her own words; the phone roles read everything
    assert PHONE in intake.get(case["id"])["description"]
    admin = json.dumps(intake.get(case["id"], role="admin"), ensure_ascii=False)
    assert admin.count(PHONE) == 3 and ID_NUMBER in admin
    # a neighbour offered the case among the duplicates, or following it, never reads the number
    r = intake.client.post("/intake/v1/cases/duplicates", json={"category": "env.garbage",
                                                                "description": "门口垃圾没人收", **GRID_POINT},
                           headers=intake.auth("resident", "u-resident-2"))
    assert r.json() and PHONE not in r.text and ID_NUMBER not in r.text
    intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=intake.auth("resident", "u-resident-2"))
    assert PHONE not in json.dumps(intake.get(case["id"], user_id="u-resident-2"), ensure_ascii=False)


def test_staff_read_the_unit_codes_in_the_dispatch_rule_as_they_are_while_an_old_id_number_stays_masked(intake):
    case = intake.submit(description="门口垃圾没人收，老身份证 510107900101123", **GRID_POINT)
    intake.deliver(dispatched(case))  # 派单依据：网格 510107001001001 包含该点
    for role in ("grid_worker", "community_staff", "street_dispatcher"):
        view = intake.get(case["id"], role=role)
        [rule] = [t["text"] for t in view["timeline"] if t["kind"] == "dispatch_rule"]
        assert rule == f"派单依据：网格 {GRID} 包含该点", role
        assert "510107900101123" not in view["description"] and "5101*******1123" in view["description"]


# ---------------------------------------------------------------- the audit trail


def test_staff_reading_a_confidential_case_its_files_and_the_hotline_lookup_are_audited(intake):
    att = upload(intake, jpeg_with_gps(), "image/jpeg", role="operator").json()
    secret = intake.submit(role="operator", channel="hotline", caller_phone=PHONE, consent=True, confidential=True,
                           attachment_ids=[att["id"]], **GRID_POINT)
    plain = intake.submit(**GRID_POINT)
    for c in (secret, plain):
        intake.deliver(dispatched(c, 1, f"wo-{c['id'][:4]}"))
    grid = intake.auth("grid_worker")
    intake.get(secret["id"], role="grid_worker")
    intake.get(plain["id"], role="grid_worker")
    intake.client.get("/intake/v1/cases", headers=grid)
    assert intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=grid).status_code == 200
    assert intake.client.get(f"/intake/v1/attachments/{att['id']}/thumbnail", headers=grid).status_code == 200
    reads = audit_rows(intake, "read.case")
    assert [(r.subject_id, json.loads(r.detail)["via"]) for r in reads] == [(secret["id"], "case"),
                                                                            (secret["id"], "list")]
    assert {(r.actor_id, r.actor_role) for r in reads} == {("u-grid-worker-001001", "grid_worker")}
    files = audit_rows(intake, "read.attachment")
    assert [json.loads(r.detail)["kind"] for r in files] == ["file", "thumbnail"]
    assert all(r.subject_id == secret["id"] for r in files)
    # the resident reading her own ordinary case is not a confidential read
    intake.get(plain["id"])
    assert len(audit_rows(intake, "read.case")) == 2
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE}, headers=intake.auth("operator"))
    assert r.status_code == 200 and len(r.json()) == 1
    [lookup] = audit_rows(intake, "read.caller_cases")
    assert lookup.actor_id == "u-operator-1" and json.loads(lookup.detail) == {"count": 1,
                                                                             "case_ids": [secret["id"]]}
    intake.client.post(f"/intake/v1/cases/{plain['id']}/notes", json={"text": "已联系"}, headers=grid)
    assert [r.subject_id for r in audit_rows(intake, "intake.case.noted")] == [plain["id"]]
    everything = str([tuple(r) for r in audit_rows(intake, "read.case") + files + [lookup]])
    assert PHONE not in everything and PHONE[-4:] not in everything


# ---------------------------------------------------------------- retention


def _with_a_free_text_question(intake) -> None:
    admin = intake.auth("admin")
    doc = intake.client.get("/intake/v1/catalogue", headers=admin).json()

    def walk(nodes):
        for node in nodes:
            if node["code"] == "env.garbage":
                node["questions"] = [{"key": "contact_note", "label": "怎么联系您", "label_en": "Contact note",
                                      "type": "text"},
                                     {"key": "bins", "label": "垃圾桶数", "label_en": "Bins", "type": "number"}]
            walk(node.get("children", []))

    walk(doc["categories"])
    r = intake.client.put("/intake/v1/catalogue", json={"base_version": doc.pop("version"), "catalogue": doc},
                          headers=admin)
    assert r.status_code == 200, r.text


def _finish(intake, case_id: str, days_ago: float) -> None:
    with intake.rt.uow() as s:
        row = s.get(Case, case_id)
        row.status, row.finished_at = "closed", utcnow() - timedelta(days=days_ago)


def test_personal_data_of_long_finished_cases_is_removed_and_the_job_says_so(intake):
    _with_a_free_text_question(intake)
    old = intake.submit(role="operator", channel="hotline", caller_phone=PHONE, consent=True, address=ADDRESS,
                        description=f"垃圾没人收，回电 {PHONE}", answers={"contact_note": "下午在家", "bins": 3},
                        **GRID_POINT)
    recent = intake.submit(role="operator", channel="hotline", caller_phone=PHONE, consent=True, address=ADDRESS,
                           **GRID_POINT)
    open_case = intake.submit(address=ADDRESS)
    _finish(intake, old["id"], 181)
    _finish(intake, recent["id"], 10)
    assert retention.run(intake.rt) == 1
    with intake.rt.uow() as s:
        gone, kept, still = s.get(Case, old["id"]), s.get(Case, recent["id"]), s.get(Case, open_case["id"])
        assert (gone.reporter_phone, gone.reporter_phone_index, gone.address) == (None, None, None)
        assert gone.answers == {"bins": 3} and PHONE not in gone.description and gone.anonymised_at is not None
        # what the case was, where, and how it went stay
        assert (gone.category, gone.lat, gone.status) == ("env.garbage", GRID_POINT["lat"], "closed")
        assert s.scalars(select(TimelineEntry).where(TimelineEntry.case_id == gone.id)).all()
        assert kept.reporter_phone == f"+86{PHONE}" and kept.address == ADDRESS and still.address == ADDRESS
    [entry] = audit_rows(intake, "retention.applied")
    assert entry.actor_id == "system" and json.loads(entry.detail)["cases_anonymised"] == 1
    assert json.loads(entry.detail)["personal_data_days"] == 180
    assert retention.run(intake.rt) == 0  # once
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE}, headers=intake.auth("operator"))
    assert [c["id"] for c in r.json()] == [recent["id"]]


def test_retention_also_drops_the_file_names_of_a_finished_cases_uploads_and_masks_its_result(intake):
    named = intake.client.post("/intake/v1/attachments", params={"filename": f"{NAME}家门口.jpg"},
                               content=jpeg_with_gps(),
                               headers={**intake.auth("resident"), "Content-Type": "image/jpeg"})
    old = intake.submit(attachment_ids=[named.json()["id"]], **GRID_POINT)
    intake.deliver(dispatched(old))
    intake.deliver(CaseResolved(**work_order(old, 2), actor_id="u-grid-worker-001001", outcome="解决到位",
                                result_text=f"已电话联系 {PHONE}"))
    _finish(intake, old["id"], 181)
    assert retention.run(intake.rt) == 1
    with intake.rt.uow() as s:
        assert s.get(Attachment, named.json()["id"]).filename is None
        assert s.get(Case, old["id"]).result_text == "已电话联系 138****3210"
    # the file itself stays: it is the evidence of the matter, its photo stripped of metadata
    assert intake.client.get(f"/intake/v1/attachments/{named.json()['id']}", headers=intake.auth("resident")
                             ).status_code == 200
    assert intake.get(old["id"])["attachments"][0]["filename"] is None


def test_uploads_no_case_took_are_deleted_after_a_day_with_their_files(intake):
    used = upload(intake, jpeg_with_gps(), "image/jpeg").json()
    stale = upload(intake, jpeg_with_gps(), "image/jpeg").json()
    fresh = upload(intake, b"%PDF-1.7 minimal", "application/pdf").json()
    intake.submit(attachment_ids=[used["id"]])
    with intake.rt.uow() as s:
        for a in s.scalars(select(Attachment).where(Attachment.id.in_([used["id"], stale["id"]]))):
            a.created_at = utcnow() - timedelta(hours=25)
        stale_files = [s.get(Attachment, stale["id"]).path, s.get(Attachment, stale["id"]).thumb_path]
    root = attachments.root(intake.settings.var_dir)
    assert all((root / f).exists() for f in stale_files)
    assert retention.run(intake.rt) == 1
    with intake.rt.uow() as s:
        assert {a.id for a in s.scalars(select(Attachment))} == {used["id"], fresh["id"]}
    assert not any((root / f).exists() for f in stale_files)
    assert intake.client.get(f"/intake/v1/attachments/{stale['id']}", headers=intake.auth("resident")).status_code \
        == 404
    [entry] = audit_rows(intake, "retention.applied")
    assert json.loads(entry.detail)["uploads_removed"] == 1 and json.loads(entry.detail)["cases_anonymised"] == 0


def test_the_worker_runs_the_retention_job_in_the_background(intake):
    stale = upload(intake, b"%PDF-1.7 minimal", "application/pdf").json()
    with intake.rt.uow() as s:
        s.get(Attachment, stale["id"]).created_at = utcnow() - timedelta(days=2)
    stop = threading.Event()
    worker = threading.Thread(target=background, args=(intake.rt, stop), daemon=True)
    worker.start()
    try:
        for _ in range(100):
            with intake.rt.uow() as s:
                if s.get(Attachment, stale["id"]) is None:
                    break
            stop.wait(0.05)
        else:
            pytest.fail("the retention job did not run")
    finally:
        stop.set()
        worker.join(5)


# ---------------------------------------------------------------- rate limits


@pytest.fixture
def limited(tmp_path):
    yield from _intake(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite'}", rate_limits={
        "intake.hotline.lookup": "3/hour", "intake.upload": "2/hour", "intake.duplicates": "2/hour"})


def _refused(r) -> bool:
    return (r.status_code == 429 and r.json()["error"]["code"] == "rate.limited"
            and 1 <= int(r.headers["Retry-After"]) <= 3600)


def test_a_resident_files_at_most_twenty_cases_an_hour_and_staff_on_the_phone_more(intake):
    h = intake.auth("resident")
    body = {"category": "env.garbage", "description": "垃圾没人收", **GRID_POINT}
    codes = [intake.client.post("/intake/v1/cases", json=body, headers=h).status_code for _ in range(21)]
    assert codes == [201] * 20 + [429]
    assert _refused(intake.client.post("/intake/v1/cases", json=body, headers=h))
    assert intake.client.post("/intake/v1/cases", json=body, headers=intake.auth("resident", "u-resident-2")
                              ).status_code == 201  # per user
    call = {**body, "channel": "hotline", "caller_phone": PHONE, "consent": True}
    op = intake.auth("operator")
    assert all(intake.client.post("/intake/v1/cases", json=call, headers=op).status_code == 201 for _ in range(21))


@pytest.mark.parametrize("field,value", [("anonymous", "yes"), ("confidential", "1"), ("confidential", 1),
                                         ("anonymous", "false")])
def test_a_yes_or_no_of_a_submission_is_a_json_boolean_not_a_word(intake, field, value):
    body = {"category": "env.garbage", "description": "垃圾没人收", **GRID_POINT, field: value}
    r = intake.client.post("/intake/v1/cases", json=body, headers=intake.auth("resident"))
    assert r.status_code == 422 and r.json()["error"]["field"] == field


def test_refused_submissions_and_retries_do_not_use_up_a_residents_hour(intake):
    h = intake.auth("resident")
    body = {"category": "env.garbage", "description": "垃圾没人收", **GRID_POINT}
    refused = [{**body, "lat": 39.9, "lon": 116.4},  # outside the service area
               {**body, "category": "no.such.category"}, {**body, "description": "   "}, {**body, "lat": "north"}]
    for bad in refused * 6:  # 24 refusals
        assert intake.client.post("/intake/v1/cases", json=bad, headers=h).status_code == 422
    key = {**h, "Idempotency-Key": "retry-1"}
    assert intake.client.post("/intake/v1/cases", json=body, headers=key).status_code == 201
    for _ in range(5):  # a weak connection's retries of one report: one case, counted once
        assert intake.client.post("/intake/v1/cases", json=body, headers=key).status_code == 200
    codes = [intake.client.post("/intake/v1/cases", json=body, headers=h).status_code for _ in range(20)]
    assert codes == [201] * 19 + [429]
    # her hour used up, a retry of the report she filed first is still answered with it
    again = intake.client.post("/intake/v1/cases", json=body, headers=key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"


def test_lookups_uploads_and_duplicate_searches_are_limited_per_user(limited):
    op = limited.auth("operator")
    lookups = [limited.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE}, headers=op) for _ in range(4)]
    assert [r.status_code for r in lookups[:3]] == [200] * 3 and _refused(lookups[3])
    assert limited.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE},
                               headers=limited.auth("admin")).status_code == 200
    assert len(audit_rows(limited, "read.caller_cases")) == 4  # the refused one looked nothing up
    uploads = [upload(limited, b"%PDF-1.7", "application/pdf") for _ in range(3)]
    assert [r.status_code for r in uploads[:2]] == [201, 201] and _refused(uploads[2])
    query = {"category": "env.garbage", "description": "垃圾", **GRID_POINT}
    found = [limited.client.post("/intake/v1/cases/duplicates", json=query, headers=limited.auth("resident"))
             for _ in range(3)]
    assert [r.status_code for r in found[:2]] == [200, 200] and _refused(found[2])
    doc = limited.client.get("/intake/openapi.json").json()["paths"]
    for path in ("/intake/v1/hotline/lookup", "/intake/v1/attachments", "/intake/v1/cases/duplicates",
                 "/intake/v1/cases"):
        assert "429" in doc[path]["post"]["responses"], path


@pytest.fixture
def limited_by_address(tmp_path):
    yield from _intake(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite'}", rate_limits={
        "intake.case.submit.address": "2/hour", "intake.case.submit_staff.address": "2/hour",
        "intake.upload.address": "2/hour", "intake.hotline.lookup.address": "2/hour"})


def test_submissions_uploads_and_lookups_are_also_limited_per_address(limited_by_address):
    """Several accounts from one address (the test client's) are counted together, each account
    still far below its own limit; residents and staff each against their own figure."""
    intake = limited_by_address
    body = {"category": "env.garbage", "description": "垃圾没人收", **GRID_POINT}
    residents = [intake.auth("resident", f"u-resident-{n}") for n in range(1, 4)]
    filed = [intake.client.post("/intake/v1/cases", json=body, headers=h) for h in residents]
    assert [r.status_code for r in filed[:2]] == [201, 201] and _refused(filed[2])
    assert filed[2].json()["error"]["detail"] == "intake.case.submit.address"
    call = {**body, "channel": "hotline", "caller_phone": PHONE, "consent": True}
    staff = [intake.auth("operator"), intake.auth("operator", "u-operator-2"), intake.auth("admin")]
    calls = [intake.client.post("/intake/v1/cases", json=call, headers=h) for h in staff]
    assert [r.status_code for r in calls[:2]] == [201, 201] and _refused(calls[2])
    uploads = [upload(intake, b"%PDF-1.7", "application/pdf", user_id=f"u-resident-{n}") for n in range(1, 4)]
    assert [r.status_code for r in uploads[:2]] == [201, 201] and _refused(uploads[2])
    lookups = [intake.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE}, headers=h) for h in staff]
    assert [r.status_code for r in lookups[:2]] == [200, 200] and _refused(lookups[2])
    assert len(audit_rows(intake, "read.caller_cases")) == 2


# ---------------------------------------------------------------- bounded input


def test_pages_and_versions_out_of_range_are_a_422_naming_the_field(intake):
    h = intake.auth("admin")
    for url, field in (("/intake/v1/cases?page=9223372036854775807", "page"), ("/intake/v1/cases?page=0", "page"),
                       ("/intake/v1/cases?page_size=101", "page_size"),
                       ("/intake/v1/catalogue/versions/99999999999999999999", "version"),
                       (f"/intake/v1/cases/{'x' * 37}", "case_id")):
        r = intake.client.get(url, headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (url, r.text)
        assert not r.json()["error"]["message"].isascii()
