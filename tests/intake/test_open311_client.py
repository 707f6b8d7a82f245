"""A round trip through an independent Open311 client, over real HTTP: `georeport` (PyPI, a GeoReport v2
wrapper built on requests and xmltodict, knowing nothing of this project) reads the service list, a service
definition, the requests and one request, in JSON and in XML; the request itself is posted as any GeoReport
v2 client posts it (georeport cannot post: a form-encoded POST with requests, as FixMyStreet's Open311 client
sends it), and its progress is read back as FixMyStreet reads mySociety's servicerequestupdates (XML).

georeport sends no key on a GET (the specification makes one optional there); this endpoint needs one to
read cases, so its HTTP calls carry the X-API-Key header, as an integrator's HTTP layer would add it."""


import pytest
import requests
import xmltodict
from georeport import GeoReport

from shared.events.routing import CaseSigned
from tests.loopback import served

from .conftest import GRID_PATH, dispatched, work_order
from .test_open311_world import ALL_READ, issue, open311_intake


@pytest.fixture
def o311(tmp_path):
    yield from open311_intake(tmp_path)


@pytest.fixture
def keyed_gets(monkeypatch):
    """Every requests.get carries this key in X-API-Key (georeport calls requests.get itself)."""
    real = requests.get

    def use(key: str) -> None:
        def get(url, params=None, **kwargs):
            return real(url, params=params, headers={**kwargs.pop("headers", {}), "X-API-Key": key}, timeout=10,
                        **kwargs)

        monkeypatch.setattr(requests, "get", get)

    return use


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_independent_open311_client_reads_what_a_form_post_filed(o311, keyed_gets, fmt):
    key = issue(o311, ALL_READ)
    keyed_gets(key)
    with served(o311.client.app) as port:
        root = f"http://127.0.0.1:{port}/open311/v2"
        client = GeoReport(root, jurisdiction="510107", output_format=fmt)

        services = client.get_service_list()
        by_code = {s["service_code"]: s for s in services}
        assert str(by_code["env.noise"]["metadata"]).lower() == "true"
        definition = client.get_service_definition("env.noise")
        attribute = definition["attributes"]["attribute"] if fmt == "xml" else definition["attributes"][0]
        values = attribute["values"]["value"] if fmt == "xml" else attribute["values"]
        night = next(v["key"] for v in values if v["name"] == "夜间")

        posted = requests.post(f"{root}/requests.{fmt}", timeout=10, data={
            "api_key": key, "jurisdiction_id": "510107", "service_code": "env.noise", "lat": "30.6283",
            "long": "104.052115", f"attribute[{attribute['code']}]": night,
            "description": "夜里楼下 KTV 很吵，持续到凌晨两点"})
        assert posted.status_code == 201, posted.text
        if fmt == "xml":
            made = xmltodict.parse(posted.content)["service_requests"]["request"]
        else:
            [made] = posted.json()
        case_id = made["service_request_id"]

        one = client.get_service_request(case_id)
        assert (one["service_request_id"], one["service_code"], one["status"]) == (case_id, "env.noise", "open")
        assert one["description"] == "夜里楼下 KTV 很吵，持续到凌晨两点"
        listed = client.get_service_requests(service_request_id=case_id)
        listed = [listed] if isinstance(listed, dict) else listed  # xmltodict: one element is not a list
        assert [r["service_request_id"] for r in listed] == [case_id]
        if fmt == "json":
            assert client.get_service_requests(status="closed", service_code="env.noise") == []
        else:  # an empty list is an empty <service_requests/>, which georeport cannot index: read it generically
            empty = requests.get(f"{root}/requests.xml", params={"status": "closed"})
            assert xmltodict.parse(empty.content) == {"service_requests": None}

        # Routing dispatches it and the grid signs: the progress as FixMyStreet fetches it.
        case = {"id": case_id, "case_no": "x"}
        o311.deliver(dispatched(case, 1, "wo-1", unit_path=GRID_PATH, area_path=GRID_PATH))
        o311.deliver(CaseSigned(**work_order(case, 2, "wo-1"), actor_id="u-grid-worker-001001"))
        feed = requests.get(f"{root}/servicerequestupdates.xml", params={
            "api_key": key, "start_date": "2099-01-01T00:00:00Z", "end_date": "2099-01-02T00:00:00Z"})
        assert feed.status_code == 200, feed.text
        updates = xmltodict.parse(feed.content)["service_requests_updates"]["request_update"]
        assert [(u["service_request_id"], u["status"]) for u in updates] == [
            (case_id, "INVESTIGATING"), (case_id, "ACTION_SCHEDULED")]
        assert client.get_service_request(case_id)["agency_responsible"] == "玉林北路社区第一网格"


def test_the_client_gets_the_specifications_error_on_a_bad_key_or_an_unknown_service(o311, keyed_gets):
    keyed_gets("cgk_0000000000000000_wrong")
    with served(o311.client.app) as port:
        client = GeoReport(f"http://127.0.0.1:{port}/open311/v2", output_format="xml")
        with pytest.raises(requests.HTTPError) as refused:
            client.get_service_requests()
        assert refused.value.response.status_code == 403
        error = xmltodict.parse(refused.value.response.content)["errors"]["error"]
        assert error["code"] == "403" and error["description"].startswith("open311.api_key_invalid")
        keyed_gets(issue(o311, ["cases:read"]))  # a key given must be valid even where none is needed
        with pytest.raises(requests.HTTPError) as missing:
            GeoReport(f"http://127.0.0.1:{port}/open311/v2").get_service_definition("no.such")
        assert missing.value.response.status_code == 404
