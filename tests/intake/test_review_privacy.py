"""Review findings: who sees the reporter and the reporter's own material, in every door."""

from shared.events.routing import CaseExtended, CaseResolved

from .conftest import GRID_POINT, at, work_order
from .test_lifecycle import dispatched, resolve

NEAR = {"lat": 30.6284, "lon": 104.0522}


def test_hotline_lookup_does_not_tie_an_anonymous_report_to_the_callers_phone(intake):
    intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True,
                  category="safety.fraud", description="有人在小区里办讲座卖保健品给老人", anonymous=True)
    named = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": "13812345678"},
                           headers=intake.auth("operator"))
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == [named["id"]]


def test_events_never_carry_the_id_of_an_anonymous_reporter(intake):
    case = intake.submit(category="safety.fraud", description="有人在小区里办讲座卖保健品给老人", anonymous=True)
    h = intake.auth("resident")
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/supplements", json={"text": "今天又来了"},
                              headers=h).status_code == 200
    resolve(intake, case)
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={}, headers=h).status_code == 200
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", headers=h).status_code == 200
    for event_type in ("intake.case.supplemented", "intake.case.reopened", "intake.case.withdrawn"):
        [ev] = intake.events(event_type)
        assert "u-resident-1" not in str(ev["data"]), event_type


def test_a_follower_sees_the_matter_not_the_reporters_own_material(intake):
    from .test_attachments import jpeg_with_gps, upload
    att = upload(intake, jpeg_with_gps(), "image/jpeg").json()
    case = intake.submit(address="玉林北路 12 号 3 栋 502 我家门口", attachment_ids=[att["id"]])
    h = intake.auth("resident")
    intake.client.post(f"/intake/v1/cases/{case['id']}/supplements", json={"text": "我是 502 的王阿姨，电话 139"},
                       headers=h)
    h2 = intake.auth("resident", "u-resident-2")
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=h2)
    assert r.status_code == 200
    for view in (r.json(), intake.get(case["id"], user_id="u-resident-2"),
                 intake.client.get("/intake/v1/cases", headers=h2).json()["items"][0]):
        assert view["relation"] == "follower"
        assert view["address"] is None and view["attachments"] == []
        assert "王阿姨" not in str(view) and "502" not in str(view)
    assert intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=h2).status_code == 404
    assert intake.client.get(f"/intake/v1/attachments/{att['id']}/thumbnail", headers=h2).status_code == 404
    # the reporter and staff still see everything
    assert intake.get(case["id"])["address"].startswith("玉林北路")
    assert "王阿姨" in str(intake.get(case["id"], role="grid_worker")["timeline"])


def test_a_merged_childs_reporter_does_not_read_the_parent_reporters_material(intake):
    parent = intake.submit()
    intake.client.post(f"/intake/v1/cases/{parent['id']}/supplements", json={"text": "我是 502 的王阿姨"},
                       headers=intake.auth("resident"))
    child = intake.submit(user_id="u-resident-2", description="东门垃圾没人收", **NEAR)
    r = intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                           headers=intake.auth("street_dispatcher"))
    assert r.status_code == 200
    intake.deliver(dispatched(parent, 1))
    intake.deliver(CaseResolved(**work_order(parent, 2), actor_id="w", outcome="解决到位", result_text="已清运"))
    intake.client.post(f"/intake/v1/cases/{parent['id']}/evaluation",
                       json={"contacted": True, "solved": True, "satisfaction": "满意"},
                       headers=intake.auth("resident"))
    view = intake.get(child["id"], user_id="u-resident-2")
    assert view["status"] == "resolved"
    assert "王阿姨" not in str(view["timeline"]) and "您的评价" not in str(view["timeline"])


def test_a_confidential_case_is_neither_offered_to_nor_joinable_by_other_residents(intake):
    secret = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True,
                           confidential=True, description="小区东门垃圾桶三天没有清运，气味很大。")
    query = {"category": "env.garbage", "description": "东门垃圾桶三天没有清运", **GRID_POINT}
    r = intake.client.post("/intake/v1/cases/duplicates", json=query, headers=intake.auth("resident", "u-resident-3"))
    assert r.status_code == 200 and secret["id"] not in [d["id"] for d in r.json()]
    later = intake.submit(user_id="u-resident-3", description="东门垃圾桶三天没有清运")
    assert secret["id"] not in [d["id"] for d in later["possible_duplicates"]]
    r = intake.client.post(f"/intake/v1/cases/{secret['id']}/join", headers=intake.auth("resident", "u-resident-3"))
    assert r.status_code == 404
    # staff still see it among the duplicates, and can merge
    r = intake.client.post("/intake/v1/cases/duplicates", json=query, headers=intake.auth("operator"))
    assert secret["id"] in [d["id"] for d in r.json()]


def test_an_extended_deadline_is_shown_in_china_time(intake):
    case = intake.submit()
    intake.deliver(dispatched(case, 1))
    intake.deliver(CaseExtended(**work_order(case, 2), approved_by="s", new_result_deadline=at(0), reason="材料不全"))
    [entry] = [t for t in intake.get(case["id"])["timeline"] if t["kind"] == "extended"]
    assert entry["text"] == "办理期限已延长至 2099-01-01 16:00"  # 08:00 UTC


def test_only_identity_roles_see_who_reported_an_ordinary_case(intake):
    case = intake.submit(role="operator", channel="hotline", caller_phone="13912345678", consent=True,
                         caller_user_id="u-resident-1")
    for role in ("grid_worker", "department_handler", "community_staff", "mediator"):
        view = intake.get(case["id"], role=role)
        assert view["reporter"] == {"user_id": None, "phone": "139****5678", "anonymous": False}, role
        assert "u-resident-1" not in str(intake.client.get("/intake/v1/cases", headers=intake.auth(role)).json())
    assert intake.get(case["id"], role="supervisor")["reporter"]["user_id"] == "u-resident-1"
