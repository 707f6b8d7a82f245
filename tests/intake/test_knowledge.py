"""The hotline's knowledge base: supervisors and admins create, edit (a new version each time, every
version kept) and retire entries over the API, each change audited; a consultation answered on the
spot cites an existing, current entry, and the version it cited is recorded."""

from sqlalchemy import func, select

from services.intake.models import KnowledgeEntry, KnowledgeVersion

NEW = {"title": "独生子女父母奖励", "category": "consult.policy", "keywords": ["独生子女", "奖励"],
       "answer": "持身份证、独生子女父母光荣证到户籍所在社区申请，审核后一次性发放。", "note": "新增条目"}


def consultation(intake, knowledge_id, expect=201, **body) -> dict:
    return intake.submit(role="operator", expect=expect, channel="hotline", caller_phone="13912345678",
                         consent=True, category="consult.policy", appeal_type="咨询", description="来电咨询政策",
                         answer="按知识库口径答复", knowledge_id=knowledge_id, lat=None, lon=None, coord_system=None,
                         **body)


def search(intake, q: str) -> list[dict]:
    r = intake.client.get("/intake/v1/knowledge", params={"q": q}, headers=intake.auth("operator"))
    assert r.status_code == 200, r.text
    return r.json()


def stored(intake) -> tuple[int, int]:
    with intake.rt.uow() as s:
        return (s.scalar(select(func.count()).select_from(KnowledgeEntry)),
                s.scalar(select(func.count()).select_from(KnowledgeVersion)))


def test_a_consultation_citing_an_entry_that_does_not_exist_is_refused_and_nothing_is_saved(intake):
    r = intake.client.post("/intake/v1/cases", headers=intake.auth("operator"), json={
        "category": "consult.policy", "appeal_type": "咨询", "description": "来电咨询", "channel": "hotline",
        "caller_phone": "13912345678", "consent": True, "answer": "已答复", "knowledge_id": "kb-no-such-entry"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert (err["code"], err["field"]) == ("case.knowledge_unknown", "knowledge_id") and not err["message"].isascii()
    r = intake.client.post("/intake/v1/cases", headers=intake.auth("operator"), json={
        "category": "consult.policy", "appeal_type": "咨询", "description": "来电咨询", "channel": "hotline",
        "caller_phone": "13912345678", "consent": True, "knowledge_id": "kb-social-security-card"})
    assert r.json()["error"]["code"] == "case.knowledge_without_answer"  # citing nothing it answered
    assert intake.events("intake.case.submitted") == []


def test_supervisors_edit_the_knowledge_base_keeping_every_version_and_each_change_audited(intake):
    sup = intake.auth("supervisor")
    r = intake.client.post("/intake/v1/knowledge", json=NEW, headers=sup)
    assert r.status_code == 201, r.text
    entry = r.json()
    kid = entry["id"]
    assert entry["version"] == 1 and entry["current"] and not entry["retired"]
    assert [v["version"] for v in entry["versions"]] == [1] and entry["versions"][0]["created_by"] == "u-supervisor-1"
    assert search(intake, "独生子女父母有什么奖励")[0]["id"] == kid

    edit = {**NEW, "answer": "改为线上申请：通过“天府通办”提交，审核后一次性发放。", "note": "改为线上办理"}
    r = intake.client.put(f"/intake/v1/knowledge/{kid}", json={**edit, "base_version": 1}, headers=sup)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["answer"] == edit["answer"]
    assert [v["version"] for v in r.json()["versions"]] == [2, 1]
    stale = intake.client.put(f"/intake/v1/knowledge/{kid}", json={**NEW, "base_version": 1},
                              headers=intake.auth("admin"))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "knowledge.version_conflict"
    old = intake.client.get(f"/intake/v1/knowledge/{kid}/versions/1", headers=intake.auth("operator")).json()
    assert old["answer"] == NEW["answer"] and old["current"] is False  # the first version is kept
    assert search(intake, "独生子女父母奖励")[0]["version"] == 2

    case = consultation(intake, kid)
    staff_view = intake.get(case["id"], "operator")
    cited = [t["text"] for t in staff_view["timeline"] if t["kind"] == "knowledge"]
    assert cited == [f"答复依据知识库条目 {kid}（第 2 版）"]

    r = intake.client.post(f"/intake/v1/knowledge/{kid}/retire", headers=sup)
    assert r.status_code == 200 and r.json()["retired"] is True
    assert all(hit["id"] != kid for hit in search(intake, "独生子女父母奖励"))  # no longer offered
    refused = consultation(intake, kid, expect=422)
    assert (refused["error"]["code"], refused["error"]["field"]) == ("case.knowledge_retired", "knowledge_id")
    again = intake.client.post(f"/intake/v1/knowledge/{kid}/retire", headers=sup)
    assert again.status_code == 409 and again.json()["error"]["code"] == "knowledge.retired"
    r = intake.client.put(f"/intake/v1/knowledge/{kid}", json={**edit, "base_version": 2}, headers=sup)
    assert r.status_code == 409 and r.json()["error"]["code"] == "knowledge.retired"

    trail = intake.client.get("/intake/v1/audit", params={"subject_kind": "knowledge"},
                              headers=intake.auth("admin")).json()["items"]
    assert [(e["action"], e["detail"]) for e in reversed(trail)] == [
        ("intake.knowledge.created", {"version": 1}), ("intake.knowledge.updated", {"version": 2}),
        ("intake.knowledge.retired", {"version": 2})]
    assert {e["actor_id"] for e in trail} == {"u-supervisor-1"}


def test_editing_a_shipped_entry_keeps_the_files_version_as_its_first(intake):
    before = search(intake, "社保卡丢了怎么补办")[0]
    assert (before["id"], before["version"]) == ("kb-social-security-card", 1)
    body = {"title": "社保卡补办", "category": "consult.policy", "keywords": ["社保卡", "补办"],
            "answer": "在电子社保卡小程序挂失后，到任一社保卡服务网点补办。", "base_version": 1}
    r = intake.client.put("/intake/v1/knowledge/kb-social-security-card", json=body, headers=intake.auth("admin"))
    assert r.status_code == 200 and r.json()["version"] == 2
    first = r.json()["versions"][-1]
    assert (first["version"], first["created_by"]) == (1, None)  # shipped with the file
    old = intake.client.get("/intake/v1/knowledge/kb-social-security-card/versions/1",
                            headers=intake.auth("operator")).json()
    assert old["answer"] == before["answer"]
    assert search(intake, "社保卡丢了怎么补办")[0]["answer"] == body["answer"]
    untouched = intake.client.get("/intake/v1/knowledge/kb-housing-fund", headers=intake.auth("operator")).json()
    assert untouched["version"] == 1 and [v["version"] for v in untouched["versions"]] == [1]


def test_only_the_knowledge_editor_roles_change_it_and_bad_input_changes_nothing(intake):
    for role in ("operator", "street_dispatcher", "grid_worker"):
        r = intake.client.post("/intake/v1/knowledge", json=NEW, headers=intake.auth(role))
        assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden", role
    r = intake.client.put("/intake/v1/knowledge/kb-housing-fund", json={**NEW, "base_version": 1},
                          headers=intake.auth("operator"))
    assert r.status_code == 403
    assert intake.client.get("/intake/v1/knowledge/kb-housing-fund", headers=intake.auth("resident")).status_code \
        == 403
    sup = intake.auth("supervisor")
    for body, code, field in [
        ({**NEW, "category": "no.such"}, "case.unknown_category", "category"),
        ({**NEW, "title": ""}, "validation.too_short", "title"),
        ({**NEW, "keywords": ["x" * 21]}, "validation.too_long", "keywords.0"),
        ({**NEW, "keywords": [str(i) for i in range(21)]}, "validation.too_long", "keywords"),
        ({**NEW, "answer": "x" * 2001}, "validation.too_long", "answer"),
        ({**NEW, "id": "kb-mine"}, "validation.extra_field", "id"),
    ]:
        r = intake.client.post("/intake/v1/knowledge", json=body, headers=sup)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field), body
    missing = intake.client.put("/intake/v1/knowledge/kb-nothing", json={**NEW, "base_version": 1}, headers=sup)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "knowledge.not_found"
    r = intake.client.get("/intake/v1/knowledge/kb-housing-fund/versions/7", headers=sup)
    assert r.status_code == 404 and r.json()["error"]["code"] == "knowledge.version_not_found"
    r = intake.client.put("/intake/v1/knowledge/kb-housing-fund", json={**NEW, "category": "no.such",
                                                                         "base_version": 1}, headers=sup)
    assert r.status_code == 422
    assert stored(intake) == (0, 0)  # not even the shipped entry's first version was copied
