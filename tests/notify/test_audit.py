"""What notify writes into its audit trail besides its events (issue 11): reads of delivery records
and of the dead-letter queue, requeues, webhook subscriptions made and ended, contact changes; with
the actor, and ids and codes only."""

import json

from sqlalchemy import select

from services.notify.service import SPEC

from .conftest import auth, deliver, drain
from .payloads import submitted

SUPERVISOR = ("u-supervisor-1", "supervisor", "510107000000000")


def trail(rt) -> list[dict]:
    t = SPEC.audit
    with rt.uow() as session:
        return [dict(r._mapping) for r in session.execute(select(t).order_by(t.c.id))]


def test_reading_delivery_records_is_audited_with_who_and_which_subject(rt, client):
    deliver(rt, submitted(case_id="c-1"))
    r = client.get("/notify/v1/messages", params={"subject_id": "c-1"}, headers={**auth(rt, *SUPERVISOR),
                                                                                   "X-Request-ID": "req-42"})
    assert r.status_code == 200
    [entry] = [e for e in trail(rt) if e["action"] == "read.deliveries"]
    assert (entry["actor_id"], entry["actor_role"], entry["subject_kind"], entry["subject_id"]) == (
        "u-supervisor-1", "supervisor", "case", "c-1")
    assert entry["request_id"] == "req-42" and json.loads(entry["detail"]) == {"count": len(r.json())}
    # A refused read writes nothing (nothing was read).
    client.get("/notify/v1/messages", params={"subject_id": "c-1"}, headers=auth(rt, "u-operator-1", "operator"))
    assert len([e for e in trail(rt) if e["action"] == "read.deliveries"]) == 1


def test_a_phone_typed_as_the_subject_is_not_written_into_the_trail(rt, client):
    for typed in ("138-0000-0001", "13800000001"):
        r = client.get("/notify/v1/messages", params={"subject_id": typed}, headers=auth(rt, *SUPERVISOR))
        assert r.status_code == 200
    entries = [e for e in trail(rt) if e["action"] == "read.deliveries"]
    assert [e["subject_id"] for e in entries] == ["(invalid)", "(invalid)"]
    assert not any(typed in str(e) for e in entries for typed in ("138-0000-0001", "13800000001"))


def test_dead_letters_read_and_requeued_are_audited(rt, client, sender, servers):
    servers["sms"].codes["13800000001"] = "isv.MOBILE_NUMBER_ILLEGAL"
    deliver(rt, submitted())
    drain(sender)
    admin = auth(rt, "u-admin-1", "admin")
    [dead] = client.get("/notify/v1/admin/dead-letters", headers=admin).json()
    assert client.post(f"/notify/v1/admin/dead-letters/{dead['id']}/requeue", headers=admin).status_code == 200
    entries = {e["action"]: e for e in trail(rt)}
    assert json.loads(entries["read.dead_letters"]["detail"]) == {"count": 1}
    requeued = entries["notify.dead_letter.requeued"]
    assert (requeued["actor_id"], requeued["subject_kind"], requeued["subject_id"]) == ("u-admin-1", "message",
                                                                                         dead["id"])
    assert json.loads(requeued["detail"])["channel"] == "sms" and "13800000001" not in requeued["detail"]


def test_webhook_subscriptions_made_and_ended_are_audited(rt, client, servers):
    admin = auth(rt, "u-admin-1", "admin")
    r = client.post("/notify/v1/webhooks", headers=admin, json={
        "name": "市12345平台", "url": servers["webhook"].url + "/h", "event_patterns": ["routing.case.*"]})
    hook = r.json()
    assert client.delete(f"/notify/v1/webhooks/{hook['id']}", headers=admin).status_code == 204
    entries = {e["action"]: e for e in trail(rt)}
    made, ended = entries["notify.webhook.subscribed"], entries["notify.webhook.deactivated"]
    assert (made["actor_id"], made["subject_kind"], made["subject_id"]) == ("u-admin-1", "webhook", hook["id"])
    assert json.loads(made["detail"]) == {"event_patterns": ["routing.case.*"], "areas": [], "categories": []}
    assert hook["secret"] not in made["detail"]  # the secret is shown once, to the admin, never kept in the trail
    assert (ended["actor_id"], ended["subject_id"]) == ("u-admin-1", hook["id"])


def test_a_contact_change_is_audited_by_field_names_only(rt, client):
    me = auth(rt, "u-resident-3", phone="13912345678")
    client.put("/notify/v1/me/contacts", headers=me, json={"phone": "13912345678", "email": "yang@example.com"})
    [entry] = [e for e in trail(rt) if e["action"] == "notify.contacts.changed"]
    assert (entry["actor_id"], entry["subject_id"]) == ("u-resident-3", "u-resident-3")
    # The phone changed at once; the email awaits its code (its own entry: test_email_contacts.py).
    assert json.loads(entry["detail"]) == {"fields": ["phone"]}
    [requested] = [e for e in trail(rt) if e["action"] == "notify.contacts.email_requested"]
    assert requested["subject_id"] == "u-resident-3" and set(json.loads(requested["detail"])) == {"event_id"}
    for e in (entry, requested):
        assert "13912345678" not in str(e) and "yang@" not in str(e)
