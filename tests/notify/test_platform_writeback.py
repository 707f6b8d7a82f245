"""Issue 13: the progress of a case the 12345 platform gave us is written back to it, signed, in the
platform's own shape (data/platform.json), retried while the platform is down, in order per order number,
with a log per order number and a re-send for admins. The platform is a real server on loopback
(servers.PlatformServer) that checks every signature; before it starts, connections to it are refused."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.config import load_config
from services.notify.models import PlatformUpdate
from services.notify.sender import Sender
from services.notify.templates import TemplateError
from shared.events.routing import CaseExtended, CaseExtensionRequested, CaseReturned, CaseSigned

from .conftest import CACHE_KEY, auth, deliver, loopback_config, messages, send_once
from .payloads import AT, dispatched, evaluated, order_fields, resolved, submitted
from .servers import PlatformServer, free_port

SECRET = "platform-secret"
ORDER = "GD20261123000123"
V1 = "/notify/v1"
# Clocks for the sender, later than anything queued now; each step past the back-off before it.
T0 = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)


def platform_config(servers, port: int, **changes):
    settings = {"enabled": True, "url": f"http://127.0.0.1:{port}/api/gd/v1/feedback", "secret": SECRET,
                "allow_http": True, "retry_delays_seconds": [30, 60, 120, 240]}
    # People's channels off: what the sender claims here is the platform's alone.
    off = {"enabled": False}
    return loopback_config(servers, platform={**settings, **changes}, sms=off, wechat=off, push=off, email=off)


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def platform(rt, servers, port):
    """The deployment's platform settings pointed at `port`, where nothing listens yet; a sender with them."""
    rt.cache[CACHE_KEY] = platform_config(servers, port)
    sender = Sender(rt)
    yield sender
    sender.close()


def the_platform(rt, port) -> PlatformServer:
    return PlatformServer(rt.cache[CACHE_KEY].platform, SECRET, port)


def a_platform_case(rt, case_id="c-p1", order=ORDER):
    """A case imported from the platform, dispatched, then handled step by step (each an hour apart)."""
    deliver(rt, submitted(case_id=case_id, reporter=None, channel="hotline", external_source="12345",
                          external_no=order))
    deliver(rt, dispatched(case_id=case_id, requester=None))
    deliver(rt, CaseSigned(**order_fields(case_id, seq=2, at=AT + timedelta(hours=1)), actor_id="u-grid-worker-001001"))
    deliver(rt, CaseExtended(**order_fields(case_id, seq=3, at=AT + timedelta(hours=2)), approved_by="u-supervisor-1",
                             new_result_deadline=AT + timedelta(days=10), reason="需协调物业"))
    r = resolved(case_id=case_id, requester=None, at=AT + timedelta(hours=3))
    deliver(rt, r.model_copy(update={"result_text": "已联系业主13912345678，垃圾已清运"}))
    deliver(rt, evaluated(case_id=case_id, satisfaction="满意", at=AT + timedelta(days=1)))


def write_backs(rt, case_id="c-p1"):
    return sorted(messages(rt, channel="platform", subject_id=case_id), key=lambda m: m.template)


def test_write_backs_reach_the_platform_in_order_after_it_refused_connections_then_answered_503(rt, platform, port):
    a_platform_case(rt)
    assert len(write_backs(rt)) == 4  # signed, extended, resolved, evaluated (the dispatch is not mapped)

    # Down: nothing listens. Only the first status of the order is tried; the later ones wait for it.
    assert send_once(platform, T0) == 1
    [first] = [m for m in write_backs(rt) if m.attempts]
    assert (first.template, first.status, first.reason) == ("routing.case.signed", "queued", "platform: ConnectError")
    assert send_once(platform, T0 + timedelta(seconds=10)) == 0  # backing off, and still holding the others back

    with the_platform(rt, port) as server:
        server.fail_next = 2  # up, but busy
        assert send_once(platform, T0 + timedelta(seconds=31)) == 1
        assert send_once(platform, T0 + timedelta(seconds=92)) == 1
        assert [m.reason for m in write_backs(rt) if m.attempts] == ["platform: HTTP 503"]
        later = T0 + timedelta(hours=1)
        for _ in range(6):
            send_once(platform, later)
        assert server.rejected == 0
        got = server.received

    codes = [u["clzt"] for u in got]
    assert codes == ["20", "40", "50", "60"]  # signed, extended, resolved, evaluated: the order they happened
    assert all(m.status == "sent" for m in write_backs(rt))
    signed, extended, result, rating = got
    assert signed == {"gdbh": ORDER, "clzt": "20", "clztmc": "已签收", "clsj": "2026-11-23 11:00:00",
                      "xtbh": "2026-11-000001", "cldw": "玉林北路社区第一网格"}
    assert extended["yqsx"] == "2026-12-03 10:00:00"
    # Public text only: the phone a handler typed into the result is masked.
    assert result["bjlx"] == "1" and "13912345678" not in result["bjnr"] and "垃圾已清运" in result["bjnr"]
    assert (rating["myd"], rating["sfjj"], rating["sflx"]) == ("1", "1", "1") and "cldw" not in rating
    # X-Nonce is the write-back's id: the one the log shows.
    event_of = {m.id: m.template for m in write_backs(rt)}
    assert [event_of[n] for n in server.nonces] == ["routing.case.signed", "routing.case.extended",
                                                    "routing.case.resolved", "intake.case.evaluated"]


def test_a_write_back_the_platform_refuses_is_given_up_the_next_goes_and_an_admin_re_sends_it(
        rt, platform, port, client):
    a_platform_case(rt)
    admin = auth(rt, "u-admin-1", "admin")
    with the_platform(rt, port) as server:
        server.refuse[ORDER] = "E102"
        send_once(platform, T0)  # the sign-for: refused by the platform (its state did not allow it)
        server.refuse.clear()
        for _ in range(5):
            send_once(platform, T0)
        assert [u["clzt"] for u in server.received] == ["40", "50", "60"]

        log = client.get(f"{V1}/admin/platform/orders/{ORDER}/updates", headers=admin).json()
        assert [(e["status_code"], e["status"]) for e in log] == [("20", "failed"), ("40", "sent"), ("50", "sent"),
                                                                  ("60", "sent")]
        refused = log[0]
        assert refused["last_error"] == "platform: refused, code=E102" and refused["dead_at"] is not None
        assert refused["attempts"] == 1 and refused["case_id"] == "c-p1" and refused["order_no"] == ORDER
        assert log[1]["last_error"] is None and log[1]["sent_at"] is not None

        server.seen.clear()  # its nonces are remembered for the 5 minutes a timestamp is valid: some time later
        r = client.post(f"{V1}/admin/platform/updates/{refused['id']}/resend", headers=admin)
        assert r.status_code == 200 and (r.json()["status"], r.json()["attempts"]) == ("queued", 0)
        again = client.post(f"{V1}/admin/platform/updates/{refused['id']}/resend", headers=admin)
        assert (again.status_code, again.json()["error"]["code"]) == (409, "notify.delivery_pending")
        send_once(platform, T0)
        assert [u["clzt"] for u in server.received] == ["40", "50", "60", "20"]
        assert server.nonces[-1] == refused["id"]  # the same write-back, the same nonce
    assert client.get(f"{V1}/admin/platform/orders/NO-SUCH-ORDER/updates", headers=admin).json() == []
    assert client.post(f"{V1}/admin/platform/updates/nope/resend", headers=admin).status_code == 404


def test_a_status_waits_while_an_earlier_one_of_its_order_backs_off_but_another_order_does_not(rt, platform, port):
    other = "GD20261123000999"
    a_platform_case(rt, "c-p1", ORDER)
    a_platform_case(rt, "c-p2", other)
    with the_platform(rt, port) as server:
        server.busy.add(ORDER)
        assert send_once(platform, T0) == 2  # the first status of each order, at once: one is refused 503
        assert send_once(platform, T0) == 1  # the other order's second; ORDER's second waits for its first
        assert send_once(platform, T0) == 1
        assert [(u["gdbh"], u["clzt"]) for u in server.received] == [(other, "20"), (other, "40"), (other, "50")]
        server.busy.clear()
        for _ in range(8):
            send_once(platform, T0 + timedelta(minutes=5))
        assert [u["clzt"] for u in server.received if u["gdbh"] == ORDER] == ["20", "40", "50", "60"]
        assert [u["clzt"] for u in server.received if u["gdbh"] == other] == ["20", "40", "50", "60"]


def test_only_the_platforms_cases_and_their_lead_orders_steps_are_written_back(rt, platform):
    deliver(rt, submitted(case_id="c-app"))  # a resident's own case from the app
    deliver(rt, dispatched(case_id="c-app"))
    deliver(rt, CaseSigned(**order_fields("c-app", seq=2), actor_id="u-grid-worker-001001"))
    deliver(rt, submitted(case_id="c-p1", reporter=None, channel="hotline", external_source="12345",
                          external_no=ORDER))
    deliver(rt, dispatched(case_id="c-p1", requester=None))
    deliver(rt, dispatched(case_id="c-p1", requester=None, role="assist").model_copy(
        update={"work_order_id": "wo-assist", "unit_name": "城管执法中队"}))
    deliver(rt, CaseSigned(**order_fields("c-p1", seq=2, work_order_id="wo-assist"), actor_id="u-dept-1"))
    deliver(rt, CaseReturned(**order_fields("c-p1", seq=3), actor_id="u-grid-worker-001001",
                             reason="不属于本网格，联系人13912345678", legal_basis="《职责清单》第3条"))
    [returned] = messages(rt, channel="platform")
    assert returned.template == "routing.case.returned" and returned.subject_id == "c-p1"
    with rt.uow() as session:
        body = json.loads(session.get(PlatformUpdate, returned.id).body)
    assert body["thyy"].startswith("不属于本网格") and "13912345678" not in body["thyy"]
    assert body["thyj"] == "《职责清单》第3条" and body["clzt"] == "30"
    # The same event again (a redelivery) is written back once.
    env, _ = deliver(rt, CaseSigned(**order_fields("c-p1", seq=4, at=AT + timedelta(hours=1)), actor_id="u-g"))
    deliver(rt, CaseSigned(**order_fields("c-p1", seq=4, at=AT + timedelta(hours=1)), actor_id="u-g"), env)
    assert len(messages(rt, channel="platform")) == 2


def test_the_body_is_sealed_at_rest(rt, platform):
    a_platform_case(rt)
    with rt.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT body FROM platform_updates")]
    assert stored and not any("垃圾已清运" in b or ORDER in b for b in stored)


def test_without_its_secret_the_write_back_is_off_and_nothing_is_queued(rt, servers, port):
    cfg = platform_config(servers, port, secret=None)
    assert cfg.platform.enabled is False
    rt.cache[CACHE_KEY] = cfg
    a_platform_case(rt)
    assert messages(rt, channel="platform") == []


@pytest.mark.parametrize("change, problem", [
    ({"statuses": {"routing.case.warned": {"code": "99", "name": "预警"}}}, "routing.case.warned cannot be written"),
    ({"fields": {"order_no": ""}}, "no name for order_no"),
    ({"outcomes": {"解释到位": ""}}, "no code for 解释到位"),
    ({"url": "http://12345.example.gov.cn/feedback"}, "url: must be https"),
])
def test_start_up_refuses_a_platform_file_that_cannot_be_followed(change, problem):
    with pytest.raises(TemplateError, match=problem):
        load_config(overrides={"platform": change})


def test_the_shipped_platform_file_maps_every_status_field_outcome_and_rating():
    cfg = load_config()
    assert set(cfg.platform.statuses) >= {"routing.case.signed", "routing.case.returned", "routing.case.extended",
                                          "routing.case.resolved", "intake.case.evaluated"}
    assert cfg.platform.url.startswith("https://") and cfg.platform.success is not None


def test_an_extension_asked_for_is_written_back_with_its_reason_masked(rt, platform, port):
    deliver(rt, submitted(case_id="c-x", reporter=None, channel="hotline", external_source="12345",
                          external_no="GD20261123000777"))
    deliver(rt, dispatched(case_id="c-x", requester=None))
    deliver(rt, CaseExtensionRequested(**order_fields("c-x", seq=2, at=AT + timedelta(hours=1)), extension_id=7,
                                       requested_by="u-grid-worker-001001", working_days=5,
                                       reason="需协调物业，联系电话13912345678"))
    with the_platform(rt, port) as server:
        assert send_once(platform, T0) == 1
        [asked] = server.received
    assert (asked["gdbh"], asked["clzt"], asked["clztmc"]) == ("GD20261123000777", "35", "申请延期")
    assert asked["thyy"] == "需协调物业，联系电话139****5678"  # public text only
