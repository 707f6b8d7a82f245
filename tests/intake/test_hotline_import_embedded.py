"""The 12345 platform's import in the whole system, embedded mode: the demo government system's key (as
`make api-key` issues it, now holding hotline:import) imports a batch, routing dispatches each case like any
other, and the platform's order number is on the work order staff read at routing and on the case at intake,
whose view compares the platform's deadline with routing's."""

from fastapi.testclient import TestClient

from services.cluster import wait_for
from services.identity import seed

from .test_hotline_import import order


def test_an_imported_order_is_dispatched_and_its_number_is_on_the_work_order_and_the_case(system):
    key = seed.demo_api_key(system.runtimes["identity"])
    client = TestClient(system.asgi())
    batch = {"orders": [order("GD20261214000123")]}
    # Accepted once identity.api_key.changed reached intake (the relay and the in-process bus).
    done = wait_for(lambda: (r := client.post("/intake/v1/hotline/orders/import", json=batch,
                                              headers={"X-API-Key": key})).status_code == 200 and r,
                    what="the demo key accepted by intake")
    [row] = done.json()["rows"]
    assert row["result"] == "created", row
    admin = client.post("/identity/v1/tokens/password", json={"username": "admin-1", "password": seed.DEMO_PASSWORD})
    staff = {"Authorization": f"Bearer {admin.json()['access_token']}"}

    def dispatched():
        view = client.get(f"/intake/v1/cases/{row['case_id']}", headers=staff).json()
        return view if view["status"] == "dispatched" and view["external"]["result_deadline"] else None

    view = wait_for(dispatched, what="routing's dispatch seen by intake")
    assert view["channel"] == "hotline" and view["external"]["order_no"] == "GD20261214000123"
    # The demo platform's deadline (2099) is later than routing's first clocks: no warning.
    assert view["external"]["deadline_earlier"] is False
    listed = client.get("/intake/v1/cases", params={"external_no": "GD20261214000123"}, headers=staff).json()
    assert [c["id"] for c in listed["items"]] == [row["case_id"]]
    # Routing's side: the lead work order carries the number.
    ledger = client.get("/routing/v1/ledger", params={"format": "csv"}, headers=staff)
    assert ledger.status_code == 200 and "GD20261214000123" in ledger.content.decode("utf-8-sig")
    # Read back by the key that imported it.
    back = client.get("/intake/v1/hotline/orders/GD20261214000123", headers={"X-API-Key": key}).json()
    assert back["case_id"] == row["case_id"] and back["status"] == "dispatched"
