"""A grid worker's phone replays the work-order steps it queued in a stairwell: each step once per
Idempotency-Key, the first answer returned again, a key reused for another step refused."""


def step(h, oid: str, action: str, key: str, body: dict | None = None):
    return h.client.post(f"/routing/v1/work-orders/{oid}/{action}", json=body,
                         headers={**h.headers("grid"), "Idempotency-Key": key})


def test_a_replayed_queue_of_steps_is_applied_once_and_in_order(h):
    oid = h.lead(h.submit())["id"]
    h.events()  # the dispatch
    queue = [("sign", "k-1", None), ("contact", "k-2", {"note": "已电话联系"}),
             ("resolve", "k-3", {"outcome": "解决到位", "result_text": "已清运"})]
    first = [step(h, oid, action, key, body) for action, key, body in queue]
    assert [r.status_code for r in first] == [200, 200, 200] and first[-1].json()["status"] == "resolved"
    # The signal dropped before the answers came: the phone sends the whole queue again.
    again = [step(h, oid, action, key, body) for action, key, body in queue]
    assert [r.json() for r in again] == [r.json() for r in first]
    assert [e.type for e, _ in h.events()] == ["routing.case.signed", "routing.case.contacted",
                                               "routing.case.resolved"]  # once each
    assert h.get(oid)["status"] == "resolved"


def test_without_a_key_a_repeated_step_is_a_conflict_and_a_reused_key_is_refused(h):
    oid = h.lead(h.submit())["id"]
    assert step(h, oid, "sign", "k-9").status_code == 200
    assert h.post(f"/work-orders/{oid}/sign", "grid").status_code == 409  # no key: the state answers
    reused = step(h, oid, "contact", "k-9", {"note": "换了内容"})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency.key_reused"
    assert step(h, oid, "contact", "", {"note": "x"}).status_code == 400
    assert h.get(oid)["status"] == "signed"  # neither changed anything
