"""The 12345 platform's work orders imported in batches (POST /intake/v1/hotline/orders/import): each row a
hotline case under every rule of a submission, one case per order number however often it is sent, a bad
row reported beside the good ones, the order number searchable and shown, the platform's deadline shown to
staff with a warning when it is earlier than routing's, the requester's name and phone kept only with her
consent, and the caller's phone sealed for notify only when notify may text her."""

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import func, select, text

from services.intake.models import Case
from shared.events.intake import caller_phone_seal_context
from shared.events.routing import CaseExtended
from shared.keys import data_keys

from .conftest import GRID_POINT, _intake, dispatched, work_order
from .test_open311_world import issue, open311_intake

IMPORT = "/intake/v1/hotline/orders/import"
PHONE = "13812345678"
DEADLINE = datetime(2099, 1, 3, 10, 0, tzinfo=UTC)
# When the platform received the orders: yesterday at 09:12 in Chengdu (an order is never received later than now).
RECEIVED = (datetime.now(UTC) - timedelta(days=1)).astimezone(timezone(timedelta(hours=8))).replace(
    hour=9, minute=12, second=0, microsecond=0)


@pytest.fixture
def platform(tmp_path):
    """Intake reading identity's replicated keys afresh on every request (keys issued in a test work at once)."""
    yield from open311_intake(tmp_path)


def order(no: str, **fields) -> dict:
    """A row as the demo platform sends it: a garbage complaint in 玉林北路社区第一网格, with consent."""
    return {"order_no": no, "channel": "电话", "received_at": RECEIVED.isoformat(), "requester_name": "张三丰",
            "requester_phone": PHONE, "consent": True, "appeal_type": "投诉", "category_code": "010101",
            "address": "玉林北路 12 号东门", "lat": GRID_POINT["lat"], "lon": GRID_POINT["lon"],
            "coord_system": "wgs84",
            "description": "来电人反映小区东门垃圾桶三天没有清运，气味很大。", "urgency": "普通",
            "deadline": DEADLINE.isoformat(), **fields}


def send(intake, key: str | None, rows: list, lang: str | None = None):
    headers = {**({"X-API-Key": key} if key else {}), **({"Accept-Language": lang} if lang else {})}
    return intake.client.post(IMPORT, json={"orders": rows}, headers=headers)


def imported(intake, key: str, rows: list) -> dict:
    r = send(intake, key, rows)
    assert r.status_code == 200, r.text
    return r.json()


def import_key(intake) -> str:
    return issue(intake, ["hotline:import"])


def count_cases(intake) -> int:
    with intake.rt.uow() as s:
        return s.scalar(select(func.count()).select_from(Case))


def stored(intake, case_id: str) -> Case:
    with intake.rt.uow() as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


def submitted_event(intake, case_id: str) -> dict:
    return next(e["data"] for e in intake.events("intake.case.submitted") if e["data"]["case_id"] == case_id)


# --------------------------------------------------------------------------- one case per order


def test_a_batch_imported_twice_creates_each_case_once(platform):
    key = import_key(platform)
    rows = [order("GD-0001"), order("GD-0002", category_code="020101", description="来电人反映家中停水"),
            order("GD-0003", category_code="040101", description="楼道堆放杂物堵塞消防通道")]
    first = imported(platform, key, rows)
    assert (first["total"], first["created"], first["already"], first["errors"]) == (3, 3, 0, 0)
    assert [r["result"] for r in first["rows"]] == ["created"] * 3
    again = imported(platform, key, copy.deepcopy(rows))
    assert (again["created"], again["already"], again["errors"]) == (0, 3, 0)
    assert [(r["order_no"], r["case_id"], r["case_no"]) for r in again["rows"]] == \
        [(r["order_no"], r["case_id"], r["case_no"]) for r in first["rows"]]
    assert count_cases(platform) == 3 and len(platform.events("intake.case.submitted")) == 3
    # Each is an ordinary hotline case filed for the caller, carrying the platform's number.
    case = stored(platform, first["rows"][0]["case_id"])
    assert (case.channel, case.reporter_id, case.created_by_id) == ("hotline", None, f"key:{key.split('_')[1]}")
    assert (case.external_source, case.external_no) == ("12345", "GD-0001")


def test_an_order_sent_twice_in_one_batch_is_created_once(platform):
    key = import_key(platform)
    result = imported(platform, key, [order("GD-0007"), order("GD-0007", description="重复推送的同一工单")])
    assert [r["result"] for r in result["rows"]] == ["created", "already"]
    assert result["rows"][0]["case_id"] == result["rows"][1]["case_id"] and count_cases(platform) == 1


def test_a_re_sent_order_answers_its_case_even_when_the_row_no_longer_reads_as_valid(platform):
    key = import_key(platform)
    made = imported(platform, key, [order("GD-0100")])["rows"][0]
    again = imported(platform, key, [order("GD-0100", category_code="999999", consent=None)])["rows"][0]
    assert again["result"] == "already" and again["case_id"] == made["case_id"] and count_cases(platform) == 1


@pytest.fixture
def pg_platform(tmp_path, pg_database):
    yield from _intake(tmp_path, pg_database, auth_state_refresh_seconds=0)


def test_two_copies_of_a_batch_racing_create_each_case_once(pg_platform):
    key = import_key(pg_platform)
    rows = [order(f"GD-R{i:03d}", description=f"第 {i} 号楼垃圾桶没人清运") for i in range(5)]
    with ThreadPoolExecutor(4) as ex:
        replies = list(ex.map(lambda _: send(pg_platform, key, rows), range(4)))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    assert sum(r.json()["created"] for r in replies) == 5
    for i in range(5):
        assert len({r.json()["rows"][i]["case_id"] for r in replies}) == 1
    assert count_cases(pg_platform) == 5 and len(pg_platform.events("intake.case.submitted")) == 5


# --------------------------------------------------------------------------- bad rows


def test_a_bad_row_is_reported_while_the_good_rows_are_created(platform):
    key = import_key(platform)
    rows = [order("GD-1001"),
            order("GD-1002", lat=39.9042, lon=116.4074),  # Beijing: outside the service area
            order("GD-1003", consent=None),  # the platform must say whether she consented
            "not an order",
            order("GD-1005", lat=30.6283, coord_system=None),  # a point without its coordinate system
            order("GD-1006", requester_phone=None),  # a hotline order without the caller's phone
            order("GD-1007", appeal_type="吐槽"),
            order("GD-1008", surprise="extra"),
            order("GD-1009", category_code="070104"),  # 欠薪: not mapped (our category asks how many workers)
            order("GD-1010", description="门口路灯坏了", category_code="010202")]
    result = imported(platform, key, rows)
    assert (result["created"], result["errors"]) == (2, 8)
    got = {r["index"]: (r["result"], r["error"] and (r["error"]["code"], r["error"]["field"])) for r in result["rows"]}
    assert got == {
        0: ("created", None),
        1: ("error", ("case.outside_service_area", "lat")),
        2: ("error", ("validation.bad_type", "consent")),
        3: ("error", ("hotline.row_not_object", None)),
        4: ("error", ("case.coord_system_required", "coord_system")),
        5: ("error", ("case.phone_required", "requester_phone")),
        6: ("error", ("hotline.appeal_type_unknown", "appeal_type")),
        7: ("error", ("validation.extra_field", "surprise")),
        8: ("error", ("hotline.category_unmapped", "category_code")),
        9: ("created", None),
    }
    assert all(r["error"]["message"] for r in result["rows"] if r["error"])
    assert result["rows"][1]["order_no"] == "GD-1002" and result["rows"][3]["order_no"] is None
    # The refused rows left nothing: no case, no event, no audit entry of a case.
    assert count_cases(platform) == 2 and len(platform.events("intake.case.submitted")) == 2
    with platform.rt.engine.connect() as conn:
        entries = conn.execute(text("SELECT action, detail FROM audit_trail WHERE action LIKE 'intake.case.%' "
                                    "OR action LIKE 'intake.hotline.%'")).all()
    assert sorted(a for a, _ in entries) == ["intake.case.submitted", "intake.case.submitted",
                                             "intake.hotline.imported"]
    # A refused row can be sent again, corrected, and is created then.
    fixed = imported(platform, key, [order("GD-1002"), order("GD-1001")])
    assert [r["result"] for r in fixed["rows"]] == ["created", "already"]


def test_a_row_with_an_impossible_or_implausible_time_is_refused_on_its_own_and_the_good_rows_are_created(platform):
    key = import_key(platform)
    rows = [order("GD-T001"),
            order("GD-T002", received_at="0001-01-01T00:00:00+14:00"),  # before the first instant stored
            order("GD-T003", deadline="0001-01-01T00:00:00+14:00"),
            order("GD-T004", received_at="9999-12-31T23:59:59-14:00"),  # past the last
            order("GD-T005", deadline="9999-12-31T23:59:59-14:00"),
            order("GD-T006", received_at=(datetime.now(UTC) + timedelta(days=2)).isoformat()),  # not yet received
            order("GD-T007", deadline=(RECEIVED - timedelta(days=1)).isoformat()),  # due before it came in
            order("GD-T008")]
    r = send(platform, key, rows)
    assert r.status_code == 200, r.text
    result = r.json()
    got = {r["index"]: (r["result"], r["error"] and (r["error"]["code"], r["error"]["field"])) for r in result["rows"]}
    assert got == {
        0: ("created", None),
        1: ("error", ("validation.invalid", "received_at")),
        2: ("error", ("validation.invalid", "deadline")),
        3: ("error", ("validation.invalid", "received_at")),
        4: ("error", ("validation.invalid", "deadline")),
        5: ("error", ("hotline.received_in_future", "received_at")),
        6: ("error", ("hotline.deadline_before_received", "deadline")),
        7: ("created", None),
    }
    assert all(r["error"]["message"] for r in result["rows"] if r["error"])
    assert count_cases(platform) == 2 and len(platform.events("intake.case.submitted")) == 2


def test_an_order_whose_platform_category_is_not_mapped_is_a_row_error_in_the_readers_language(platform):
    key = import_key(platform)
    zh = send(platform, key, [order("GD-2001", category_code="999999")]).json()["rows"][0]
    assert zh["result"] == "error" and zh["case_id"] is None
    assert zh["error"] == {"code": "hotline.category_unmapped", "field": "category_code",
                           "message": "平台分类编码未配置对应的诉求类别，该工单未导入，请人工登记或补充对照表"}
    en = send(platform, key, [order("GD-2001", category_code="999999")], lang="en").json()["rows"][0]
    assert en["error"]["message"].startswith("The platform's category code maps to no category")
    assert count_cases(platform) == 0


def test_the_mapping_answers_the_questions_the_platform_code_implies_and_maps_its_words(platform):
    key = import_key(platform)
    row = imported(platform, key, [order("GD-3001", category_code="010102", urgency="加急",
                                         description="楼下 KTV 夜里很吵")])["rows"][0]
    case = stored(platform, row["case_id"])
    assert (case.category, case.answers, case.urgency) == ("env.noise", {"time_of_day": "夜间"}, "紧急")
    assert send(platform, key, [order("GD-3002", urgency="火速")]).json()["rows"][0]["error"]["code"] == \
        "hotline.urgency_unknown"


def test_a_batch_over_the_limit_is_refused_whole_and_changes_nothing(platform):
    key = import_key(platform)
    r = send(platform, key, [order(f"GD-{i:05d}") for i in range(501)])
    assert r.status_code == 422 and r.json()["error"]["field"] == "orders"
    assert send(platform, key, []).status_code == 422
    assert count_cases(platform) == 0


def test_a_mapping_naming_a_category_the_catalogue_lacks_stops_start_up(tmp_path, monkeypatch):
    import json
    import shutil

    from services.intake import config

    data = tmp_path / "intake-data"
    shutil.copytree(config.DATA_DIR, data)
    mapping = json.loads((data / "hotline_import.json").read_text(encoding="utf-8"))
    mapping["categories"]["010101"]["category"] = "env.nowhere"
    (data / "hotline_import.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("CG_INTAKE_DATA_DIR", str(data))
    config.get.cache_clear()
    try:
        with pytest.raises(ValueError, match="hotline_import.categories.010101.category"):
            config.get()
        mapping["categories"]["010101"] = {"name": "噪声", "category": "env.noise"}  # its required question
        (data / "hotline_import.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
        config.get.cache_clear()
        with pytest.raises(ValueError, match="case.answer_missing"):
            config.get()
    finally:
        config.get.cache_clear()


# --------------------------------------------------------------------------- who may import and read back


def test_a_key_without_the_scope_reading_an_order_is_told_it_may_not_use_the_orders_not_that_it_may_not_import(
        platform):
    open311 = issue(platform, ["cases:create", "cases:read", "cases:read_public"])
    r = platform.client.get("/intake/v1/hotline/orders/GD-4002", headers={"X-API-Key": open311})
    assert r.status_code == 403 and r.json()["error"]["code"] == "hotline.scope"
    assert "导入" not in r.json()["error"]["message"] and "hotline:import" in r.json()["error"]["message"]
    en = platform.client.get("/intake/v1/hotline/orders/GD-4002",
                             headers={"X-API-Key": open311, "Accept-Language": "en"}).json()["error"]["message"]
    assert "may not import" not in en


def test_an_api_key_without_the_import_scope_gets_403_and_changes_nothing(platform):
    open311 = issue(platform, ["cases:create", "cases:read", "cases:read_public"])
    r = send(platform, open311, [order("GD-4001")])
    assert r.status_code == 403 and r.json()["error"]["code"] == "hotline.scope"
    assert r.json()["error"]["message"]
    assert send(platform, None, [order("GD-4001")]).status_code == 401
    assert send(platform, "cgk_nothing_here", [order("GD-4001")]).status_code == 401
    revoked = issue(platform, ["hotline:import"], revoked=True)
    assert send(platform, revoked, [order("GD-4001")]).status_code == 401
    # A person's token, even an admin's, opens nothing here.
    r = platform.client.post(IMPORT, json={"orders": [order("GD-4001")]}, headers=platform.auth("admin"))
    assert r.status_code == 401
    assert count_cases(platform) == 0


def test_the_order_number_is_searchable_by_staff_in_scope_and_by_the_key_that_imported_it(platform):
    key = import_key(platform)
    case = imported(platform, key, [order("GD-5001")])["rows"][0]
    imported(platform, key, [order("GD-5002", description="另一件工单")])

    def found(role, user_id=None, no="GD-5001"):
        r = platform.client.get("/intake/v1/cases", params={"external_no": no},
                                headers=platform.auth(role, user_id))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert found("admin") == [case["case_id"]] and found("admin", no="GD-9999") == []
    assert found("grid_worker", "u-grid-worker-001001") == []  # not dispatched to her unit yet
    assert platform.deliver(dispatched({"id": case["case_id"], "case_no": case["case_no"]})) == "ack"
    assert found("grid_worker", "u-grid-worker-001001") == [case["case_id"]]
    assert found("grid_worker", "u-grid-worker-002001") == []  # out of scope: a number finds nothing
    bad = platform.client.get("/intake/v1/cases", params={"external_no": "GD 5001'"},
                              headers=platform.auth("admin"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "external_no"

    r = platform.client.get("/intake/v1/hotline/orders/GD-5001", headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["case_id"], view["order_no"], view["source"], view["status"]) == \
        (case["case_id"], "GD-5001", "12345", "dispatched")
    assert "张" not in r.text and PHONE not in r.text and "玉林北路 12 号" not in r.text
    other = import_key(platform)  # another key may import, but reads back only its own imports
    missing = platform.client.get("/intake/v1/hotline/orders/GD-5001", headers={"X-API-Key": other})
    nothing = platform.client.get("/intake/v1/hotline/orders/GD-0000", headers={"X-API-Key": key})
    assert missing.status_code == nothing.status_code == 404 and missing.json() == nothing.json()
    open311 = issue(platform, ["cases:read"])
    assert platform.client.get("/intake/v1/hotline/orders/GD-5001",
                               headers={"X-API-Key": open311}).status_code == 403


# --------------------------------------------------------------------------- the case view


def test_the_case_shows_the_order_number_and_staff_see_the_platform_deadline_and_a_warning_when_it_is_earlier(
        platform):
    key = import_key(platform)
    row = imported(platform, key, [order("GD-6001")])["rows"][0]
    case = {"id": row["case_id"], "case_no": row["case_no"]}
    staff = platform.get(case["id"], "admin")
    received = RECEIVED.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert staff["external"] == {"source": "12345", "order_no": "GD-6001", "received_at": received,
                                 "deadline": "2099-01-03T10:00:00Z",
                                 "result_deadline": None, "deadline_earlier": None}
    # Routing's result deadline is later than the platform's: staff are warned, on the view and the timeline.
    later = DEADLINE + timedelta(days=4)
    lead = dispatched(case, 1, "wo-6001").model_copy(update={"result_deadline": later})
    assert platform.deliver(lead) == "ack"
    staff = platform.get(case["id"], "grid_worker", "u-grid-worker-001001")
    assert staff["external"]["deadline_earlier"] is True
    assert staff["external"]["result_deadline"].startswith("2099-01-07")
    assert any(t["kind"] == "external_deadline_earlier" and not t["public"] for t in staff["timeline"])
    # An extension moves routing's deadline; an earlier one than the platform's clears the warning.
    earlier = DEADLINE - timedelta(days=1)
    assert platform.deliver(CaseExtended(**work_order(case, 2, "wo-6001"), approved_by="u-supervisor-1",
                                         new_result_deadline=earlier)) == "ack"
    assert platform.get(case["id"], "admin")["external"]["deadline_earlier"] is False
    # The requester (the resident whose verified phone it is) sees the number the platform gave her, not the
    # dates staff work to; her timeline has no internal entry.
    mine = platform.get(case["id"], "resident", "u-resident-3", phone=PHONE)
    assert mine["relation"] == "filed_for_you"
    assert mine["external"] == {"source": "12345", "order_no": "GD-6001", "received_at": None, "deadline": None,
                                "result_deadline": None, "deadline_earlier": None}
    assert all(t["public"] for t in mine["timeline"])


def test_the_requester_name_is_sealed_at_rest_and_shown_by_the_visibility_rules(platform):
    key = import_key(platform)
    rows = imported(platform, key, [order("GD-7001"), order("GD-7002", confidential=True)])["rows"]
    plain, confidential = ({"id": r["case_id"], "case_no": r["case_no"]} for r in rows)
    with platform.rt.engine.connect() as conn:
        raw = conn.execute(text("SELECT requester_name FROM cases WHERE id = :i"), {"i": plain["id"]}).scalar_one()
    assert raw and "张" not in raw  # sealed: the database file does not hold the name
    for wo, c in (("wo-7001", plain), ("wo-7002", confidential)):
        assert platform.deliver(dispatched(c, 1, wo)) == "ack"
    assert platform.get(plain["id"], "admin")["reporter"]["name"] == "张三丰"
    assert platform.get(plain["id"], "supervisor", "u-supervisor-1")["reporter"]["name"] == "张三丰"
    handler = platform.get(plain["id"], "grid_worker", "u-grid-worker-001001")["reporter"]
    assert (handler["name"], handler["phone"]) == ("张**", "138****5678")
    assert platform.get(plain["id"], "resident", "u-resident-3", phone=PHONE)["reporter"]["name"] == "张**"
    # 保密: the handler sees the matter, not the person; the confidential identity roles still do.
    assert platform.get(confidential["id"], "grid_worker", "u-grid-worker-001001")["reporter"] is None
    assert platform.get(confidential["id"], "admin")["reporter"]["name"] == "张三丰"


def test_consent_false_keeps_neither_the_phone_nor_the_name(platform):
    key = import_key(platform)
    row = imported(platform, key, [order("GD-8001", consent=False)])["rows"][0]
    assert row["result"] == "created"
    case = stored(platform, row["case_id"])
    assert (case.reporter_phone, case.reporter_phone_index, case.requester_name) == (None, None, None)
    assert case.consent is False
    assert platform.get(row["case_id"], "admin")["reporter"] == {"user_id": None, "phone": None, "name": None,
                                                                "anonymous": False}
    assert submitted_event(platform, row["case_id"])["caller_phone_sealed"] is None
    # Nothing finds it by the number either.
    r = platform.client.post("/intake/v1/hotline/lookup", json={"phone": PHONE}, headers=platform.auth("admin"))
    assert r.status_code == 200 and r.json() == []


# --------------------------------------------------------------------------- the phone sealed for notify


def opened(intake, case_id: str) -> str | None:
    """The event's caller phone as notify opens it: the deployment's data keys, the case's context."""
    sealed = submitted_event(intake, case_id)["caller_phone_sealed"]
    if sealed is None:
        return None
    keys = data_keys(intake.settings)
    assert caller_phone_seal_context(case_id) == f"intake-caller-phone:{case_id}"
    phone = keys.open(sealed, f"intake-caller-phone:{case_id}")
    with pytest.raises(InvalidTag):  # it opens for this case only
        keys.open(sealed, caller_phone_seal_context("another-case"))
    return phone


def test_the_submitted_event_carries_the_sealed_phone_only_for_a_consenting_caller_without_an_account(platform):
    key = import_key(platform)
    row = imported(platform, key, [order("GD-9001")])["rows"][0]
    assert opened(platform, row["case_id"]) == "+8613812345678"
    event = submitted_event(platform, row["case_id"])
    assert (event["external_source"], event["external_no"], event["external_deadline"]) == \
        ("12345", "GD-9001", "2099-01-03T10:00:00Z")
    assert PHONE not in str(event)

    def filed(role: str, **body) -> str | None:
        return opened(platform, platform.submit(role=role, **body)["id"])

    hotline = {"channel": "hotline", "caller_phone": "13912345678"}
    # Every channel where staff file for a consenting caller, not the import alone.
    assert filed("operator", **hotline, consent=True) == "+8613912345678"
    assert filed("community_staff", channel="letter", caller_phone="13912345678", consent=True) == "+8613912345678"
    # Refused consent, an anonymous report, or nobody's phone: nothing to text.
    assert filed("operator", **hotline, consent=False) is None
    assert filed("operator", **hotline, consent=True, anonymous=True) is None
    assert filed("community_staff", channel="walk_in") is None
    # A resident with an account is told in the app; an Open311 case with a consenting phone is texted.
    assert filed("resident") is None
    assert filed("operator", **hotline, consent=True, confidential=True) == "+8613912345678"
    # An imported order without consent: no phone to seal.
    assert send(platform, key, [order("GD-9002", consent=False)]).json()["rows"][0]["result"] == "created"
    assert opened(platform, stored_case_id(platform, "GD-9002")) is None


def stored_case_id(intake, order_no: str) -> str:
    with intake.rt.uow() as s:
        return s.scalar(select(Case.id).where(Case.external_no == order_no))


def test_the_caller_phone_is_never_in_the_events_in_the_clear(platform):
    key = import_key(platform)
    imported(platform, key, [order("GD-9101"), order("GD-9102", confidential=True)])
    with platform.rt.engine.connect() as conn:
        bodies = [r[0] for r in conn.execute(text("SELECT body FROM outbox"))]
    assert bodies and not any(PHONE in b or "8613812345678" in b or "张三丰" in b for b in bodies)
