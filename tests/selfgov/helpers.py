"""Walking a matter through its steps over the API, and letting time pass (a meeting's start, the end of a
publication) by moving the recorded times back, as the clock would."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.selfgov.models import Matter, Meeting

from .conftest import COMMUNITY, auth, staff

P = "/selfgov/v1"
RESIDENT, REP_3, REP_4, HOUSEHOLD_2 = "u-resident-1", "u-resident-3", "u-rep-4", "u-resident-2"


def later(days: int = 5) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def proposed(client, rt, title: str = "7栋加装电梯") -> str:
    r = client.post(f"{P}/matters", headers=auth(rt, RESIDENT), json={
        "community_code": COMMUNITY, "title": title, "description": "7栋住户多为老人，提议加装电梯，费用按楼层分摊。"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def seconded(client, rt, matter_id: str) -> None:
    r = client.post(f"{P}/matters/{matter_id}/seconds", headers=auth(rt, REP_3), json={})
    assert r.status_code == 201, r.text


def on_agenda(client, rt, matter_id: str | None = None) -> str:
    matter_id = matter_id or proposed(client, rt)
    seconded(client, rt, matter_id)
    r = client.post(f"{P}/matters/{matter_id}/agenda", headers=staff(rt))
    assert r.status_code == 200, r.text
    return matter_id


def started(rt, meeting_id: str) -> None:
    """The meeting's time has come."""
    with rt.uow() as session:
        session.execute(update(Meeting).where(Meeting.id == meeting_id)
                        .values(starts_at=datetime.now(UTC) - timedelta(minutes=5)))


def publication_over(rt, matter_id: str) -> None:
    with rt.uow() as session:
        session.execute(update(Matter).where(Matter.id == matter_id)
                        .values(publication_ends_at=datetime.now(UTC) - timedelta(minutes=1)))


def convened(client, rt, matter_id: str) -> str:
    r = client.post(f"{P}/matters/{matter_id}/meetings", headers=staff(rt), json={
        "starts_at": later(), "place": "玉林北路社区议事厅", "notice": "定于下周召开会议商议7栋加装电梯事项。"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def representative_ids(client, rt) -> list[str]:
    roster = client.get(f"{P}/communities/{COMMUNITY}/members", headers=staff(rt)).json()
    return [m["id"] for m in roster if m["representative"]]


def stage_passed(client, rt, matter_id: str, resolution: str | None = None) -> dict:
    """The current stage's meeting called, held, and passed (every representative present and for)."""
    meeting_id = convened(client, rt, matter_id)
    started(rt, meeting_id)
    matter = client.get(f"{P}/matters/{matter_id}", headers=staff(rt)).json()
    body = {"votes_for": 3, "votes_against": 0, "record": "与会人员一致同意。", "supervisor_present": True}
    if matter["stage"]["code"] == "representatives":
        body["attendee_member_ids"] = representative_ids(client, rt)
    else:
        body |= {"members": 5, "attended": 4}
    if resolution:
        body["resolution_text"] = resolution
    r = client.post(f"{P}/matters/{matter_id}/meetings/{meeting_id}/record", headers=staff(rt), json=body)
    assert r.status_code == 200, r.text
    return r.json()


def resolved(client, rt, matter_id: str | None = None) -> str:
    matter_id = on_agenda(client, rt, matter_id)
    stage_passed(client, rt, matter_id)
    stage_passed(client, rt, matter_id)
    stage_passed(client, rt, matter_id, resolution="同意7栋加装电梯，费用按楼层系数分摊，由社区协调施工。")
    return matter_id
