"""What the Open311 tests share: intake with government systems' API keys (as identity's events deliver
them), parsing both formats, and a small district of cases each key reaches or does not.

Keys (every one as identity issues it: cgk_<id>_<secret>):
- creator: cases:create only; platform: cases:create + cases:read (the 12345 platform, files case k and
  the dispute d); community: cases:read_public in 玉林北路社区 (510107001001000); elsewhere: the same in
  another street; district: cases:read_public without an area; other_scope: events:subscribe only;
  revoked and expired keys; and an unknown one.
"""

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from shared.auth_state import key_hash
from shared.events.identity import ApiKeyChanged

from .conftest import COMMUNITY, GRID_PATH, STREET_PATH, _intake, dispatched

V2 = "/open311/v2"
OTHER_COMMUNITY, OTHER_GRID = "510107001002000", "510107001002001"
OTHER_GRID_PATH = f"{STREET_PATH}{OTHER_COMMUNITY}/{OTHER_GRID}/"
ELSEWHERE = "510107002000000"  # another street of the district
# WGS-84, inside 玉林北路社区第一网格 (as GPS gives it: Open311's lat/long are WGS-84)
POINT = {"lat": "30.6283", "long": "104.052115"}
ALL_READ = ["cases:create", "cases:read", "cases:read_public"]

KEYS: dict[str, tuple[list[str], str | None]] = {
    "creator": (["cases:create"], None),
    "platform": (["cases:create", "cases:read"], None),
    "community": (["cases:read_public"], COMMUNITY),
    "elsewhere": (["cases:read_public"], ELSEWHERE),
    "district": (["cases:read_public"], None),
    "other_scope": (["events:subscribe"], None),
}


def open311_intake(tmp_path, **settings):
    """Intake (its app answers /open311 too), reading identity's replicated keys afresh on every request: what
    each module's `o311` fixture yields."""
    yield from _intake(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite'}", auth_state_refresh_seconds=0, **settings)


def issue(intake, scopes: list[str], area: str | None = None, *, key_id: str | None = None,
          expires_in: timedelta = timedelta(days=30), revoked: bool = False) -> str:
    """A key as identity issues it, delivered to intake as identity.api_key.changed; the whole key back."""
    key_id = key_id or secrets.token_hex(8)
    secret = f"cgk_{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    assert intake.deliver(ApiKeyChanged(key_id=key_id, key_hash=key_hash(secret), name="12345热线平台", scopes=scopes,
                                        area_code=area, expires_at=now + expires_in,
                                        revoked_at=now if revoked else None, at=now)) == "ack"
    return secret


def key_id_of(secret: str) -> str:
    return secret.split("_")[1]


def h(secret: str | None, **extra) -> dict:
    return {**({"X-API-Key": secret} if secret else {}), **extra}


def parse(response):
    """A response in the format its Content-Type says, as a plain structure: JSON as it is; XML as
    {root: ...} with repeated children as lists (the specification's nesting, read generically)."""
    ctype = response.headers["content-type"]
    if ctype == "application/json; charset=utf-8":
        return response.json()
    assert ctype == "text/xml; charset=utf-8", ctype
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    return {root.tag: element(root)}


def element(node):
    children = list(node)
    if not children:
        return node.text
    names = [c.tag for c in children]
    if len(set(names)) == 1 and (len(names) > 1 or names[0] in LIST_ITEMS):
        return [element(c) for c in children]
    return {c.tag: element(c) for c in children}


LIST_ITEMS = {"service", "attribute", "value", "request", "error", "request_update", "endpoint", "format"}


def child_names(response) -> list[list[str]]:
    """The element names of each item of an XML list answer, in document order."""
    root = ET.fromstring(response.content)
    return [[c.tag for c in item] for item in root]


def post(intake, secret: str | None, fmt: str = "json", headers: dict | None = None, **fields):
    data = {"service_code": "env.garbage", "description": "小区东门垃圾桶三天没有清运，气味很大。", **POINT, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return intake.client.post(f"{V2}/requests.{fmt}", data=data, headers=h(secret, **(headers or {})))


def filed(intake, secret: str, **fields) -> str:
    r = post(intake, secret, **fields)
    assert r.status_code == 201, r.text
    return r.json()[0]["service_request_id"]


def errors_of(response) -> list[dict]:
    body = parse(response)
    if isinstance(body, dict):
        items = body["errors"]
        return [{"code": int(e["code"]), "description": e["description"]} for e in items]
    return body


@dataclass
class World:
    secrets: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    token: str = "platform-retry-1"


def build(intake) -> World:
    """Cases: k (filed over Open311 by the platform, in the first grid), a (a resident's, same grid), c (a
    confidential one there), o (in another community), d (a dispute the platform filed: people's mediation);
    every key of KEYS, a revoked, an expired and an unknown one."""
    w = World({name: issue(intake, scopes, area) for name, (scopes, area) in KEYS.items()})
    w.secrets["revoked"] = issue(intake, ALL_READ, revoked=True)
    w.secrets["expired"] = issue(intake, ALL_READ, expires_in=timedelta(seconds=-1))
    w.secrets["unknown"] = "cgk_0000000000000000_" + "x" * 43
    r = post(intake, w.secrets["platform"], headers={"Idempotency-Key": w.token})
    assert r.status_code == 201, r.text
    k = {"id": r.json()[0]["service_request_id"], "case_no": "k"}
    a = intake.submit(user_id="u-resident-1", description="东门垃圾桶满了，联系我 13912345678")
    c = intake.submit(user_id="u-resident-2", confidential=True, description="我家楼上每晚装修，我是 3 单元 501 的王某",
                      address="玉林北路 12 号 3 单元 501")
    o = intake.submit(user_id="u-resident-4", category="facility.streetlight", description="路灯不亮")
    d = filed(intake, w.secrets["platform"], service_code="dispute.neighbour", description="邻居漏水纠纷，协商未果")
    for case, wo, path in ((k, "wo-k", GRID_PATH), (a, "wo-a", GRID_PATH), (c, "wo-c", GRID_PATH),
                           (o, "wo-o", OTHER_GRID_PATH)):
        assert intake.deliver(dispatched(case, 1, wo, unit_path=path, area_path=path)) == "ack"
    w.ids = {"k": k["id"], "a": a["id"], "c": c["id"], "o": o["id"], "d": d}
    return w


def listed_ids(response) -> set[str]:
    body = parse(response)
    items = body if isinstance(body, list) else (body["service_requests"] or [])
    return {item["service_request_id"] for item in items}


def dump(response) -> str:
    return json.dumps({"status": response.status_code, "body": response.text[:300]}, ensure_ascii=False)
