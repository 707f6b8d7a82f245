"""Issue 12: intake's side of routing's order kinds (docs/routing.md "Rules a street office lives by").

- 私事 (the category's 三事 class) is sent as `guidance` on intake.case.submitted: routing ends it with guidance.
- 表扬 may name the unit praised by its code (`praised_unit_code`), sent on to routing.
- routing.case.answered (a suggestion adopted or not, guidance on a 私事) is a line the requester reads and the
  case's status, before routing closes the order."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.intake.models import Case
from shared.events.routing import CaseAnswered, CaseClosed, CaseResolved

from .conftest import dispatched, resolve, work_order

UNIT = "510107001001001"  # 玉林北路社区第一网格


def _submitted(intake) -> dict:
    return intake.events("intake.case.submitted")[-1]["data"]


def test_a_private_matter_is_sent_to_routing_for_guidance_and_a_public_one_is_not(intake):
    fee = intake.submit(category="property.fee", description="物业费上涨不合理，想了解怎么处理。")
    data = _submitted(intake)
    assert data["case_id"] == fee["id"] and data["matter_class"] == "私事" and data["guidance"] is True
    intake.submit()  # 垃圾清运: 小事
    assert _submitted(intake)["guidance"] is False
    intake.submit(category="facility.streetlight", description="路灯不亮")  # 大事
    assert _submitted(intake)["guidance"] is False


def test_a_praise_names_the_unit_praised_and_routing_is_told(intake):
    case = intake.submit(appeal_type="表扬", description="网格员小王每天巡查，垃圾清得很及时，特此表扬。",
                         praised_unit_code=UNIT)
    data = _submitted(intake)
    assert data["case_id"] == case["id"] and data["appeal_type"] == "表扬" and data["praised_unit_code"] == UNIT
    assert intake.get(case["id"])["praised_unit_code"] == UNIT
    plain = intake.submit(appeal_type="表扬", description="社区工作人员热情周到。")
    assert intake.get(plain["id"])["praised_unit_code"] is None and _submitted(intake)["praised_unit_code"] is None


def test_a_praised_unit_on_anything_but_a_praise_or_not_a_unit_code_is_refused_and_changes_nothing(intake):
    with intake.rt.uow() as session:
        before = session.scalar(select(func.count()).select_from(Case))
    for body, code in (({"praised_unit_code": UNIT}, "case.praised_unit_not_praise"),
                       ({"appeal_type": "表扬", "praised_unit_code": "5101070010"}, "case.praised_unit_invalid"),
                       ({"appeal_type": "表扬", "praised_unit_code": "51010700100100A"}, "case.praised_unit_invalid")):
        r = intake.client.post("/intake/v1/cases", headers=intake.auth("resident"), json={
            "category": "env.garbage", "description": "小区垃圾清运及时。", "lat": 30.6283, "lon": 104.052115,
            "coord_system": "wgs84", **body})
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert (error["code"], error["field"]) == (code, "praised_unit_code") and error["message"]
    r = intake.client.post("/intake/v1/cases", headers=intake.auth("resident"), json={
        "category": "env.garbage", "description": "表扬", "appeal_type": "表扬", "praised_unit_code": "9" * 33})
    assert r.status_code == 422 and r.json()["error"]["field"] == "praised_unit_code"
    with intake.rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == before
    assert intake.events("intake.case.submitted") == []


def _answered(case, seq, *, kind, adopted=None, text="感谢建议，已在小区增设分类垃圾桶。", wo="wo-1"):
    return CaseAnswered(**work_order(case, seq, wo), kind=kind, actor_id="u-community-staff-001", adopted=adopted,
                        answer_text=text)


def test_an_answered_suggestion_tells_the_requester_whether_it_was_adopted_then_closes(intake):
    adopted = intake.submit(appeal_type="建议", description="建议小区增设分类垃圾桶。")
    declined = intake.submit(appeal_type="建议", description="建议把垃圾站搬到小区外。", user_id="u-resident-2")
    for case, verdict, wo in ((adopted, True, "wo-1"), (declined, False, "wo-2")):
        intake.deliver(dispatched(case, 1, wo))
        assert intake.deliver(_answered(case, 2, kind="suggestion", adopted=verdict, wo=wo,
                                        text="感谢建议，经研究" + ("予以采纳。" if verdict else "暂不采纳。"))) == "ack"
    view = intake.get(adopted["id"])
    assert view["status"] == "suggestion_answered" and view["status_label"] == "建议已答复"
    assert view["timeline"][-1]["text"] == "您的建议已被采纳：感谢建议，经研究予以采纳。"
    assert view["timeline"][-1]["public"]
    assert view["result_text"] == "感谢建议，经研究予以采纳。" and view["outcome"] is None
    other = intake.get(declined["id"], user_id="u-resident-2")
    assert other["timeline"][-1]["text"] == "您的建议未被采纳：感谢建议，经研究暂不采纳。"
    # Routing closes the order next: the case follows.
    intake.deliver(CaseClosed(**work_order(adopted, 3)))
    view = intake.get(adopted["id"])
    assert view["status"] == "closed" and view["can"]["reopen"]


def test_guidance_on_a_private_matter_is_shown_to_the_requester(intake):
    case = intake.submit(category="property.fee", description="物业费上涨不合理，想了解怎么处理。")
    intake.deliver(dispatched(case, 1))
    guidance = "物业收费属业主与物业之间的事项，可向业委会反映或向市场监管部门咨询。"
    intake.deliver(_answered(case, 2, kind="guidance", text=guidance))
    view = intake.get(case["id"])
    assert view["status"] == "guided" and view["result_text"] == guidance
    assert view["timeline"][-1]["text"] == f"玉林北路社区第一网格的办理指引：{guidance}"
    assert intake.get(case["id"], role="supervisor")["status"] == "guided"


# The callback evaluation (回访) is of handled work: a praise is passed on, a suggestion or a 私事 answered.
RATING = {"contacted": False, "solved": False, "satisfaction": "不满意"}


def _praise_closed(intake) -> dict:
    case = intake.submit(appeal_type="表扬", description="网格员小王每天巡查，垃圾清得很及时，特此表扬。",
                         praised_unit_code=UNIT)
    assert intake.deliver(dispatched(case, 1).model_copy(update={"kind": "praise"})) == "ack"
    assert intake.deliver(CaseClosed(**work_order(case, 2))) == "ack"
    return case


def test_a_praise_cannot_be_evaluated_and_its_can_promises_neither_evaluation_nor_reopen(intake):
    case = _praise_closed(intake)
    view = intake.get(case["id"])
    assert view["status"] == "closed"
    assert view["can"]["evaluate"] is False and view["can"]["reopen"] is False
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation", json=RATING, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.not_evaluable_kind"
    assert r.json()["error"]["message"] == "表扬、建议和私事引导类诉求不进行回访评价"
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/reopen", json={}, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_reopen"
    assert intake.events("intake.case.evaluated") == []


def test_a_resolved_praise_opens_no_callback_window(intake):
    case = intake.submit(appeal_type="表扬", description="社区工作人员热情周到。")
    intake.deliver(dispatched(case, 1).model_copy(update={"kind": "praise"}))
    intake.deliver(CaseResolved(**work_order(case, 2), actor_id="u-grid-worker-001001", outcome="解决到位",
                                result_text="已转达"))
    with intake.rt.uow() as session:
        assert session.get(Case, case["id"]).evaluation_due_at is None
    assert intake.get(case["id"])["can"]["evaluate"] is False


def test_an_answered_suggestion_or_guidance_opens_no_callback_and_cannot_be_evaluated(intake):
    suggestion = intake.submit(appeal_type="建议", description="建议小区增设分类垃圾桶。")
    private = intake.submit(category="property.fee", description="物业费上涨不合理，想了解怎么处理。",
                            user_id="u-resident-2")
    for case, kind, user, wo in ((suggestion, "suggestion", "u-resident-1", "wo-1"),
                                 (private, "guidance", "u-resident-2", "wo-2")):
        intake.deliver(dispatched(case, 1, wo).model_copy(update={"kind": kind}))
        intake.deliver(_answered(case, 2, kind=kind, adopted=True if kind == "suggestion" else None, wo=wo))
        intake.deliver(CaseClosed(**work_order(case, 3, wo)))
        view = intake.get(case["id"], user_id=user)
        assert view["status"] == "closed"
        # reopening from the answer within the window works, and `can` says so; rating does not
        assert view["can"]["evaluate"] is False and view["can"]["reopen"] is True
        r = intake.client.post(f"/intake/v1/cases/{case['id']}/evaluation", json=RATING,
                               headers=intake.auth("resident", user))
        assert r.status_code == 409 and r.json()["error"]["code"] == "case.not_evaluable_kind"
        with intake.rt.uow() as session:
            assert session.get(Case, case["id"]).evaluation_due_at is None
    assert intake.events("intake.case.evaluated") == []


def test_can_reopen_is_true_only_when_reopen_would_succeed(intake):
    # closed without a result (no resolved_at): the endpoint refuses, so `can` does not offer it
    unresolved = intake.submit()
    intake.deliver(dispatched(unresolved, 1))
    intake.deliver(CaseClosed(**work_order(unresolved, 2)))
    assert intake.get(unresolved["id"])["can"]["reopen"] is False
    r = intake.client.post(f"/intake/v1/cases/{unresolved['id']}/reopen", json={}, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.cannot_reopen"
    # resolved, but the window has passed
    late = intake.submit(user_id="u-resident-2")
    resolve(intake, late, "wo-2")
    with intake.rt.uow() as session:
        session.get(Case, late["id"]).resolved_at = datetime(2000, 1, 1, tzinfo=UTC)
    assert intake.get(late["id"], user_id="u-resident-2")["can"]["reopen"] is False
    r = intake.client.post(f"/intake/v1/cases/{late['id']}/reopen", json={},
                           headers=intake.auth("resident", "u-resident-2"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.reopen_window_passed"
    # a handled work case within the window: offered, and it succeeds
    fresh = intake.submit(user_id="u-resident-3")
    resolve(intake, fresh, "wo-3")
    assert intake.get(fresh["id"], user_id="u-resident-3")["can"]["reopen"] is True
    r = intake.client.post(f"/intake/v1/cases/{fresh['id']}/reopen", json={},
                           headers=intake.auth("resident", "u-resident-3"))
    assert r.status_code == 200


def test_a_praise_passed_on_to_the_unit_is_not_said_to_be_handled(intake):
    case = intake.submit(appeal_type="表扬", description="社区工作人员热情周到。")
    intake.deliver(dispatched(case, 1).model_copy(update={"kind": "praise"}))
    view = intake.get(case["id"])
    assert view["timeline"][-1]["text"] == "表扬已转达至玉林北路社区第一网格"
    assert "办理" not in view["timeline"][-1]["text"]
    work = intake.submit(user_id="u-resident-2")
    intake.deliver(dispatched(work, 1, "wo-2"))
    text = intake.get(work["id"], user_id="u-resident-2")["timeline"][-1]["text"]
    assert text == "已派单：由玉林北路社区第一网格办理"
