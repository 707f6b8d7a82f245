"""intake.case.referred creates the dispute (reporter as applicant, source intake; staff referring it is not the
applicant's consent); intake.case.withdrawn withdraws it when the applicant withdrew that case."""

import uuid
from datetime import UTC, datetime

from services.mediation.service import SPEC
from shared.events import envelope_for
from shared.events.intake import CaseReferred, CaseWithdrawn
from shared.messaging.dispatcher import Outcome

from .conftest import auth, events
from .helpers import CHAIR, RESIDENT, applicant_of

BASE = "/mediation/v1/disputes"


def _deliver(rt, payload):
    return SPEC.dispatcher(rt).handle(envelope_for(payload).to_bytes())


def _referred(case_id):
    return CaseReferred(case_id=case_id, case_no="YL-20260101-0001", category="dispute.neighbour",
                        dispute_type="neighbour", reporter_id=RESIDENT, lat=30.6283, lon=104.052115,
                        at=datetime.now(UTC))


def test_a_referred_case_becomes_a_dispute_once_and_the_applicant_can_withdraw_it(client, rt):
    case_id = str(uuid.uuid4())
    assert _deliver(rt, _referred(case_id)).outcome == Outcome.ACK
    assert _deliver(rt, _referred(case_id)).outcome == Outcome.ACK  # redelivered under a new id: no duplicate
    applied = events(rt, "mediation.case.applied")
    assert len(applied) == 1
    data = applied[0]["data"]
    assert data["case_id"] == case_id and data["source"] == "intake" and data["party_user_ids"] == [RESIDENT]
    mine = client.get("/mediation/v1/disputes", headers=auth(rt, RESIDENT, "resident")).json()
    assert [d["id"] for d in mine] == [data["dispute_id"]]
    view = client.get(f"/mediation/v1/disputes/{data['dispute_id']}", headers=auth(rt, CHAIR)).json()
    assert view["committee_name"] == "玉林北路社区人民调解委员会"  # the community whose area holds the point

    # Staff withdrawing the intake case does not end a mediation; the applicant does.
    _deliver(rt, CaseWithdrawn(case_id=case_id, case_no="YL-20260101-0001", by_id="u-operator-1",
                               at=datetime.now(UTC)))
    assert events(rt, "mediation.case.failed") == []
    _deliver(rt, CaseWithdrawn(case_id=case_id, case_no="YL-20260101-0001", by_id=RESIDENT, at=datetime.now(UTC)))
    failed = events(rt, "mediation.case.failed")
    assert len(failed) == 1 and failed[0]["data"]["reason"] == "withdrawn" and failed[0]["data"]["seq"] == 2
    assert client.get(f"/mediation/v1/disputes/{data['dispute_id']}",
                      headers=auth(rt, RESIDENT, "resident")).json()["status"] == "withdrawn"


def test_an_unknown_dispute_type_from_intake_is_filed_as_other(client, rt):
    payload = _referred(str(uuid.uuid4())).model_copy(update={"dispute_type": "astrology"})
    assert _deliver(rt, payload).outcome == Outcome.ACK
    assert events(rt, "mediation.case.applied")[0]["data"]["dispute_type"] == "other"


def test_staff_referring_a_case_to_mediation_is_not_the_applicants_consent(client, rt):
    referred = CaseReferred(case_id=str(uuid.uuid4()), case_no="YL-20260101-0002", category="dispute.neighbour",
                            dispute_type="neighbour", reporter_id=RESIDENT, lat=30.6283, lon=104.052115,
                            by_id="u-operator-1", at=datetime.now(UTC))  # 转调解 by a dispatcher
    SPEC.dispatcher(rt).handle(envelope_for(referred).to_bytes())
    dispute_id = events(rt, "mediation.case.applied")[0]["data"]["dispute_id"]
    view = client.get(f"{BASE}/{dispute_id}", headers=auth(rt, RESIDENT, "resident")).json()
    assert applicant_of(view)["consent"] == "pending"
    r = client.post(f"{BASE}/{dispute_id}/consent", json={"consent": False, "reason": "我只想让物业处理"},
                    headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 200 and r.json()["status"] == "refused"


def test_the_dispute_number_carries_the_local_day_of_the_application(rt):
    late_evening = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 2 March, 04:30 in the city (CG_TIMEZONE)
    payload = _referred(str(uuid.uuid4())).model_copy(update={"at": late_evening})
    assert _deliver(rt, payload).outcome == Outcome.ACK
    assert events(rt, "mediation.case.applied")[0]["data"]["dispute_no"].startswith("TJ-20260302-")
