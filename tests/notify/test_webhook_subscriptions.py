"""Issue 13: webhook subscriptions filtered by area (unit code prefixes, matched against the case's area
path, known from routing's dispatch) and by category (catalogue code prefixes), a delivery log per
subscription and the re-send of a delivery. The receiver on loopback verifies every signature
(channels/webhook.py:verify)."""

from datetime import timedelta

from shared.events.routing import CaseSigned

from .conftest import DAYTIME, auth, deliver, drain, messages, send_once
from .payloads import dispatched, order_fields, submitted

V1 = "/notify/v1"
STREET_1 = "510107001"  # the first digits of street 001's code: the street and everything in it
AREA_1 = "/510107000000000/510107001000000/510107001001000/510107001001001/"
AREA_2 = "/510107000000000/510107002000000/510107002001000/510107002001001/"


def subscribe(client, rt, hook, **filters) -> dict:
    r = client.post(f"{V1}/webhooks", headers=auth(rt, "u-admin-1", "admin"),
                    json={"name": "网格平台", "url": hook.url + "/h", "event_patterns": ["intake.#", "routing.#"],
                          **filters})
    assert r.status_code == 201, r.text
    hook.secret = r.json()["secret"]
    return r.json()


def case(rt, case_id, area, category="env.garbage"):
    deliver(rt, submitted(case_id=case_id, category=category))
    deliver(rt, dispatched(case_id=case_id, area_path=area))
    deliver(rt, CaseSigned(**order_fields(case_id, seq=2), actor_id="u-grid-worker-001001"))


def received(hook) -> list[tuple[str, str]]:
    """What the receiver took, sorted: webhooks of a batch go in parallel (no order between events)."""
    return sorted((e["subject"]["id"], e["type"]) for e in hook.received)


def test_an_area_filter_sends_the_events_of_cases_in_the_area_from_their_dispatch_on(rt, client, sender, servers):
    hook = servers["webhook"]
    sub = subscribe(client, rt, hook, areas=[STREET_1])
    assert sub["areas"] == [STREET_1] and sub["categories"] == []
    case(rt, "c-in", AREA_1)
    case(rt, "c-out", AREA_2)
    drain(sender)
    # The submission names no area: an area filter cannot pass it. From the dispatch on, the case's area is known.
    assert received(hook) == [("c-in", "routing.case.dispatched"), ("c-in", "routing.case.signed")]
    assert hook.rejected == 0


def test_a_full_unit_code_matches_its_subtree_and_not_a_neighbour(rt, client, sender, servers):
    hook = servers["webhook"]
    subscribe(client, rt, hook, areas=["510107001001000"], event_patterns=["routing.case.dispatched"])
    case(rt, "c-grid-1", AREA_1)  # in community 001001
    case(rt, "c-street-2", AREA_2)
    drain(sender)
    assert received(hook) == [("c-grid-1", "routing.case.dispatched")]


def test_a_category_filter_sends_a_category_and_those_below_it_only(rt, client, sender, servers):
    hook = servers["webhook"]
    subscribe(client, rt, hook, categories=["env"], event_patterns=["intake.case.submitted"])
    for case_id, category in (("c-noise", "env.noise"), ("c-env", "env"), ("c-road", "facility.road"),
                              ("c-other", "environment.x")):
        deliver(rt, submitted(case_id=case_id, category=category))
    drain(sender)
    assert [c for c, _ in received(hook)] == ["c-env", "c-noise"]


def test_both_filters_must_pass_and_a_subscription_without_filters_gets_everything(rt, client, sender, servers):
    hook = servers["webhook"]
    subscribe(client, rt, hook, areas=[STREET_1], categories=["facility"], event_patterns=["routing.case.signed"])
    case(rt, "c-road", AREA_1, "facility.road")
    case(rt, "c-garbage", AREA_1, "env.garbage")
    drain(sender)
    assert received(hook) == [("c-road", "routing.case.signed")]
    unfiltered = client.post(f"{V1}/webhooks", headers=auth(rt, "u-admin-1", "admin"), json={
        "name": "全量", "url": hook.url + "/all", "event_patterns": ["routing.case.signed"]}).json()
    deliver(rt, CaseSigned(**order_fields("c-garbage", seq=7), actor_id="u-grid-worker-001001"))
    assert [m.recipient_id for m in messages(rt, channel="webhook", subject_id="c-garbage")] == [unfiltered["id"]]


def test_a_bad_area_or_category_is_refused_with_its_field_and_nothing_is_subscribed(rt, client):
    admin = auth(rt, "u-admin-1", "admin")
    base = {"name": "x", "url": "http://127.0.0.1:9/h", "event_patterns": ["routing.#"]}
    for filters, code, field in (({"areas": ["510107", "5101/07"]}, "notify.bad_area", "areas.1"),
                                 ({"areas": [""]}, "notify.bad_area", "areas.0"),
                                 ({"categories": ["Env.Noise"]}, "notify.bad_category", "categories.0"),
                                 ({"categories": ["env..noise"]}, "notify.bad_category", "categories.0"),
                                 ({"categories": ["env\x00"]}, "notify.bad_category", "categories.0")):
        r = client.post(f"{V1}/webhooks", headers=admin, json={**base, **filters})
        assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["field"]) == (422, code, field)
    assert client.get(f"{V1}/webhooks", headers=admin).json() == []


def test_the_delivery_log_shows_each_delivery_with_its_attempts_last_error_and_times(rt, client, sender, servers):
    hook = servers["webhook"]
    admin = auth(rt, "u-admin-1", "admin")
    sub = subscribe(client, rt, hook, event_patterns=["routing.case.dispatched"])
    deliver(rt, dispatched(case_id="c-1"))
    hook.fail_next = 1
    send_once(sender, DAYTIME)
    [d] = client.get(f"{V1}/webhooks/{sub['id']}/deliveries", headers=admin).json()
    assert (d["status"], d["attempts"], d["last_error"], d["event_type"], d["subject_id"]) == (
        "queued", 1, "webhook: HTTP 503", "routing.case.dispatched", "c-1")
    assert d["next_attempt_at"] is not None and d["sent_at"] is None
    drain(sender, now=DAYTIME + timedelta(minutes=5))
    [d] = client.get(f"{V1}/webhooks/{sub['id']}/deliveries", headers=admin).json()
    assert (d["status"], d["attempts"], d["last_error"]) == ("sent", 2, None) and d["sent_at"]
    assert client.get(f"{V1}/webhooks/{sub['id']}/deliveries", headers=admin, params={"status": "failed"}).json() == []
    assert hook.received[0]["id"] == d["event_id"]


def test_an_admin_re_sends_a_delivery_with_its_delivery_id_and_the_receiver_verifies_it(rt, client, sender, servers):
    hook = servers["webhook"]
    admin = auth(rt, "u-admin-1", "admin")
    sub = subscribe(client, rt, hook, event_patterns=["routing.case.dispatched"])
    deliver(rt, dispatched(case_id="c-1"))
    drain(sender)
    [d] = client.get(f"{V1}/webhooks/{sub['id']}/deliveries", headers=admin).json()
    url = f"{V1}/webhooks/{sub['id']}/deliveries/{d['id']}/resend"
    hook.seen.clear()  # the receiver remembers delivery ids for the 5 minutes a timestamp is valid: later
    r = client.post(url, headers=admin)
    assert r.status_code == 200 and (r.json()["status"], r.json()["attempts"]) == ("queued", 0)
    assert client.post(url, headers=admin).json()["error"]["code"] == "notify.delivery_pending"
    drain(sender)
    assert len(hook.received) == 2 and hook.received[0] == hook.received[1] and hook.rejected == 0
    # Another subscription's delivery, or none, is 404; a deactivated subscription gets nothing re-sent.
    other = subscribe(client, rt, hook, event_patterns=["routing.case.signed"])
    assert client.post(f"{V1}/webhooks/{other['id']}/deliveries/{d['id']}/resend", headers=admin).status_code == 404
    assert client.post(f"{V1}/webhooks/{sub['id']}/deliveries/nope/resend", headers=admin).status_code == 404
    assert client.delete(f"{V1}/webhooks/{sub['id']}", headers=admin).status_code == 204
    r = client.post(url, headers=admin)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "notify.webhook_inactive")
