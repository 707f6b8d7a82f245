"""Walks a dispute through the API the way a resident and a committee would."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from services.mediation.models import MediationSession, audit

from .conftest import PHONES, auth

RESIDENT = "u-resident-1"
RESIDENT_2 = "u-resident-2"
STRANGER = "u-resident-3"
MEDIATOR = "u-mediator-1"  # 玉林北路社区人民调解委员会
CHAIR = "u-med-chair-001"  # that committee's head
# A place as an application sends it: every point says its coordinate system (GPS gives WGS-84).
GRID_1 = {"lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84"}  # inside 玉林北路社区


def apply(client, rt, *, respondent_user: str | None = None, dispute_type: str = "neighbour", **extra) -> dict:
    """`respondent_user`: the respondent is registered with that resident's verified phone, so she is the
    respondent once she opens the dispute (the applicant cannot name anybody's account)."""
    respondent = {"role": "respondent", "name": "王建华", "phone": "13900001111", "address": "玉林北路5号3单元502"}
    if respondent_user:
        respondent["phone"] = PHONES[respondent_user]
    body = {"dispute_type": dispute_type, "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。",
            "claims": "晚十点后停止噪声作业", **GRID_1,
            "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13800000001"}, respondent], **extra}
    r = client.post("/mediation/v1/disputes", json=body, headers=auth(rt, RESIDENT, "resident"))
    assert r.status_code == 201, r.text
    return r.json()


def respondent_of(dispute: dict) -> dict:
    return next(p for p in dispute["parties"] if p["role"] == "respondent")


def applicant_of(dispute: dict) -> dict:
    return next(p for p in dispute["parties"] if p["role"] == "applicant")


def head(rt, dispute: dict) -> dict:
    """The committee head's headers (data/committees.json: community chairs; u-supervisor-1 for the others)."""
    if dispute["committee_name"].endswith("社区人民调解委员会"):
        return auth(rt, CHAIR if dispute["committee_name"].startswith("玉林北路") else "u-med-chair-002")
    return auth(rt, "u-supervisor-1", "supervisor")


def verify_in_person(client, rt, dispute: dict, party: dict, headers: dict | None = None) -> dict:
    """The committee's head saw the party's ID card (核对当事人身份): her answers may then be recorded in person."""
    r = client.post(f"/mediation/v1/disputes/{dispute['id']}/parties/{party['id']}/verification",
                    json={"method": "id_card"}, headers=headers or head(rt, dispute))
    assert r.status_code == 200, r.text
    return r.json()


def accepted(client, rt, **kw) -> dict:
    """Applied, the respondent verified in person and her consent recorded by the committee's head, accepted and
    assigned."""
    d = apply(client, rt, **kw)
    chair = head(rt, d)
    verify_in_person(client, rt, d, respondent_of(d), chair)
    r = client.post(f"/mediation/v1/disputes/{d['id']}/consent", json={"consent": True},
                    params={"party_id": respondent_of(d)["id"]}, headers=chair)
    assert r.status_code == 200, r.text
    r = client.post(f"/mediation/v1/disputes/{d['id']}/accept", headers=chair)
    assert r.status_code == 200, r.text
    return r.json()


def sign_and_seal(client, rt, dispute: dict, mediator: str | None = None) -> dict:
    """After every party signed (confirmed): the dispute's mediator signs and the committee's head records the
    seal; the agreement takes effect (人民调解法 第二十九条). Returns the agreement."""
    mediator = mediator or dispute["mediators"][0]["id"]
    r = client.post(f"/mediation/v1/disputes/{dispute['id']}/agreement/mediator-signature", headers=auth(rt, mediator))
    assert r.status_code == 200, r.text
    r = client.post(f"/mediation/v1/disputes/{dispute['id']}/agreement/seal", headers=head(rt, dispute))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "effective", r.text
    return r.json()


def audit_rows(rt, dispute_id: str | None, action: str) -> list[tuple]:
    """(user, allowed, capacity) of each audited read of `action`, in order (the service's audit trail)."""
    subject = audit.c.subject_id.is_(None) if dispute_id is None else audit.c.subject_id == dispute_id
    with rt.uow() as s:
        rows = s.execute(select(audit).where(subject, audit.c.action == action).order_by(audit.c.id)).all()
    details = [json.loads(r.detail or "{}") for r in rows]
    return [(r.actor_id, d.get("allowed"), d.get("capacity")) for r, d in zip(rows, details, strict=True)]


def started(rt, session_id: str) -> None:
    """The session's time has come (a session is recorded as held only once it has started)."""
    with rt.uow() as s:
        s.execute(update(MediationSession).where(MediationSession.id == session_id)
                  .values(starts_at=datetime.now(UTC) - timedelta(minutes=5)))
