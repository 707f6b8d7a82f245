"""议事 outcome figures on a hand-built set: counts by status and by stage result per community and period,
as JSON and CSV, within the caller's area."""

import csv
import io

from openpyxl import load_workbook

from shared.config import local_zone
from shared.db import utcnow

from .conftest import COMMUNITY, auth, staff
from .helpers import P, convened, on_agenda, proposed, resolved, started


def test_outcome_figures_count_each_matter_and_each_stage_result(client, rt):
    resolved(client, rt)  # on the agenda, three stages passed, resolved (publicizing)
    proposed(client, rt, "楼道堆物清理")  # still proposed
    declined = proposed(client, rt, "广场舞时间")
    client.post(f"{P}/matters/{declined}/decline", headers=staff(rt), json={"reason": "已由物业处理"})
    rejected = on_agenda(client, rt, proposed(client, rt, "收费停车"))
    meeting = convened(client, rt, rejected)
    started(rt, meeting)
    client.post(f"{P}/matters/{rejected}/meetings/{meeting}/record", headers=staff(rt), json={
        "members": 5, "attended": 5, "votes_for": 1, "votes_against": 4, "record": "多数反对",
        "supervisor_present": True})
    period = utcnow().astimezone(local_zone()).strftime("%Y-%m")
    rows = client.get(f"{P}/reports/outcomes", headers=staff(rt), params={"period": period}).json()
    assert len(rows) == 1
    row = rows[0]
    assert row["area_code"] == COMMUNITY
    assert (row["raised"], row["on_agenda"], row["declined"], row["rejected"], row["resolved"], row["open"]) == \
        (4, 2, 1, 1, 1, 2)
    assert row["stages"]["joint_meeting"] == {"passed": 1, "rejected": 1, "no_quorum": 0}
    assert row["stages"]["representatives"]["passed"] == 1
    r = client.get(f"{P}/reports/outcomes.csv", headers=staff(rt), params={"period": period})
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:5] == ["统计期", "区域编码", "区域", "层级", "提出议题"] and table[1][4] == "4"
    x = client.get(f"{P}/reports/outcomes.xlsx", headers=staff(rt), params={"period": period})
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert [c.value for c in sheet[1]][:5] == table[0][:5] and sheet.cell(2, 5).value == 4
    other = client.get(f"{P}/reports/outcomes", headers=staff(rt, "u-community-staff-002"), params={"period": period})
    assert other.json() == []
    assert client.get(f"{P}/reports/outcomes", headers=auth(rt, "u-resident-1"),
                      params={"period": period}).status_code == 403
    assert client.get(f"{P}/reports/outcomes", headers=staff(rt), params={"period": "2026-13"}).status_code == 422
