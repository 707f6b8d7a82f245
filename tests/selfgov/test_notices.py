"""居务公开: a correction is a new version, the old one kept unchanged; residents of the community read the
current notices (each reader counted once per version); other communities' residents do not."""

from .conftest import COMMUNITY, OTHER_COMMUNITY, auth, events, staff
from .helpers import HOUSEHOLD_2, RESIDENT, P


def _published(client, rt) -> dict:
    r = client.post(f"{P}/notices", headers=staff(rt), json={
        "community_code": COMMUNITY, "category": "affairs", "title": "关于小区停车位划线的通知",
        "body": "本月 20 日起对小区道路重新划线，共 46 个车位。"})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_notice_correction_is_kept_as_a_new_version_and_the_old_text_stays(client, rt):
    first = _published(client, rt)
    r = client.post(f"{P}/notices/{first['id']}/corrections", headers=staff(rt),
                    json={"body": "本月 20 日起对小区道路重新划线，共 48 个车位。", "reason": "车位数量有误"})
    assert r.status_code == 201
    second = r.json()
    assert (second["version"], second["series_id"], second["correction_reason"]) == (2, first["id"], "车位数量有误")
    versions = client.get(f"{P}/notices/{second['id']}/versions", headers=auth(rt, RESIDENT)).json()
    assert [(v["version"], v["superseded"]) for v in versions] == [(1, True), (2, False)]
    assert "46 个车位" in versions[0]["body"] and "48 个车位" in versions[1]["body"]
    again = client.post(f"{P}/notices/{first['id']}/corrections", headers=staff(rt), json={"body": "x", "reason": "y"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "notice.superseded"
    listed = client.get(f"{P}/notices", headers=auth(rt, RESIDENT), params={"category": "affairs"}).json()
    assert [n["id"] for n in listed] == [second["id"]]  # the current version only
    assert [e["data"]["version"] for e in events(rt, "selfgov.notice.published")][-2:] == [1, 2]


def test_residents_of_the_community_read_it_and_the_committee_sees_how_many(client, rt):
    notice = _published(client, rt)
    for reader in (RESIDENT, RESIDENT, HOUSEHOLD_2):
        assert client.get(f"{P}/notices/{notice['id']}", headers=auth(rt, reader)).status_code == 200
    assert client.get(f"{P}/notices/{notice['id']}", headers=staff(rt)).status_code == 200  # staff are not counted
    reads = client.get(f"{P}/notices/{notice['id']}/reads", headers=staff(rt)).json()
    assert reads == [{"notice_id": notice["id"], "version": 1, "reads": 2}]
    assert client.get(f"{P}/notices/{notice['id']}/reads", headers=auth(rt, RESIDENT)).status_code == 403
    assert client.get(f"{P}/notices/{notice['id']}", headers=auth(rt, "u-outsider")).status_code == 404
    assert client.get(f"{P}/notices/{notice['id']}", headers=staff(rt, "u-community-staff-002")).status_code == 404
    r = client.post(f"{P}/notices", headers=staff(rt), json={
        "community_code": OTHER_COMMUNITY, "category": "affairs", "title": "t", "body": "b"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "community.not_yours"


def test_a_resident_cannot_open_by_its_id_a_notice_not_yet_published(client, rt):
    r = client.post(f"{P}/notices", headers=staff(rt), json={
        "community_code": COMMUNITY, "category": "affairs", "title": "下月停水通知", "body": "草稿",
        "publish_from": "2099-01-01T00:00:00+08:00", "publish_until": "2099-02-01T00:00:00+08:00"})
    assert r.status_code == 201, r.text
    draft = r.json()["id"]
    hidden = client.get(f"{P}/notices/{draft}", headers=auth(rt, RESIDENT))
    missing = client.get(f"{P}/notices/00000000-0000-0000-0000-000000000000", headers=auth(rt, RESIDENT))
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
    assert client.get(f"{P}/notices/{draft}/versions", headers=auth(rt, RESIDENT)).status_code == 404
    assert client.get(f"{P}/notices/{draft}", headers=staff(rt)).status_code == 200  # the committee's draft
    assert client.get(f"{P}/notices/{draft}/reads", headers=staff(rt)).json()[0]["reads"] == 0  # nobody counted
