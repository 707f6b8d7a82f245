"""Submitting: validation, routes, idempotency, channels (urgency: test_urgency.py; points: test_location.py)."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from services.intake.models import Case

from .conftest import GRID_POINT


def count_cases(intake) -> int:
    with intake.rt.uow() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_a_resident_case_is_stored_numbered_and_announced(intake):
    case = intake.submit(address="玉林北路 12 号东门")
    assert case["status"] == "submitted" and case["status_label"] == "已受理"
    year, month, number = case["case_no"].split("-")
    assert len(year) == 4 and len(month) == 2 and number == "000001"
    assert case["matter_class"] == "小事" and case["route"] == "dispatch" and case["urgency"] == "一般"
    [event] = intake.events("intake.case.submitted")
    data = event["data"]
    assert data["case_id"] == case["id"] and data["route"] == "dispatch" and data["clock_profile"] == "general"
    assert data["reporter_id"] == "u-resident-1" and data["confidential"] is False
    assert "address" not in data and "description" not in data  # events carry ids, never personal data


def test_gcj02_and_bd09_points_are_stored_in_wgs84_with_the_original_kept(intake):
    gcj = intake.submit(lat=30.6258, lon=104.0545, coord_system="gcj02")
    assert gcj["coord_system"] == "gcj02" and (gcj["orig_lat"], gcj["orig_lon"]) == (30.6258, 104.0545)
    # GCJ-02 is offset a few hundred metres from WGS-84 in Chengdu
    assert abs(gcj["lat"] - 30.6258) > 0.001 or abs(gcj["lon"] - 104.0545) > 0.001
    bd = intake.submit(lat=30.6258, lon=104.0545, coord_system="bd09")
    assert bd["lat"] != gcj["lat"] and bd["coord_system"] == "bd09"


def test_every_bad_input_is_a_4xx_with_code_message_field_and_nothing_is_saved(intake):
    h = intake.auth("resident")
    cases = [
        ({"category": "nope"}, 422, "case.unknown_category", "category"),
        ({"category": "env"}, 422, "case.category_not_leaf", "category"),
        ({"channel": "hotline"}, 403, "case.channel_not_allowed", "channel"),
        ({"lat": 30.6, "lon": None}, 422, "case.location_pair", "lon"),
        ({"category": "env.noise"}, 422, "case.answer_missing", "answers.time_of_day"),
        ({"category": "env.noise", "answers": {"time_of_day": "中午"}}, 422, "case.answer_invalid",
         "answers.time_of_day"),
        ({"answers": {"colour": "red"}}, 422, "case.answer_unknown", "answers.colour"),
        ({"category": "dispute.family", "anonymous": True}, 422, "case.anonymous_not_allowed", "anonymous"),
        ({"description": ""}, 422, "validation.too_short", "description"),
        ({"coord_system": "utm"}, 422, "validation.not_allowed", "coord_system"),
        ({"coord_system": None}, 422, "case.coord_system_required", "coord_system"),
        ({"lat": 39.9087, "lon": 116.3975}, 422, "case.outside_service_area", "lat"),
        ({"attachment_ids": ["not-mine"]}, 422, "case.attachment_invalid", "attachment_ids"),
        ({"answer": "去派出所办理"}, 403, "auth.forbidden", "answer"),
    ]
    for extra, status, code, field in cases:
        body = {"category": "env.garbage", "description": "垃圾没人收", **GRID_POINT, **extra}
        r = intake.client.post("/intake/v1/cases", json=body, headers=h)
        assert r.status_code == status, (extra, r.text)
        err = r.json()["error"]
        assert (err["code"], err["field"]) == (code, field), extra
        assert err["message"] and not err["message"].isascii()  # Chinese by default
    r = intake.client.post("/intake/v1/cases", json={"category": "nope", "description": "x"},
                           headers=intake.auth("resident", lang="en"))
    assert r.json()["error"]["message"] == "Unknown category: choose one from the catalogue"
    assert count_cases(intake) == 0
    assert intake.events("intake.case.submitted") == []


def test_a_retried_submission_returns_the_same_case_and_a_changed_body_is_a_conflict(intake):
    key = {"Idempotency-Key": "phone-7f3a-0001"}
    first = intake.submit(headers=key)
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage",
                                                     "description": "小区东门垃圾桶三天没有清运，气味很大。",
                                                     **GRID_POINT}, headers={**intake.auth("resident"), **key})
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert r.json()["id"] == first["id"] and r.json()["case_no"] == first["case_no"]
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "另一件事",
                                                     **GRID_POINT}, headers={**intake.auth("resident"), **key})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency.key_reused"
    # the same key from another user is that user's own key
    other = intake.submit(user_id="u-other", headers=key)
    assert other["id"] != first["id"]
    assert count_cases(intake) == 2 and len(intake.events("intake.case.submitted")) == 2


def test_racing_retries_of_one_submission_make_one_case(pg_intake):
    h = {**pg_intake.auth("resident"), "Idempotency-Key": "weak-signal-1"}
    body = {"category": "env.garbage", "description": "小区东门垃圾桶三天没有清运", **GRID_POINT}
    with ThreadPoolExecutor(6) as ex:
        replies = list(ex.map(lambda _: pg_intake.client.post("/intake/v1/cases", json=body, headers=h), range(6)))
    assert all(r.status_code in (200, 201) for r in replies), [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    assert count_cases(pg_intake) == 1
    assert len(pg_intake.events("intake.case.submitted")) == 1


def test_a_dispute_goes_to_mediation_with_a_referral(intake):
    case = intake.submit(category="dispute.neighbour", description="楼上漏水泡坏我家吊顶，邻居拒绝赔偿")
    assert case["status"] == "referred" and case["route"] == "mediation"
    [sub] = intake.events("intake.case.submitted")
    [ref] = intake.events("intake.case.referred")
    assert sub["data"]["route"] == "mediation" and sub["data"]["clock_profile"] == "mediation"
    assert ref["data"]["dispute_type"] == "neighbour" and ref["data"]["case_id"] == case["id"]


def test_a_consultation_answered_on_the_spot_is_closed_at_intake_and_still_counted(intake):
    hits = intake.client.get("/intake/v1/knowledge", params={"q": "社保卡丢了怎么补办"},
                             headers=intake.auth("operator")).json()
    assert hits[0]["id"] == "kb-social-security-card"
    case = intake.submit(role="operator", channel="hotline", caller_phone="13912345678", consent=True,
                         category="consult.policy", appeal_type="咨询", description="社保卡丢了在哪里补办",
                         answer=hits[0]["answer"], knowledge_id=hits[0]["id"])
    assert case["status"] == "answered" and case["route"] == "direct"
    assert [e["data"]["route"] for e in intake.events("intake.case.submitted")] == ["direct"]
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "垃圾",
                                                     "channel": "hotline", "caller_phone": "13912345678",
                                                     "consent": True, "answer": "好的"},
                           headers=intake.auth("operator"))
    assert r.json()["error"]["code"] == "case.direct_only_consultation"


def test_a_grid_worker_files_patrol_findings_to_handle_or_to_dispatch(intake):
    own = intake.submit(role="grid_worker", channel="grid_patrol", handling="self",
                        description="巡查发现绿化带内有垃圾堆放", result="已联系保洁当场清理")
    assert own["status"] == "self_resolved" and own["route"] == "direct"
    sent = intake.submit(role="grid_worker", channel="grid_patrol", category="facility.manhole",
                         description="巡查发现人行道井盖缺失")
    assert sent["status"] == "submitted" and sent["route"] == "dispatch"
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x",
                                                     "channel": "grid_patrol", "handling": "self"},
                           headers=intake.auth("grid_worker"))
    assert r.json()["error"]["code"] == "case.result_required"
    assert [e["data"]["route"] for e in intake.events("intake.case.submitted")] == ["direct", "dispatch"]


def test_hotline_cases_need_a_valid_phone_and_the_callers_consent(intake):
    base = {"category": "utility.water", "description": "来电反映停水", "channel": "hotline"}
    h = intake.auth("operator")
    r = intake.client.post("/intake/v1/cases", json=base, headers=h)
    assert r.json()["error"]["code"] == "case.phone_required"
    r = intake.client.post("/intake/v1/cases", json={**base, "caller_phone": "12345"}, headers=h)
    assert r.json()["error"]["code"] == "case.bad_phone"
    r = intake.client.post("/intake/v1/cases", json={**base, "caller_phone": "138 1234 5678"}, headers=h)
    assert r.json()["error"]["code"] == "case.consent_required"
    case = intake.submit(role="operator", **base, caller_phone="+86 138-1234-5678", consent=True)
    assert case["reporter"]["phone"] == "+8613812345678"  # the operator sees the full, normalised number
    assert "13812345678" not in str(intake.events("intake.case.submitted"))


def test_text_that_says_nothing_or_holds_a_control_character_is_refused_wherever_a_person_types_it(intake):
    resident, staff = intake.auth("resident"), intake.auth("admin")
    case = intake.submit()
    before = intake.get(case["id"], "admin")
    for blank in ("   ", "\u3000\u200b ", "\ufeff\n"):
        for path, body, who in (("/intake/v1/cases", {"category": "env.garbage", "description": blank, **GRID_POINT},
                                 resident),
                                (f"/intake/v1/cases/{case['id']}/supplements", {"text": blank}, resident),
                                (f"/intake/v1/cases/{case['id']}/withdraw", {"reason": blank}, resident),
                                (f"/intake/v1/cases/{case['id']}/notes", {"text": blank}, staff),
                                (f"/intake/v1/cases/{case['id']}/urgency", {"urgency": "紧急", "reason": blank}, staff),
                                (f"/intake/v1/cases/{case['id']}/reopen", {"reason": blank}, resident),
                                (f"/intake/v1/cases/{case['id']}/evaluation",
                                 {"contacted": True, "solved": True, "satisfaction": "满意", "comment": blank},
                                 resident),
                                ("/intake/v1/cases/duplicates", {"category": "env.garbage", "description": blank,
                                                                 **GRID_POINT}, resident),
                                ("/intake/v1/categories/suggest", {"description": blank}, resident)):
            r = intake.client.post(path, json=body, headers=who)
            assert r.status_code == 422, (path, blank, r.text)
            assert r.json()["error"]["code"] == "validation.blank", (path, r.text)
    for path, body, field in (("/intake/v1/cases", {"category": "env.garbage", "description": "垃圾\x00桶满了",
                                                     **GRID_POINT}, "description"),
                              (f"/intake/v1/cases/{case['id']}/supplements", {"text": "又满了\x00"}, "text")):
        r = intake.client.post(path, json=body, headers=resident)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation.control_character", r.text
        assert r.json()["error"]["field"] == field
    r = intake.client.post("/intake/v1/attachments", params={"filename": "a\x00b.png"}, content=b"%PDF-1.7",
                           headers={**resident, "Content-Type": "application/pdf"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation.control_character", r.text
    assert r.json()["error"]["field"] == "filename"
    assert intake.get(case["id"], "admin") == before and count_cases(intake) == 1


def test_a_callers_phone_from_someone_not_filing_for_a_caller_is_refused_as_such_not_as_an_unknown_field(intake):
    for role, channel in (("operator", "web"), ("resident", "mini_program")):
        r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "垃圾桶满了",
                                                         "channel": channel, "caller_phone": "13812345678",
                                                         "consent": True, **GRID_POINT},
                               headers=intake.auth(role))
        assert r.status_code == 422, r.text
        assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("case.caller_phone_not_allowed",
                                                                           "caller_phone")
    assert count_cases(intake) == 0


def test_an_unknown_status_filter_is_a_422_with_the_errors_list_every_validation_refusal_has(intake):
    r = intake.client.get("/intake/v1/cases", params={"status": "zzz"}, headers=intake.auth("admin"))
    assert r.status_code == 422
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("validation.not_allowed", "status")
    assert [(e["code"], e["field"]) for e in error["errors"]] == [("validation.not_allowed", "status")]
    ok = intake.client.get("/intake/v1/cases", params={"status": "withdrawn"}, headers=intake.auth("admin"))
    assert ok.status_code == 200
