"""The access matrix: every operation of mediation's OpenAPI document, asked by each kind of principal, answers
what services/mediation/access.py promises.

Principals: the applicant and the respondent (each her own account, the respondent linked by her verified
phone), the mediator assigned, a colleague of the same committee who is not, a mediator and the head of
another committee, the committee's head, other staff (an operator, a grid worker, a supervisor, an admin) and
a resident stranger. A dispute is out of scope for anyone who is not a party, its mediator or its committee's
head: 404, the same as a dispute that does not exist. A party doing a mediator's act: 403.
"""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.mediation.service import SPEC
from shared.config import get_settings
from shared.migrate import upgrade
from tests.access_matrix import assert_every_operation_has_a_rule

from .conftest import PHONES, auth
from .helpers import CHAIR, MEDIATOR, RESIDENT, RESIDENT_2, STRANGER

P = "/mediation/v1"
PRINCIPALS = {
    "stranger": (STRANGER, "resident"),
    "operator": ("u-operator-1", "operator"),
    "grid_worker": ("u-grid-worker-001001", "grid_worker"),
    "supervisor": ("u-supervisor-2", "supervisor"),  # heads no committee of this dispute
    "admin": ("u-admin-1", "admin"),
    "other_mediator": ("u-med-xiangxian-002", "mediator"),  # 玉林东路's committee
    "other_head": ("u-med-chair-002", "mediator"),  # 玉林东路's head
    "colleague": ("u-med-wulao-001", "mediator"),  # the same committee, not assigned
    "applicant": (RESIDENT, "resident"),
    "respondent": (RESIDENT_2, "resident"),  # "another party"
    "mediator": (MEDIATOR, "mediator"),
    "head": (CHAIR, "mediator"),
}
STRANGERS = ("stranger", "operator", "grid_worker", "supervisor", "admin", "other_mediator", "other_head", "colleague")
PARTIES = ("applicant", "respondent")
MANAGERS = ("mediator", "head")


def rule(managers: int, parties: int | tuple[int, int], strangers: int = 404) -> dict[str, int]:
    applicant, respondent = parties if isinstance(parties, tuple) else (parties, parties)
    return {**dict.fromkeys(STRANGERS, strangers), "applicant": applicant, "respondent": respondent,
            **dict.fromkeys(MANAGERS, managers)}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PRINCIPALS, status)


READ = rule(200, 200)
MANAGE = rule(200, 403)
CREATE = rule(201, 403)
# An answer for the respondent (party_id in the request): her own, or recorded in person by a mediator of the
# dispute; the applicant may not give it for her.
FOR_RESPONDENT = rule(200, (403, 200))
STAFF = {**everyone(200), "stranger": 403, "applicant": 403, "respondent": 403}
STATS = {**everyone(200), "stranger": 403, "applicant": 403, "respondent": 403, "operator": 403,
         "grid_worker": 403}
# The service's trail: admins, and committee heads (the entries about their committees' disputes).
TRAIL = {**everyone(403), "admin": 200, "head": 200, "other_head": 200}
# Opening a dispute (access.filing): the body names an applicant with a phone, as a walk-in does. Mediators and
# committee heads enter it for their own committee (201); other staff may not (403); a resident applies only for
# herself, and this phone is not hers (422 party.not_own_phone: see test_identity).
APPLY = {**everyone(403), **dict.fromkeys(("other_mediator", "other_head", "colleague") + MANAGERS, 201),
         **dict.fromkeys(("stranger",) + PARTIES, 422)}

D = P + "/disputes/{dispute_id}"
# operation → (the stage of the dispute it needs, expected status per principal, the request)
RULES = {
    f"GET {P}/dispute-types": (None, everyone(200), lambda c, s, h: c.get(f"{P}/dispute-types", headers=h)),
    f"GET {P}/risk-indicators": (None, STAFF, lambda c, s, h: c.get(f"{P}/risk-indicators", headers=h)),
    f"GET {P}/committees": (None, everyone(200), lambda c, s, h: c.get(f"{P}/committees", headers=h)),
    f"GET {P}/mediators": (None, everyone(200), lambda c, s, h: c.get(f"{P}/mediators", headers=h)),
    f"GET {P}/statistics": (None, STATS, lambda c, s, h: c.get(f"{P}/statistics", headers=h)),
    f"GET {P}/ledger": (None, STATS, lambda c, s, h: c.get(f"{P}/ledger", params={"period": "2026"}, headers=h)),
    f"GET {P}/audit": (None, TRAIL, lambda c, s, h: c.get(f"{P}/audit", headers=h)),
    # A request's trace (shared/trace_api.py): the admins'; for anybody else it does not exist.
    f"GET {P}/admin/trace/{{correlation_id}}": (None, {**everyone(404), "admin": 200},
                                                lambda c, s, h: c.get(f"{P}/admin/trace/req-1", headers=h)),
    f"POST {P}/disputes": (None, APPLY, lambda c, s, h: c.post(f"{P}/disputes", headers=h, json={
        "dispute_type": "neighbour", "matter": "楼上漏水到我家天花板", "lat": 30.6283, "lon": 104.052115,
        "coord_system": "wgs84",
        "parties": [{"role": "applicant", "name": "刘淑芬", "phone": "13700000001"},
                    {"role": "respondent", "name": "王某", "phone": "13700000002"}]})),
    f"GET {P}/disputes": ("applied", everyone(200), lambda c, s, h: c.get(f"{P}/disputes", headers=h)),
    f"GET {D}": ("applied", READ, lambda c, s, h: c.get(f"{P}/disputes/{s['id']}", headers=h)),
    f"POST {D}/accept": ("consented", MANAGE, lambda c, s, h: c.post(f"{P}/disputes/{s['id']}/accept", headers=h)),
    f"POST {D}/withdraw": ("applied", rule(403, (200, 403)),
                           lambda c, s, h: c.post(f"{P}/disputes/{s['id']}/withdraw", headers=h)),
    f"POST {D}/terminate": ("accepted", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/terminate", json={"reason": "双方分歧过大"}, headers=h)),
    f"POST {D}/parties": ("applied", CREATE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/parties", json={"role": "respondent", "name": "赵六", "phone": "13700000009"},
        headers=h)),
    f"PATCH {D}/parties/{{party_id}}": ("applied", MANAGE, lambda c, s, h: c.patch(
        f"{P}/disputes/{s['id']}/parties/{s['respondent']}", headers=h,
        json={"role": "respondent", "name": "王建国", "phone": PHONES[RESIDENT_2]})),
    f"POST {D}/parties/{{party_id}}/verification": ("applied", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/parties/{s['respondent']}/verification", json={"method": "id_card"}, headers=h)),
    f"POST {D}/consent": ("applied", FOR_RESPONDENT, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/consent", json={"consent": True}, params={"party_id": s["respondent"]},
        headers=h)),
    f"POST {D}/assign": ("accepted", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/assign", json={"mediator_id": MEDIATOR}, headers=h)),
    f"POST {D}/objections": ("accepted", FOR_RESPONDENT, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/objections", json={"mediator_id": "u-med-lawyer-001", "party_id": s["respondent"]},
        headers=h)),
    f"POST {D}/extensions": ("accepted", CREATE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/extensions", json={"days": 10, "reason": "等待鉴定"}, headers=h)),
    f"POST {D}/extensions/{{extension_id}}/consents": ("extension", FOR_RESPONDENT, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/extensions/{s['extension']}/consents",
        json={"consent": True, "party_id": s["respondent"]}, headers=h)),
    f"POST {D}/sessions": ("accepted", CREATE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/sessions", json={"starts_at": s["when"], "place": "社区调解室"}, headers=h)),
    f"GET {D}/sessions": ("session", READ, lambda c, s, h: c.get(f"{P}/disputes/{s['id']}/sessions", headers=h)),
    f"POST {D}/sessions/{{session_id}}/record": ("session", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/sessions/{s['session']}/record",
        json={"attended_participant_ids": [], "record": "双方到场陈述意见。"}, headers=h)),
    f"POST {D}/risk": ("accepted", CREATE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/risk", json={"indicators": ["vulnerable_party"]}, headers=h)),
    f"GET {D}/risk": ("accepted", MANAGE, lambda c, s, h: c.get(f"{P}/disputes/{s['id']}/risk", headers=h)),
    f"PUT {D}/agreement": ("accepted", MANAGE, lambda c, s, h: c.put(
        f"{P}/disputes/{s['id']}/agreement", json=s["agreement"], headers=h)),
    f"GET {D}/agreement": ("drafted", READ, lambda c, s, h: c.get(f"{P}/disputes/{s['id']}/agreement", headers=h)),
    f"POST {D}/agreement/confirmations": ("drafted", FOR_RESPONDENT, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/agreement/confirmations", json={"party_id": s["respondent"]}, headers=h)),
    f"GET {D}/agreement/document": ("drafted", READ, lambda c, s, h: c.get(
        f"{P}/disputes/{s['id']}/agreement/document", headers=h)),
    # 人民调解员签名: a mediator of the dispute only; its committee's head is not its mediator.
    f"POST {D}/agreement/mediator-signature": ("confirmed", {**MANAGE, "head": 403}, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/agreement/mediator-signature", headers=h)),
    # The committee's seal: its head, or a mediator of the committee (the dispute's).
    f"POST {D}/agreement/seal": ("countersigned", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/agreement/seal", headers=h)),
    f"GET {D}/followups": ("signed", READ, lambda c, s, h: c.get(f"{P}/disputes/{s['id']}/followups", headers=h)),
    f"POST {D}/followups/{{followup_id}}": ("signed", MANAGE, lambda c, s, h: c.post(
        f"{P}/disputes/{s['id']}/followups/{s['followup']}", json={"result": "performed"}, headers=h)),
    f"GET {D}/audit": ("applied", rule(403, 403) | {"head": 200},
                       lambda c, s, h: c.get(f"{P}/disputes/{s['id']}/audit", headers=h)),
}
STAGES = ("applied", "consented", "accepted", "extension", "session", "drafted", "confirmed", "countersigned",
          "signed")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    # Many applications by the same residents, from one address: the matrix is not about the rate limit.
    settings = get_settings(mode="embedded", var_dir=tmp, rate_limits={"dispute.apply": "100000/day",
                                                                       "dispute.apply.address": "100000/hour"})
    upgrade("mediation", settings.database_url("mediation"))
    rt = SPEC.runtime(settings)
    SPEC.seed(rt)
    client = TestClient(SPEC.app(rt))
    headers = {name: auth(rt, user, role) for name, (user, role) in PRINCIPALS.items()}
    yield client, headers
    rt.dispose()


def ok(r, *codes) -> dict:
    assert r.status_code in (codes or (200,)), r.text
    return r.json()


def scenario(client, h, stage: str) -> dict:
    """A dispute of 玉林北路's committee at `stage`: the respondent registered with RESIDENT_2's verified phone
    (and linked when she opened it), MEDIATOR assigned by the committee's head."""
    d = ok(client.post(f"{P}/disputes", headers=h["applicant"], json={
        "dispute_type": "neighbour", "matter": "楼上住户夜间拖动家具、装修噪声，多次沟通无果。", "lat": 30.6283,
        "lon": 104.052115, "coord_system": "wgs84", "requested_mediator_id": MEDIATOR,
        "parties": [{"role": "applicant", "name": "刘淑芬"},
                    {"role": "respondent", "name": "王建华", "phone": PHONES[RESIDENT_2]}]}), 201)
    s = {"id": d["id"], "when": (datetime.now(UTC) + timedelta(days=3)).isoformat()}
    s["respondent"] = next(p["id"] for p in d["parties"] if p["role"] == "respondent")
    ok(client.get(f"{P}/disputes/{d['id']}", headers=h["respondent"]))  # she opens it: linked by her phone
    ok(client.post(f"{P}/disputes/{d['id']}/assign", json={"mediator_id": MEDIATOR}, headers=h["head"]))
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    s["agreement"] = {"facts": "装修噪声纠纷", "terms": [{"party_id": s["respondent"], "obligation": "夜间停止施工",
                                                       "due_at": due}]}
    at = STAGES.index(stage)
    if at >= STAGES.index("consented"):
        ok(client.post(f"{P}/disputes/{d['id']}/consent", json={"consent": True}, headers=h["respondent"]))
    if at >= STAGES.index("accepted"):
        ok(client.post(f"{P}/disputes/{d['id']}/accept", headers=h["head"]))
    if stage == "extension":
        s["extension"] = ok(client.post(f"{P}/disputes/{d['id']}/extensions", headers=h["mediator"],
                                        json={"days": 10, "reason": "等待鉴定"}), 201)["id"]
    if stage == "session":  # it began a minute ago (within the clock's tolerance): it can be recorded
        began = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        s["session"] = ok(client.post(f"{P}/disputes/{d['id']}/sessions", headers=h["mediator"],
                                      json={"starts_at": began, "place": "社区调解室"}), 201)["id"]
    if at >= STAGES.index("drafted"):
        ok(client.put(f"{P}/disputes/{d['id']}/agreement", json=s["agreement"], headers=h["mediator"]))
    if at >= STAGES.index("confirmed"):  # every party signed
        ok(client.post(f"{P}/disputes/{d['id']}/agreement/confirmations", json={}, headers=h["applicant"]))
        ok(client.post(f"{P}/disputes/{d['id']}/agreement/confirmations", json={}, headers=h["respondent"]))
    if at >= STAGES.index("countersigned"):  # and the mediator
        ok(client.post(f"{P}/disputes/{d['id']}/agreement/mediator-signature", headers=h["mediator"]))
    if stage == "signed":  # sealed: in force
        ok(client.post(f"{P}/disputes/{d['id']}/agreement/seal", headers=h["head"]))
        follow = ok(client.get(f"{P}/disputes/{d['id']}/followups", headers=h["mediator"]))
        s["followup"] = next(f["id"] for f in follow if f["kind"] == "performance")
    return s


def test_every_operation_has_a_rule(world):
    client, _ = world
    assert_every_operation_has_a_rule(client.app, RULES)


@pytest.mark.parametrize("operation", sorted(RULES))
def test_each_principal_gets_what_the_policy_says(world, operation):
    client, headers = world
    stage, expected, call = RULES[operation]
    mutating = not operation.startswith("GET ")
    current = scenario(client, headers, stage) if stage else {}
    got = {}
    for name in PRINCIPALS:  # those refused first: a refusal changes nothing, a success may
        r = call(client, current, headers[name])
        got[name] = r.status_code
        if mutating and stage and r.status_code < 300:
            current = scenario(client, headers, stage)
    assert got == {name: expected[name] for name in PRINCIPALS}


def test_lists_hold_only_the_disputes_in_scope(world):
    client, headers = world
    s = scenario(client, headers, "accepted")
    for name in PRINCIPALS:
        listed = [d["id"] for d in client.get(f"{P}/disputes", params={"limit": 200},
                                              headers=headers[name]).json()]
        assert (s["id"] in listed) == (name in PARTIES + MANAGERS), name
