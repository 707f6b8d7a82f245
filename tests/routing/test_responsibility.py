"""The responsibility list (职责清单) decides who acts, and says why: a listed rule, the 三事 rule
of the matter's class, the area where it is, or the fallback owner; a new version is validated
(every problem named in Chinese, nothing saved) before it is used."""

from sqlalchemy import select

from services.routing import responsibility
from services.routing.models import WorkOrder

from .conftest import COMMUNITY1, DISTRICT, STREET, URBAN


def test_responsibility_list_sends_water_to_the_water_company_and_records_the_rule(h):
    case_id = h.submit(category="utility.water", matter_class="大事", urgency="紧急")
    order = h.lead(case_id)
    assert order["unit_code"] == "510107900006000"
    assert order["rule_id"] == "rule:water" and "职责清单V1·规则water" in order["rule"]
    assert order["clock_profile"] == "紧急"


def test_lead_and_assisting_units_and_the_lead_event_comes_last(h):
    case_id = h.submit(category="safety.group_rental", matter_class="大事")
    events = [p for _, p in h.events()]
    assert [(p.role, p.unit_code) for p in events] == [("assist", "510107900004000"), ("lead", "510107900002000")]
    assert events[0].requester_id is None and events[1].requester_id == "u-resident-1"
    assert events[0].seq < events[1].seq
    orders = h.orders(case_id)
    lead = next(o for o in orders if o["role"] == "lead")
    assert all(o["lead_id"] == lead["id"] for o in orders if o["role"] == "assist")


def test_the_three_matter_classes(h):
    # 大事 with no department in the list: the street takes it (and may whistle).
    big = h.lead(h.submit(category="safety.other", matter_class="大事"))
    assert big["unit_code"] == STREET and big["rule_id"] == "matter:大事"
    # 私事: guidance from the community.
    private = h.lead(h.submit(category="property.fee", matter_class="私事"))
    assert private["unit_code"] == COMMUNITY1 and "引导" in private["rule"]


def test_a_new_responsibility_version_is_validated_and_then_used(h):
    bad = {"rules": [{"id": "x", "category": "env.garbage", "unit_code": "999"}], "matter_classes": {}}
    r = h.post("/responsibility", "supervisor", {"document": bad})
    assert r.status_code == 422 and r.json()["error"]["code"] == "responsibility.invalid"
    assert "999" in r.json()["error"]["detail"] and "reason" in r.json()["error"]["detail"]
    good = {"rules": [{"id": "garbage", "category": "env.garbage", "area": STREET, "unit_code": URBAN,
                       "reason": "街道环卫外包由城管统一监管"}], "matter_classes": {}}
    assert h.post("/responsibility", "grid", {"document": good}).status_code == 403
    r = h.post("/responsibility", "supervisor", {"document": good, "note": "调整"})
    assert r.status_code == 201 and r.json()["version"] == 2
    order = h.lead(h.submit())
    assert order["unit_code"] == URBAN and order["rule_version"] == 2 and order["rule_id"] == "rule:garbage"


def test_every_district_point_outside_grids_uses_the_area_rule(h):
    order = h.lead(h.submit(matter_class=None, point=(104.038, 30.622)))
    assert order["unit_code"] == DISTRICT and order["rule_id"] == "area"
    with h.rt.uow() as session:
        assert session.scalars(select(WorkOrder.period)).first() is not None


def test_a_list_document_names_every_problem_in_chinese_and_saves_nothing(h):
    bad = {"rules": [
        {"id": "a", "category": "env.garbage", "unit_code": URBAN, "unit_type": "police", "reason": "两个承办"},
        {"id": "a", "category": "", "level": "planet", "reason": "编号重复"},
        "not a rule",
        {"id": "b", "category": "env.*", "unit_code": URBAN, "area": "123", "reason": "区域不存在"},
    ], "matter_classes": {"大大事": {"target": "area"}, "小事": {"target": "elsewhere"}},
        "fallback_unit_code": "404"}
    with h.rt.uow() as session:
        problems = responsibility.problems(session, bad)
    assert problems == [
        "rules[0]: unit_code、unit_type、level 必须且只能给一个",
        "rules[1].id: 规则编号重复 a",
        "rules[1].category: 缺少类别（可用 * 或前缀 env.*）",
        "rules[1].level: 未知层级 planet",
        "rules[2]: 必须是对象",
        "rules[3].area: 区域不存在 123",
        "matter_classes.大大事: 只能是 大事/小事/私事",
        "matter_classes.小事.target: 只能是 department 或 area",
        "fallback_unit_code: 单位不存在 404",
    ]
    assert responsibility.problems(None, {"rules": "none"}) == ["rules: 必须是列表"]
    r = h.post("/responsibility", "supervisor", {"document": bad})
    assert r.status_code == 422 and r.json()["error"]["field"] == "document"
    assert r.json()["error"]["detail"] == "; ".join(problems)
    assert h.client.get("/routing/v1/responsibility", headers=h.headers("grid")).json()["version"] == 1


def test_the_shipped_list_is_valid_against_the_demo_directory(h):
    from services.routing import config

    with h.rt.uow() as session:
        assert responsibility.problems(session, config.default_document()) == []


def test_a_street_supervisor_cannot_publish_the_district_responsibility_list(h):
    everything_to_one_grid = {"rules": [{"id": "a", "category": "*", "area": "*", "unit_code": "510107001001001",
                                         "reason": "测试"}]}
    r = h.post("/responsibility", "street_supervisor", {"document": everything_to_one_grid})
    assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden"
    assert h.client.get("/routing/v1/responsibility", headers=h.headers("street_supervisor")).json()["version"] == 1
    for who in ("supervisor", "admin"):  # the district level
        assert h.post("/responsibility", who, {"document": everything_to_one_grid}).status_code == 201, who


def test_a_rule_reason_must_say_something_and_stay_the_length_of_a_reason(h):
    rule = {"id": "a", "category": "env.garbage", "unit_code": URBAN}
    for reason, problem in (("x" * 501, "rules[0].reason: 过长（最多 500 个字符）"),
                            ("  \u200b ", "rules[0].reason: 必须写明依据"), ("\x00依据", "rules[0].reason: ")):
        r = h.post("/responsibility", "supervisor", {"document": {"rules": [{**rule, "reason": reason}]}})
        assert r.status_code == 422 and r.json()["error"]["code"] == "responsibility.invalid", reason
        assert problem in r.json()["error"]["detail"], r.json()
    long_class = {"rules": [], "matter_classes": {"小事": {"target": "area", "reason": "x" * 501}}}
    assert h.post("/responsibility", "supervisor", {"document": long_class}).status_code == 422
    assert h.post("/responsibility", "supervisor", {"document": {"rules": [{**rule, "reason": "x" * 500}]}}
                  ).status_code == 201


def test_after_a_grid_returns_an_order_the_next_dispatch_says_the_grid_returned_it(h):
    case_id = h.submit()  # inside 玉林北路社区第一网格
    first = h.lead(case_id)
    r = h.post(f"/work-orders/{first['id']}/return", "grid", {"reason": "不属本网格职责", "legal_basis": "职责清单"})
    assert r.status_code == 200, r.text
    second = h.lead(case_id)
    assert second["unit_code"] == COMMUNITY1
    assert "不在任何网格内" not in second["rule"]
    assert "网格玉林北路社区第一网格（510107001001001）已退单" in second["rule"] and COMMUNITY1 in second["rule"]
