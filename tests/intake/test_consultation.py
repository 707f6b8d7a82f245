"""A 小事 the catalogue routes to the residents' consultation (居民议事): no work order, the case follows
the matter's steps (selfgov's events) to settled by the residents, or not adopted."""

from shared.events.selfgov import (
    MatterImplementing,
    MatterOnAgenda,
    MatterPublicized,
    MatterRaised,
    MatterRejected,
    MatterSettled,
)

from .conftest import at, new_id

LIFT = "我们单元想加装电梯，一楼住户有意见，希望社区组织居民协商。"


def step(case: dict, kind, seq: int, **extra):
    return kind(matter_id="m-1", case_id=case["id"], community_code="510107001001000", seq=seq, at=at(seq), **extra)


def test_a_small_matter_of_a_consultation_category_goes_to_the_residents_not_to_a_unit(intake):
    case = intake.submit(category="community.elevator_retrofit", description=LIFT, appeal_type="求助")
    assert case["status"] == "consulting" and case["route"] == "consultation"
    submitted = intake.events("intake.case.submitted")[-1]["data"]
    assert submitted["route"] == "consultation" and submitted["closed_as"] is None  # routing dispatches none
    resolution = new_id()
    for seq, kind, extra in ((1, MatterRaised, {"level": "community", "source": "case"}),
                             (2, MatterOnAgenda, {"representatives": 5, "households": 0}),
                             (3, MatterPublicized, {"resolution_id": resolution, "notice_id": new_id(),
                                                    "ends_at": at(9)}),
                             (4, MatterSettled, {"resolution_id": resolution})):
        assert intake.deliver(step(case, kind, seq, **extra)) == "ack"
    seen = intake.get(case["id"])
    assert seen["status"] == "residents_settled" and seen["status_label"] == "居民议事已解决"
    texts = [e["text"] for e in seen["timeline"]]
    assert any("列入居民议事议程" in t for t in texts) and any("经居民议事解决" in t for t in texts)


def test_an_older_step_delivered_late_changes_nothing_and_a_vote_against_ends_the_case(intake):
    case = intake.submit(category="community.parking_plan", description="小区车位太少，希望重新规划车位，请居民商议。")
    intake.deliver(step(case, MatterOnAgenda, 2, representatives=5, households=0))
    intake.deliver(step(case, MatterRaised, 1, level="community", source="case"))  # late: dropped
    assert intake.get(case["id"])["status"] == "consultation_agenda"
    intake.deliver(step(case, MatterRejected, 3, stage="representatives"))
    assert intake.get(case["id"])["status"] == "consultation_rejected"


def test_praise_or_a_question_about_such_a_category_or_one_with_no_point_is_dispatched(intake):
    praise = intake.submit(category="community.public_space", appeal_type="表扬",
                           description="社区组织大家改造了中心花园，效果很好，谢谢。")
    assert praise["route"] == "dispatch"
    nowhere = intake.submit(category="community.public_space", description="小区公共收益怎么用，希望开会决定。",
                            lat=None, lon=None, coord_system=None, address="玉林北路 2 号院")
    assert nowhere["route"] == "dispatch" and nowhere["status"] == "submitted"


def test_a_small_matter_is_filed_and_follows_every_step_on_postgresql_too(pg_intake):
    """SQLite does not enforce a column's length; PostgreSQL refused `consultation` in cases.route (10) and the
    later steps' statuses (up to 25 characters) in cases.status (20): a resident's 小事 was a 422 there."""
    case = pg_intake.submit(category="community.elevator_retrofit", description=LIFT, appeal_type="求助")
    assert case["status"] == "consulting" and case["route"] == "consultation"
    resolution = new_id()
    seen = []
    for seq, kind, extra in ((1, MatterRaised, {"level": "community", "source": "case"}),
                             (2, MatterOnAgenda, {"representatives": 5, "households": 0}),
                             (3, MatterPublicized, {"resolution_id": resolution, "notice_id": new_id(),
                                                    "ends_at": at(9)}),
                             (4, MatterImplementing, {"resolution_id": resolution, "task_count": 1}),
                             (5, MatterSettled, {"resolution_id": resolution})):
        assert pg_intake.deliver(step(case, kind, seq, **extra)) == "ack"
        seen.append(pg_intake.get(case["id"])["status"])
    assert seen == ["consulting", "consultation_agenda", "consultation_publicized", "consultation_implementing",
                    "residents_settled"]
