"""Issue 12: intake's side of routing's order kinds (docs/routing.md "Rules a street office lives by").

- 私事 (the category's 三事 class) is sent as `guidance` on intake.case.submitted: routing ends it with guidance.
- 表扬 may name the unit praised by its code (`praised_unit_code`), sent on to routing.
- routing.case.answered (a suggestion adopted or not, guidance on a 私事) is a line the requester reads and the
  case's status, before routing closes the order."""

from sqlalchemy import func, select

from services.intake.models import Case
from shared.events.routing import CaseAnswered, CaseClosed

from .conftest import work_order
from .test_lifecycle import dispatched

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
