"""A small district for the access tests: cases held by units in two communities and a department,
one filed by an operator for a caller, and a principal of every role in and out of each scope
(deploy/demo/users.json has two of each staff role; units no demo user has stand for "elsewhere")."""

from dataclasses import dataclass, field

from .conftest import DISTRICT, GRID_PATH, NEAR, STREET, STREET_PATH, dispatched
from .test_attachments import jpeg_with_gps, upload

OTHER_COMMUNITY, OTHER_GRID = "510107001002000", "510107001002001"
OTHER_GRID_PATH = f"{STREET_PATH}{OTHER_COMMUNITY}/{OTHER_GRID}/"
DEPARTMENT, OTHER_DEPARTMENT = "510107900001000", "510107900002000"
DEPARTMENT_PATH = f"/{DISTRICT}/{DEPARTMENT}/"
ELSEWHERE = "510107002000000"  # another street of the district: nobody here works there
CALLER_PHONE = "13812345678"

# name → (role, user id, units or None for the demo user's own, verified phone)
PRINCIPALS: dict[str, tuple[str, str, tuple[str, ...] | None, str | None]] = {
    "reporter": ("resident", "u-resident-1", None, "13800000001"),
    "follower": ("resident", "u-resident-2", None, "13800000002"),
    "caller": ("resident", "u-resident-3", None, CALLER_PHONE),
    "stranger": ("resident", "u-resident-9", None, "13800000009"),
    "operator_own": ("operator", "u-operator-1", None, None),
    "operator_other": ("operator", "u-operator-2", None, None),
    "grid_in": ("grid_worker", "u-grid-worker-001001", None, None),
    "grid_out": ("grid_worker", "u-grid-worker-002001", None, None),
    "community_in": ("community_staff", "u-community-staff-001", None, None),
    "community_out": ("community_staff", "u-community-staff-002", None, None),
    "street_in": ("street_dispatcher", "u-street-dispatcher-1", None, None),
    "street_out": ("street_dispatcher", "u-street-dispatcher-9", (ELSEWHERE,), None),
    "dept_in": ("department_handler", "u-department-handler-900001", None, None),
    "dept_out": ("department_handler", "u-department-handler-900002", None, None),
    "supervisor_in": ("supervisor", "u-supervisor-2", None, None),
    "supervisor_out": ("supervisor", "u-supervisor-9", (ELSEWHERE,), None),
    "mediator": ("mediator", "u-mediator-1", None, None),
    "admin": ("admin", "u-admin-1", None, None),
}


def headers(intake, name: str) -> dict:
    role, user_id, units, phone = PRINCIPALS[name]
    return intake.auth(role, user_id, units=units, phone=phone)


@dataclass
class World:
    a: dict  # the reporter's case in the first grid, a department assisting, a neighbour following
    b: dict  # another resident's case in the same grid
    o: dict  # a case in the other community of the same street
    h: dict  # filed by operator_own for a caller, by phone; not dispatched yet
    attachment: str  # the reporter's photo on case a
    ids: dict = field(default_factory=dict)


def build(intake) -> World:
    att = upload(intake, jpeg_with_gps(), "image/jpeg", user_id="u-resident-1").json()["id"]
    a = intake.submit(user_id="u-resident-1", address="玉林北路 12 号", attachment_ids=[att])
    b = intake.submit(user_id="u-resident-5", description="东门垃圾没人收", **NEAR)
    o = intake.submit(user_id="u-resident-4", category="facility.streetlight", description="路灯不亮")
    h = intake.submit(role="operator", user_id="u-operator-1", channel="hotline", caller_phone=CALLER_PHONE,
                      consent=True, category="utility.water", description="来电反映停水")
    intake.deliver(dispatched(a, 1, "wo-a"))
    intake.deliver(dispatched(a, 1, "wo-a2", "武侯区住建局", role="assist", unit_path=DEPARTMENT_PATH))
    intake.deliver(dispatched(b, 1, "wo-b"))
    intake.deliver(dispatched(o, 1, "wo-o", "玉林北路社区第四网格", unit_path=OTHER_GRID_PATH))
    r = intake.client.post(f"/intake/v1/cases/{a['id']}/join", headers=headers(intake, "follower"))
    assert r.status_code == 200, r.text
    return World(a, b, o, h, att, {"a": a["id"], "b": b["id"], "o": o["id"], "h": h["id"]})


# What each principal lists (GET /cases), by the world's case names.
LISTS = {
    "reporter": {"a"}, "follower": {"a"}, "caller": {"h"}, "stranger": set(),
    "operator_own": {"h"}, "operator_other": set(),
    "grid_in": {"a", "b"}, "grid_out": {"o"},
    "community_in": {"a", "b"}, "community_out": {"o"},
    "street_in": {"a", "b", "o"}, "street_out": set(),
    "dept_in": {"a"}, "dept_out": set(),
    "supervisor_in": {"a", "b", "o"}, "supervisor_out": set(),
    "mediator": set(), "admin": {"a", "b", "o", "h"},
}
assert set(LISTS) == set(PRINCIPALS) and STREET in STREET_PATH and GRID_PATH.startswith(STREET_PATH)
