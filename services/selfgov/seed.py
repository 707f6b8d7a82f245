"""The demo: the directory's areas (deploy/demo/org.geojson), a roster for 玉林北路社区 (a few households, three
residents' representatives, the demo residents among them) and a notice of 居务公开, once."""

from datetime import timedelta

from sqlalchemy import select

from shared.db import utcnow
from shared.runtime import ServiceRuntime

from . import directory, notices, roster
from .models import Member

COMMUNITY = "510107001001000"  # 玉林北路社区
STAFF = "u-community-staff-001"
# (name, phone, household, building, representative): the demo residents' phones are the ones they sign in with.
ROSTER = [
    ("刘淑芬", "13800000001", "7栋2单元501", "7栋", True),
    ("陈建国", "13800000002", "7栋1单元302", "7栋", False),
    ("杨晓燕", "13800000003", "9栋3单元101", "9栋", True),
    ("王德明", "13900000011", "9栋1单元602", "9栋", True),
    ("赵桂兰", "13900000012", "11栋2单元402", "11栋", False),
]


def seed(rt: ServiceRuntime) -> None:
    with rt.unit_of_work() as uow:
        directory.load(uow.session, rt.settings.demo_dir / "org.geojson")
        if uow.session.scalar(select(Member.id).limit(1)):
            return
        index = roster.indexer(rt)
        for name, phone, household, building, representative in ROSTER:
            roster.register(uow.session, index, community_code=COMMUNITY, name=name, phone=phone,
                            household=household, building=building, representative=representative, by=STAFF)
        now = utcnow()
        notices.publish(uow.session, uow.emit, community_code=COMMUNITY, category="finance",
                        title="2026 年第三季度社区公共服务资金使用情况",
                        body="本季度公共服务资金支出 4.2 万元：7 栋楼道照明改造 1.6 万元，小区绿化补植 1.1 万元，"
                             "老年活动室设施 1.5 万元。明细见社区公示栏。",
                        publish_from=now, publish_until=now + timedelta(days=90), by=STAFF, now=now)
