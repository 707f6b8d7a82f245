"""The work order in the OpenAPI document: every step that answers the order says so with a described model,
and the answers sent are that model, field for field, as the view builds them."""

from datetime import datetime

from fastapi.encoders import jsonable_encoder

from services.routing import access, views
from services.routing.models import WorkOrder
from services.routing.schemas import WorkOrderDetail, WorkOrderView
from shared.auth import User

from .conftest import URBAN, USERS

V1 = "/routing/v1"
# Every endpoint whose answer is the work order (detail: with its timeline, clocks, whistles and extensions).
ANSWER_THE_ORDER = {
    ("get", "/work-orders/{order_id}"): "WorkOrderDetail",
    **{("post", f"/work-orders/{{order_id}}/{step}"): "WorkOrderView" for step in (
        "sign", "contact", "resolve", "answer", "verify", "close", "return", "reassign", "whistle", "report",
        "supervise", "exclusion")},
    ("post", "/cases/{case_id}/designate"): "WorkOrderView",
}


def chinese_first(text: str | None) -> bool:
    return bool(text) and "\u4e00" <= text[0] <= "\u9fff"


def undescribed(doc: dict, name: str, seen: set[str] | None = None) -> list[str]:
    """The properties of a component, and of the components it holds, without a Chinese-first description."""
    seen = seen if seen is not None else set()
    if name in seen:
        return []
    seen.add(name)
    missing = []
    for field, prop in doc["components"]["schemas"][name].get("properties", {}).items():
        if not chinese_first(prop.get("description")):
            missing.append(f"{name}.{field}")
        for ref in _refs(prop):
            missing += undescribed(doc, ref, seen)
    return missing


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_openapi_document_describes_every_field_of_the_work_order_each_step_answers(h):
    doc = h.client.get("/routing/openapi.json").json()
    for (method, path), model in ANSWER_THE_ORDER.items():
        op = doc["paths"][V1 + path][method]
        ok = op["responses"]["201" if path.endswith("designate") else "200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}, path
    assert undescribed(doc, "WorkOrderDetail") == []
    # A body over the limit is 413 before any endpoint runs, those that take no body included (sign, close).
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("post", "put", "patch"):
                assert "413" in op["responses"], (method, path)
    assert {"timeline", "clocks", "whistles", "extensions", "deadlines", "evaluation", "requester_id"} <= set(
        doc["components"]["schemas"]["WorkOrderDetail"]["properties"])


def same(sent, built, where="") -> None:
    """`sent` (the answer's JSON) says what `built` (the view's dict) holds: the same keys, the same values, a
    time in either of ISO 8601's forms for UTC (Z or +00:00)."""
    if isinstance(built, dict):
        assert isinstance(sent, dict) and set(sent) == set(built), (where, set(sent) ^ set(built))
        for key in built:
            same(sent[key], built[key], f"{where}.{key}")
    elif isinstance(built, list):
        assert isinstance(sent, list) and len(sent) == len(built), where
        for i, (a, b) in enumerate(zip(sent, built, strict=True)):
            same(a, b, f"{where}[{i}]")
    elif isinstance(built, str) and sent != built:
        assert datetime.fromisoformat(sent) == datetime.fromisoformat(built), (where, sent, built)
    else:
        assert sent == built, (where, sent, built)


def built(h, who: str, order_id: str, detail: bool) -> dict:
    uid, role, unit = USERS[who]
    user = User(id=uid, role=role, unit_code=unit, unit_codes=(unit,))
    with h.rt.uow() as session:
        order = session.get(WorkOrder, order_id)
        return jsonable_encoder(views.order(session, order, access.sight(session, user, order), detail=detail))


def test_every_answer_that_is_a_work_order_is_the_documented_model_as_the_view_builds_it(h):
    case_id = h.submit()
    oid = h.lead(case_id)["id"]
    steps = [("sign", "grid", None), ("contact", "grid", {"note": "已电话联系"}),
             ("resolve", "grid", {"outcome": "解决到位", "result_text": "已清运"}),
             ("supervise", "supervisor", {"note": "请尽快结案"}), ("verify", "community", {"passed": True}),
             ("close", "street", None), ("exclusion", "supervisor", {"reason": "系统测试工单不计入考核"})]
    for step, who, body in steps:
        r = h.post(f"/work-orders/{oid}/{step}", who, body)
        assert r.status_code == 200, (step, r.text)
        WorkOrderView.model_validate(r.json())
        same(r.json(), built(h, who, oid, detail=False), step)
    for who in ("grid", "supervisor"):  # the grid worker reads phones masked; a supervisor does not
        r = h.client.get(f"{V1}/work-orders/{oid}", headers=h.headers(who))
        detail = WorkOrderDetail.model_validate(r.json())
        assert len(detail.timeline) == len(steps) + 1 and detail.clocks and detail.deadlines.return_ is not None
        same(r.json(), built(h, who, oid, detail=True), who)
    # The new order a reassignment answers, a whistled department's report, a returned order.
    other = h.lead(h.submit())["id"]
    r = h.post(f"/work-orders/{other}/reassign", "street", {"unit_code": URBAN, "reason": "涉及占道经营"})
    assert r.status_code == 200 and r.json()["unit_code"] == URBAN
    same(r.json(), built(h, "street", r.json()["id"], detail=False), "reassign")
    third = h.lead(h.submit())["id"]
    r = h.post(f"/work-orders/{third}/return", "grid", {"reason": "不属本网格职责", "legal_basis": "职责清单第3条"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    same(r.json(), built(h, "grid", third, detail=False), "return")
