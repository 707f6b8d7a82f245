"""Quiet hours (urgent bypasses), per-number limits, and template and rule files checked at load."""

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.config import data_dir, load_config
from services.notify.templates import Catalogue, TemplateError

from .conftest import NIGHT, deliver, drain, events, messages, send_once, set_person
from .payloads import overdue, submitted

TWO_AM = datetime(2030, 1, 2, 18, 0, tzinfo=UTC)  # 02:00 on 3 January in Chengdu
SEVEN_AM = datetime(2030, 1, 2, 23, 0, tzinfo=UTC)  # 07:00 on 3 January in Chengdu


def test_a_message_in_quiet_hours_waits_until_they_end(rt, sender, servers):
    deliver(rt, submitted())
    assert send_once(sender, NIGHT) == 0
    [m] = messages(rt, channel="sms")
    assert (m.status, m.next_attempt_at, m.reason) == ("queued", SEVEN_AM, "quiet_hours")
    assert send_once(sender, SEVEN_AM - timedelta(minutes=1)) == 0 and servers["sms"].sent == []
    assert send_once(sender, SEVEN_AM) == 1 and len(servers["sms"].sent) == 1


def test_an_urgent_message_is_sent_in_quiet_hours(rt, sender, servers):
    deliver(rt, overdue())  # workorder.overdue is urgent
    drain(sender, now=NIGHT)
    assert {s["phone"] for s in servers["sms"].sent} == {"13800000005"}  # the handler; the supervisor has no SMS
    assert messages(rt, channel="sms", recipient_id="u-grid-worker-001001")[0].status == "sent"


def test_the_recipients_own_quiet_hours_count(rt, sender, servers):
    set_person(rt, "u-resident-1", quiet_start="12:00", quiet_end="14:00")
    deliver(rt, submitted())
    assert send_once(sender, NIGHT) == 1  # 23:30 is fine for this one


def test_at_most_the_daily_limit_of_sms_per_number_and_template(rt, sender, servers):
    set_person(rt, "u-resident-1", sms_daily_limit=3, email="r1@example.com")
    day = NIGHT.replace(hour=3)
    for i in range(5):
        deliver(rt, submitted(case_id=f"c-{i}"))
    drain(sender, now=day)
    assert len(servers["sms"].sent) == 3
    limited = [m for m in messages(rt, channel="sms") if m.status == "suppressed"]
    assert len(limited) == 2 and {m.reason for m in limited} == {"limit: sms per number and template per day"}
    # the two over the limit went by the next channel instead
    assert len(servers["smtp"].handler.messages) == 2
    assert len(events(rt, "notify.message.suppressed")) == 2
    # the next day counts afresh
    deliver(rt, submitted(case_id="c-next"))
    drain(sender, now=day + timedelta(days=1))
    assert len(servers["sms"].sent) == 4


def test_messages_deferred_by_quiet_hours_do_not_use_up_the_daily_sms_limit(rt, sender, servers):
    # Two SMS deferred at 02:00 and sent at 07:00 the same local day are two sends, not four.
    set_person(rt, "u-resident-1", sms_daily_limit=3)
    deliver(rt, submitted(case_id="c-1"))
    deliver(rt, submitted(case_id="c-2"))
    assert send_once(sender, TWO_AM) == 0
    drain(sender, now=SEVEN_AM)
    assert len(servers["sms"].sent) == 2
    assert {m.status for m in messages(rt, channel="sms")} == {"sent"}


def raw_templates() -> dict:
    return json.loads((data_dir() / "templates.json").read_text(encoding="utf-8"))


def load_catalogue(sign_name: str, allowed_links: list[str]) -> Catalogue:
    return Catalogue(raw_templates(), sign_name, allowed_links)


def test_every_shipped_template_passes_the_rules():
    catalogue = load_catalogue("玉林街道", ["https://12345.yulin.example.gov.cn/"])
    assert "case.accepted" in catalogue.templates and raw_templates()["version"] >= 1
    assert "case.accepted" in load_config().catalogue.templates  # the deployment's, checked when the config loads


def test_a_rule_naming_a_template_that_does_not_exist_is_refused_when_loaded(tmp_path):
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)
    rules = json.loads((tmp_path / "rules.json").read_text(encoding="utf-8"))
    rules["events"]["intake.case.submitted"][0]["template"] = "case.no_such_template"
    (tmp_path / "rules.json").write_text(json.dumps(rules), encoding="utf-8")
    with pytest.raises(TemplateError, match="case.no_such_template"):
        load_config(tmp_path)


@pytest.mark.parametrize("change, rule", [
    ({"sms": {"code": "X",
              "text": "您的诉求${case_no}已派至${unit_name}办理，详情请登录应用查看，如有疑问请拨打热线电话咨询。"}},
     "over one segment"),
    ({"sms": {"code": "X", "text": "详情 https://12345.yulin.example.gov.cn/c/${case_no}"}}, "links must be fixed"),
    ({"sms": {"code": "X", "text": "详情 https://evil.example.com/"}}, "allowed prefixes"),
    ({"body": ["您的诉求 {phone}", "x {phone}"]}, "undeclared variables"),
    ({"wechat": {"template_id": "t", "page": "pages/{case_no}", "data": {}}}, "page must be fixed"),
    ({"wechat": {"template_id": "t", "page": "p", "data": {"phrase1": "已经受理完毕了"}}}, "over 5"),
])
def test_a_template_breaking_a_rule_is_refused_when_loaded(change, rule):
    raw = raw_templates()
    raw["templates"]["case.dispatched"].update(change)
    with pytest.raises(TemplateError, match=rule):
        Catalogue(raw, "玉林街道", ["https://12345.yulin.example.gov.cn/"])


def test_personal_data_in_sms_or_wechat_variables_is_refused():
    catalogue = load_catalogue("玉林街道", [])
    with pytest.raises(TemplateError, match="personal data"):
        catalogue.sms("case.dispatched", {"case_no": "2026-11-000001", "unit_name": "13812345678"})
    with pytest.raises(TemplateError, match="pattern"):
        catalogue.sms("case.accepted", {"case_no": "张三 13812345678"})
    with pytest.raises(TemplateError, match="missing"):
        catalogue.render("case.dispatched", {"case_no": "2026-11-000001"})


def test_an_sms_stays_within_one_segment_with_the_longest_values():
    catalogue = load_catalogue("玉林街道", [])
    _, params, text = catalogue.sms("case.dispatched", {"case_no": "2026-11-000001", "unit_name": "长" * 40})
    assert text.startswith("【玉林街道】") and len(text) <= 70 and len(params["unit_name"]) == 20
