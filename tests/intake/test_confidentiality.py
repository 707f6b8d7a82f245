"""Who sees the reporter: confidential cases hide the person from handlers; phones are masked."""


def test_a_confidential_case_shows_handlers_the_matter_not_the_person(intake):
    case = intake.submit(role="operator", channel="hotline", category="safety.group_rental",
                         description="来电人反映隔壁一套房住了二十多人", caller_phone="13812345678",
                         caller_user_id="u-resident-1", consent=True, confidential=True)
    for role in ("department_handler", "grid_worker", "community_staff", "street_dispatcher", "supervisor"):
        view = intake.get(case["id"], role=role)
        assert view["reporter"] is None, role
        assert view["description"].startswith("来电人反映")
        assert "13812345678" not in str(view) and "u-resident-1" not in str(view) and "5678" not in str(view)
    op = intake.get(case["id"], role="operator")
    assert op["reporter"] == {"user_id": "u-resident-1", "phone": "+8613812345678", "anonymous": False}
    mine = intake.get(case["id"], role="resident")  # the caller, who is a registered resident
    assert mine["relation"] == "reporter" and mine["reporter"]["phone"] == "138****5678"
    [sub] = intake.events("intake.case.submitted")
    assert sub["data"]["confidential"] is True


def test_handlers_see_a_masked_phone_on_ordinary_cases(intake):
    case = intake.submit(role="operator", channel="hotline", caller_phone="13912345678", consent=True)
    view = intake.get(case["id"], role="grid_worker")
    assert view["reporter"]["phone"] == "139****5678"


def test_an_anonymous_report_shows_nobody_the_person(intake):
    case = intake.submit(category="safety.fraud", description="有人在小区里办讲座卖保健品给老人", anonymous=True)
    for role in ("operator", "admin", "grid_worker"):
        assert intake.get(case["id"], role=role)["reporter"] == {"user_id": None, "phone": None, "anonymous": True}
    assert intake.events("intake.case.submitted")[0]["data"]["reporter_id"] is None
    assert intake.client.get("/intake/v1/cases", headers=intake.auth("resident")).json()["total"] == 1


def test_an_operator_looks_up_a_callers_earlier_cases_by_phone(intake):
    intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True)
    intake.submit(role="operator", channel="hotline", caller_phone="+86 138 1234 5678", consent=True,
                  category="utility.water", description="又停水了")
    intake.submit(role="operator", channel="hotline", caller_phone="13900001111", consent=True)
    r = intake.client.post("/intake/v1/hotline/lookup", json={"phone": "138-1234-5678"},
                           headers=intake.auth("operator"))
    assert r.status_code == 200 and len(r.json()) == 2
    assert intake.client.post("/intake/v1/hotline/lookup", json={"phone": "13812345678"},
                              headers=intake.auth("grid_worker")).status_code == 403
    assert intake.client.post("/intake/v1/hotline/lookup", json={"phone": "13812345678"},
                              headers=intake.auth("resident")).status_code == 403
    bad = intake.client.post("/intake/v1/hotline/lookup", json={"phone": "abc"}, headers=intake.auth("operator"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "phone"


def test_residents_list_only_their_own_and_filter_by_status(intake):
    a = intake.submit()
    intake.submit(user_id="u-resident-2")
    intake.client.post(f"/intake/v1/cases/{a['id']}/withdraw", headers=intake.auth("resident"))
    intake.submit()
    h = intake.auth("resident")
    assert intake.client.get("/intake/v1/cases", headers=h).json()["total"] == 2
    page = intake.client.get("/intake/v1/cases", params={"status": "withdrawn"}, headers=h).json()
    assert [c["id"] for c in page["items"]] == [a["id"]]
    assert intake.client.get(f"/intake/v1/cases/{a['id']}", headers=intake.auth("resident", "u-resident-2")
                             ).status_code == 404
