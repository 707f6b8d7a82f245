"""The REST API: inbox, one's own preferences and contacts (masked), dead letters, digests."""

from datetime import timedelta

from services.notify.config import config_of
from services.notify.digest import send_digests
from services.notify.messages import sender_wakeup
from shared.ids import unit_id

from .conftest import auth, deliver, drain, messages
from .payloads import AT, GRID, dispatched, overdue, submitted, warned


def test_inbox_unread_count_and_mark_read(rt, client):
    deliver(rt, submitted())
    me = auth(rt, "u-resident-1")
    [item] = client.get("/notify/v1/inbox", headers=me).json()
    assert item["title"] == "诉求已受理" and item["read_at"] is None
    assert client.get("/notify/v1/inbox/unread-count", headers=me).json() == {"unread": 1}
    other = client.post(f"/notify/v1/inbox/{item['id']}/read", headers=auth(rt, "u-resident-2"))
    assert other.status_code == 404
    assert client.post(f"/notify/v1/inbox/{item['id']}/read", headers=me).json()["read_at"]
    assert client.get("/notify/v1/inbox/unread-count", headers=me).json() == {"unread": 0}


def test_preferences_are_read_and_changed_by_their_owner(rt, client):
    me = auth(rt, "u-resident-1")
    prefs = client.get("/notify/v1/me/preferences", headers=me).json()
    assert prefs["quiet_start"] == "22:00" and prefs["quiet_end"] == "07:00" and prefs["channels"][0] == "wechat"
    new = {**prefs, "channels": ["sms", "email"], "opt_outs": ["mediation"], "quiet_start": "21:30"}
    assert client.put("/notify/v1/me/preferences", headers=me, json=new).json()["channels"] == ["sms", "email"]
    assert client.get("/notify/v1/me/preferences", headers=me).json()["opt_outs"] == ["mediation"]


def test_bad_preferences_get_a_stable_code_a_message_and_the_field_and_change_nothing(rt, client):
    me = auth(rt, "u-resident-1")
    prefs = client.get("/notify/v1/me/preferences", headers=me).json()
    cases = [({"channels": ["sms", "fax"]}, "notify.unknown_channel", "channels.1"),
             ({"channels": ["sms", "sms"]}, "notify.duplicate_channel", "channels"),
             ({"opt_outs": ["work_order"]}, "notify.category_not_optional", "opt_outs.0"),
             ({"quiet_start": "25:00"}, "notify.bad_time", "quiet_start"),
             ({"timezone": "Mars/Olympus"}, "notify.bad_timezone", "timezone"),
             ({"sms_daily_limit": 500}, "validation.out_of_range", "sms_daily_limit"),
             # a number in a string is not a number: JSON says what it is
             ({"sms_daily_limit": "5"}, "validation.bad_type", "sms_daily_limit")]
    for change, code, field in cases:
        r = client.put("/notify/v1/me/preferences", headers=me, json={**prefs, **change})
        assert r.status_code == 422 and r.json()["error"]["code"] == code and r.json()["error"]["field"] == field
    r = client.put("/notify/v1/me/preferences", headers={**me, "Accept-Language": "en"},
                   json={**prefs, "channels": ["fax"]})
    assert r.json()["error"]["message"] == "Unknown channel"
    assert client.get("/notify/v1/me/preferences", headers=me).json() == prefs


def test_contacts_are_masked_in_every_response(rt, client):
    me = auth(rt, "u-resident-1")
    assert client.get("/notify/v1/me/contacts", headers=me).json() == {
        "phone": "138****0001", "email": None, "email_pending": None, "wechat_bound": False, "push_bound": False}
    r = client.put("/notify/v1/me/contacts", headers=me, json={"email": "liu@example.com", "wechat_openid": "o-1"})
    assert r.json() == {"phone": "138****0001", "email": None, "email_pending": "l***@example.com",
                        "wechat_bound": True, "push_bound": False}
    bad = client.put("/notify/v1/me/contacts", headers=me, json={"phone": "12345"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "notify.bad_phone"
    assert "13800000001" not in client.get("/notify/v1/me/contacts", headers=me).text


def test_staff_see_delivery_states_and_admins_requeue_dead_letters(rt, client, sender, servers):
    servers["sms"].codes["13800000001"] = "isv.MOBILE_NUMBER_ILLEGAL"
    deliver(rt, submitted())
    drain(sender)
    r = client.get("/notify/v1/messages", params={"subject_id": "c-1"}, headers=auth(rt, "u-resident-1"))
    assert r.status_code == 403
    # Issue 11: delivery records are for supervisors and admins only (any other staff role: 403).
    r = client.get("/notify/v1/messages", params={"subject_id": "c-1"}, headers=auth(rt, "u-operator-1", "operator"))
    assert r.status_code == 403
    states = client.get("/notify/v1/messages", params={"subject_id": "c-1"},
                        headers=auth(rt, "u-supervisor-1", "supervisor", "510107000000000")).json()
    assert [(s["channel"], s["status"]) for s in states] == [("inbox", "delivered"), ("sms", "failed")]
    admin = auth(rt, "u-admin-1", "admin")
    [dead] = client.get("/notify/v1/admin/dead-letters", headers=admin).json()
    assert dead["reason"] == "sms: isv.MOBILE_NUMBER_ILLEGAL"
    del servers["sms"].codes["13800000001"]  # the number was fixed
    requeued = client.post(f"/notify/v1/admin/dead-letters/{dead['id']}/requeue", headers=admin)
    assert requeued.json()["status"] == "queued"
    again = client.post(f"/notify/v1/admin/dead-letters/{dead['id']}/requeue", headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "notify.not_dead"
    drain(sender)
    assert messages(rt, channel="sms")[0].status == "sent"


def digest_job(rt, day) -> int:
    """The daily digest as the worker's background job runs it."""
    with rt.unit_of_work() as uow:
        return send_digests(uow.session, uow.emit, config_of(rt), day, sender_wakeup(rt))


def test_staff_see_delivery_states_but_not_which_resident_they_went_to(rt, client):
    # 保密: a confidential requester's id must not reach any staff member through notify.
    deliver(rt, submitted(confidential=True))
    # Issue 11: a grid worker reads no delivery records at all; a supervisor reads them, residents hidden.
    assert client.get("/notify/v1/messages", params={"subject_id": "c-1"},
                      headers=auth(rt, "u-grid-worker-009", "grid_worker")).status_code == 403
    states = client.get("/notify/v1/messages", params={"subject_id": "c-1"},
                        headers=auth(rt, "u-supervisor-1", "supervisor", "510107000000000")).json()
    assert states and all(s["recipient_id"] is None for s in states)
    assert "u-resident-1" not in str(states)


def test_the_daily_digest_counts_a_units_warned_and_overdue_work_orders_once(rt, client):
    deliver(rt, warned(case_id="c-1"))
    deliver(rt, warned(case_id="c-2"))
    deliver(rt, overdue(case_id="c-1"))
    deliver(rt, overdue(case_id="c-1"))  # a second overdue event for the same clock adds nothing
    deliver(rt, dispatched(case_id="c-3"))
    day = (AT + timedelta(hours=8)).date()  # the local (Asia/Shanghai) day of the events
    assert digest_job(rt, day) == 1
    assert digest_job(rt, day) == 1  # run twice: no second digest
    digests = messages(rt, template="digest.daily", channel="inbox")
    assert [(m.recipient_id, m.body) for m in digests] == [
        ("u-grid-worker-001001",
         f"玉林北路社区第一网格 {day.isoformat()}：预警工单 2 件，超时工单 1 件，请在工单列表中查看。")]
    worker = auth(rt, "u-grid-worker-001001", "grid_worker", GRID)
    items = client.get(f"/notify/v1/digests/{unit_id(GRID)}", params={"day": day.isoformat()}, headers=worker).json()
    assert sorted((i["kind"], i["case_id"]) for i in items) == [("overdue", "c-1"), ("warned", "c-1"),
                                                                 ("warned", "c-2")]
    other = auth(rt, "u-community-staff-002", "community_staff", "510107001002000")
    assert client.get(f"/notify/v1/digests/{unit_id(GRID)}", params={"day": day.isoformat()},
                      headers=other).status_code == 403
