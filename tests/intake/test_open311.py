"""Open311 GeoReport v2 at /open311/v2: every endpoint and its errors in both formats, with the
specification's element names, nesting and content types; a case filed over it is an ordinary case
(intake's rules, the gov_api channel, its events); what a key reads is public information only."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services.intake.models import Case, TimelineEntry
from services.intake.open311 import access, render, schemas, service_requests, statuses, views
from services.intake.schemas import Question
from services.intake.service import SPEC
from services.intake.status import STATUSES
from shared.events.routing import CaseContacted, CaseResolved, CaseSigned

from .conftest import GRID_PATH, dispatched, work_order
from .test_open311_world import (
    ALL_READ,
    POINT,
    V2,
    build,
    child_names,
    errors_of,
    filed,
    h,
    issue,
    key_id_of,
    listed_ids,
    open311_intake,
    parse,
    post,
)

FORMATS = ("json", "xml")
# The specification's element order of each item (GeoReport v2; mySociety's for the updates).
REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_ELEMENTS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
UPDATE_ELEMENTS = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
WIDE = {"start_date": "2020-01-01T00:00:00+08:00", "end_date": "2020-03-30T00:00:00+08:00"}


@pytest.fixture
def o311(tmp_path):
    yield from open311_intake(tmp_path)


def ever(start: str = "2099-01-01T00:00:00Z") -> dict:
    """A window over the test events' moments (tests/intake/conftest.at: 2099)."""
    return {"start_date": start, "end_date": "2099-03-01T00:00:00Z"}


# --------------------------------------------------------------------------- discovery, services, definitions


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_specification_the_endpoint_and_both_formats_without_a_key(o311, fmt):
    r = o311.client.get(f"{V2}/discovery.{fmt}")
    assert r.status_code == 200
    assert r.headers["content-type"] == render.CONTENT_TYPES[fmt]
    doc = parse(r)
    doc = doc["discovery"] if fmt == "xml" else doc
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "test"  # embedded mode
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert doc["changeset"] == "2026-11-01T00:00:00+08:00" and doc["contact"] and doc["key_service"]
    if fmt == "xml":
        root = r.content.decode()
        assert "<endpoints><endpoint><specification>" in root and "<formats><format>text/xml</format>" in root


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_service_list_is_the_catalogues_active_leaves_with_metadata_where_there_are_questions(o311, fmt):
    r = o311.client.get(f"{V2}/services.{fmt}")
    assert r.status_code == 200 and r.headers["content-type"] == render.CONTENT_TYPES[fmt]
    body = parse(r)
    items = body if fmt == "json" else body["services"]
    by_code = {s["service_code"]: s for s in items}
    assert "env" not in by_code and "env.garbage" in by_code and "dispute.wage" in by_code  # leaves only
    noise = by_code["env.noise"]
    assert noise["service_name"] == "噪声扰民" and noise["type"] == "realtime" and noise["group"] == "市容环境"
    assert noise["metadata"] in (True, "true") and by_code["env.garbage"]["metadata"] in (False, "false")
    if fmt == "xml":
        assert all(names == SERVICE_ELEMENTS for names in child_names(r))
    else:
        assert all(list(s) == SERVICE_ELEMENTS for s in items)
    english = o311.client.get(f"{V2}/services.{fmt}", headers={"Accept-Language": "en"})
    items = parse(english) if fmt == "json" else parse(english)["services"]
    assert {s["service_code"]: s["service_name"] for s in items}["env.noise"] == "Noise nuisance"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_gives_the_questions_as_attributes_with_datatypes_and_values(o311, fmt):
    r = o311.client.get(f"{V2}/services/env.noise.{fmt}")
    assert r.status_code == 200 and r.headers["content-type"] == render.CONTENT_TYPES[fmt]
    body = parse(r)
    body = body["service_definition"] if fmt == "xml" else body
    assert body["service_code"] == "env.noise"
    [attr] = body["attributes"]
    assert [attr["code"], attr["datatype"], str(attr["required"]).lower(), str(attr["variable"]).lower(),
            str(attr["order"])] == ["time_of_day", "singlevaluelist", "true", "true", "1"]
    assert attr["description"] == "噪声出现的时段"
    assert [v["key"] for v in attr["values"]] == ["白天", "夜间", "全天"]
    number = parse(o311.client.get(f"{V2}/services/welfare.hardship.{fmt}"))
    number = number["service_definition"] if fmt == "xml" else number
    [household] = number["attributes"]
    assert household["datatype"] == "number" and "values" not in household
    none = parse(o311.client.get(f"{V2}/services/env.garbage.{fmt}"))
    assert (none["service_definition"]["attributes"] if fmt == "xml" else none["attributes"]) in (None, [])


def test_a_yes_no_question_is_a_single_value_list_of_true_and_false():
    q = Question(key="pets", label="是否有宠物", label_en="Any pets", type="bool", required=False)
    attr = views.attribute(q, 2, english=False)
    assert attr["datatype"] == "singlevaluelist" and attr["order"] == 2
    assert [v["key"] for v in attr["values"]] == ["true", "false"]
    node = type("Node", (), {"questions": (q,)})()
    form = service_requests.Form.of([("attribute[pets]", "true")])
    assert service_requests.answers(form, node) == {"pets": True}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_or_branch_service_code_is_404_in_the_asked_format(o311, fmt):
    for code in ("no.such", "env"):  # "env" is a branch: nothing is filed in it
        r = o311.client.get(f"{V2}/services/{code}.{fmt}")
        assert r.status_code == 404 and r.headers["content-type"] == render.CONTENT_TYPES[fmt]
        [err] = errors_of(r)
        assert err["code"] == 404 and err["description"].startswith("open311.service_not_found")


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_needs_no_key_but_refuses_an_invalid_one_as_the_service_list_does(o311, fmt):
    assert o311.client.get(f"{V2}/discovery.{fmt}").status_code == 200
    assert o311.client.get(f"{V2}/discovery.{fmt}", headers=h(issue(o311, ["cases:read"]))).status_code == 200
    for bad in ("cgk_bad_bad", issue(o311, ["cases:read"], revoked=True)):
        for path in ("discovery", "services"):
            r = o311.client.get(f"{V2}/{path}.{fmt}", headers=h(bad))
            assert r.status_code == 403 and errors_of(r)[0]["description"].startswith("open311.api_key_invalid")
    assert o311.client.get(f"{V2}/discovery.{fmt}", params={"api_key": "cgk_bad_bad"}).status_code == 403
    assert "403" in o311.client.app.openapi()["paths"][f"{V2}/discovery.{{format}}"]["get"]["responses"]


def test_a_format_other_than_json_or_xml_is_400_as_xml_the_required_format(o311):
    r = o311.client.get(f"{V2}/services.html")
    assert r.status_code == 400 and r.headers["content-type"] == render.CONTENT_TYPES["xml"]
    assert errors_of(r)[0]["description"].startswith("open311.format")


def test_an_unknown_path_or_method_under_open311_answers_the_specifications_errors_too(o311):
    r = o311.client.get(f"{V2}/nothing.json")
    assert r.status_code == 404 and errors_of(r) == [{"code": 404, "description": "not_found: 未找到该资源"}]
    r = o311.client.post(f"{V2}/services.xml")
    assert r.status_code == 405 and r.headers["allow"] == "GET" and errors_of(r)[0]["code"] == 405
    assert o311.client.get("/intake/v1/nothing").json()["error"]["code"] == "not_found"  # intake's own unchanged


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_jurisdiction_id_must_be_this_one(o311, fmt):
    assert o311.client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": "510107"}).status_code == 200
    r = o311.client.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": "sfgov.org"})
    assert r.status_code == 400 and errors_of(r)[0]["description"].startswith("open311.jurisdiction_unknown")
    secret = issue(o311, ["cases:create"])
    r = post(o311, secret, fmt, jurisdiction_id="sfgov.org")
    assert r.status_code == 400 and errors_of(r)[0]["code"] == 400


# --------------------------------------------------------------------------- POST requests


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_is_an_ordinary_case_on_the_government_channel(o311, fmt):
    secret = issue(o311, ["cases:create", "cases:read"])
    r = post(o311, secret, fmt, service_code="env.noise", **{"attribute[time_of_day]": "夜间"},
             description="夜里楼下 KTV 很吵", first_name="张", last_name="三", email="zhang@example.com",
             device_id="d-1", account_id="acct-9", media_url="http://10.0.0.1/secret.jpg")
    assert r.status_code == 201 and r.headers["content-type"] == render.CONTENT_TYPES[fmt], r.text
    body = parse(r)
    [made] = body if fmt == "json" else body["service_requests"]
    assert list(made) == ["service_request_id", "service_notice", "account_id"] and "token" not in made
    assert made["service_notice"].startswith("诉求编号 ") and made["account_id"] is None
    with o311.rt.uow() as s:
        case = s.get(Case, made["service_request_id"])
        assert (case.channel, case.created_by_id, case.reporter_id) == ("gov_api", f"key:{key_id_of(secret)}", None)
        assert case.answers == {"time_of_day": "夜间"} and case.coord_system == "wgs84"
        assert (case.lat, case.lon) == (30.6283, 104.052115) and case.status == "submitted"
        stored = json.dumps([case.description, case.answers, case.address], ensure_ascii=False)
    assert "张" not in stored and "zhang@" not in stored and "10.0.0.1" not in stored  # never kept
    [event] = o311.events("intake.case.submitted")  # routing dispatches it like any case
    assert event["data"]["channel"] == "gov_api" and event["data"]["case_id"] == made["service_request_id"]
    # The residents' and staff's own API shows it as any case (the admin reads all).
    view = o311.get(made["service_request_id"], role="admin")
    assert view["channel"] == "gov_api" and view["category"] == "env.noise"


def test_the_point_may_be_an_address_alone_or_another_coordinate_system_and_must_be_in_the_service_area(o311):
    secret = issue(o311, ["cases:create"])
    case_id = filed(o311, secret, lat=None, long=None, address_string="玉林北路 12 号东门")
    with o311.rt.uow() as s:
        case = s.get(Case, case_id)
        assert case.lat is None and case.address == "玉林北路 12 号东门"
    gcj = filed(o311, secret, lat="30.625843", long="104.054591", coord_system="gcj02")
    with o311.rt.uow() as s:
        case = s.get(Case, gcj)
        assert case.coord_system == "gcj02" and abs(case.lat - 30.625843) > 1e-4  # converted to WGS-84
    r = post(o311, secret, lat="39.9042", long="116.4074")  # Beijing: outside the district
    assert r.status_code == 400 and errors_of(r)[0]["description"].startswith("case.outside_service_area")
    r = post(o311, secret, lat=None, long=None)
    assert r.status_code == 400 and errors_of(r)[0]["description"].startswith("open311.location_required")
    r = post(o311, secret, lat=None, long=None, address_id="545483")
    assert errors_of(r)[0]["description"].startswith("open311.address_id_unsupported")
    r = post(o311, secret, long=None)
    assert r.status_code == 400 and "case.location_pair" in errors_of(r)[0]["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_rule_of_intake_refuses_a_bad_request_with_the_specifications_error_list(o311, fmt):
    secret = issue(o311, ["cases:create"])
    cases = [
        (dict(service_code=None), "open311.service_code_required", "service_code"),
        (dict(service_code="no.such"), "case.unknown_category", "service_code"),
        (dict(service_code="env"), "case.category_not_leaf", "service_code"),
        (dict(service_code="env.noise"), "case.answer_missing", "attribute[time_of_day]"),
        (dict(service_code="env.noise", **{"attribute[time_of_day]": "半夜"}), "case.answer_invalid",
         "attribute[time_of_day]"),
        (dict(**{"attribute[colour]": "red"}), "case.answer_unknown", "attribute[colour]"),
        (dict(service_code="welfare.hardship", **{"attribute[household_size]": "many"}), "open311.bad_number",
         "attribute[household_size]"),
        (dict(description=None), "validation.too_short", "description"),
        (dict(description="长" * 4001), "validation.too_long", "description"),
        (dict(lat="north"), "open311.bad_number", "lat"),
        (dict(lat="nan"), "open311.bad_number", "lat"),
        (dict(phone="13900001111"), "case.consent_required", "consent"),
        (dict(phone="13900001111", consent="maybe"), "open311.bad_boolean", "consent"),
        (dict(phone="not a phone", consent="true"), "case.bad_phone", "phone"),
        (dict(appeal_type="抱怨"), "validation.not_allowed", "appeal_type"),
        (dict(service_code="property.developer", anonymous="true"), "case.anonymous_not_allowed", "anonymous"),
        (dict(coord_system="utm"), "validation.not_allowed", "coord_system"),
    ]
    before = o311.events("intake.case.submitted")
    for fields, code, field in cases:
        r = post(o311, secret, fmt, **fields)
        assert r.status_code == 400 and r.headers["content-type"] == render.CONTENT_TYPES[fmt], (fields, r.text)
        [err] = errors_of(r)
        assert err["code"] == 400 and err["description"].startswith(code + ":"), (fields, err)
        assert f"[{field}]" in err["description"], (fields, err)
    assert o311.events("intake.case.submitted") == before  # a refused request changes nothing
    english = post(o311, secret, fmt, service_code=None, headers={"Accept-Language": "en"})
    assert "service_code is required" in errors_of(english)[0]["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_body_must_be_form_encoded_utf8_with_each_field_once(o311, fmt):
    secret = issue(o311, ["cases:create"])
    url = f"{V2}/requests.{fmt}"
    as_json = o311.client.post(url, json={"service_code": "env.garbage"}, headers=h(secret))
    assert as_json.status_code == 400 and errors_of(as_json)[0]["description"].startswith("open311.form_required")
    latin = o311.client.post(url, content=b"description=caf%E9", headers=h(
        secret, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert latin.status_code == 400 and errors_of(latin)[0]["description"].startswith("open311.form_required")
    twice = o311.client.post(url, content=b"service_code=env.garbage&service_code=env.noise&lat=30.6283&long=104.052115"
                                          b"&description=x", headers=h(
        secret, **{"Content-Type": "application/x-www-form-urlencoded"}))
    assert twice.status_code == 400 and errors_of(twice)[0]["description"].startswith("open311.repeated_field")
    nul = post(o311, secret, fmt, description="a\x00b")
    assert nul.status_code == 400


def test_a_phone_is_kept_only_with_consent_and_then_finds_the_case_for_the_hotline(o311):
    secret = issue(o311, ["cases:create"])
    kept = filed(o311, secret, phone="13900001111", consent="true", confidential="true")
    dropped = filed(o311, secret, phone="13900002222", consent="false")
    with o311.rt.uow() as s:
        assert s.get(Case, kept).reporter_phone == "+8613900001111" and s.get(Case, kept).confidential
        assert s.get(Case, dropped).reporter_phone is None and s.get(Case, dropped).reporter_phone_index is None
    found = o311.client.post("/intake/v1/hotline/lookup", json={"phone": "13900001111"},
                             headers=o311.auth("operator")).json()
    assert [c["id"] for c in found] == [kept]
    # The resident whose verified phone it is reads it as filed for her (代您登记).
    mine = o311.get(kept, role="resident", user_id="u-resident-7", phone="13900001111")
    assert mine["relation"] == "filed_for_you"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retried_post_with_its_idempotency_key_returns_the_same_case_and_the_key_serves_as_token(o311, fmt):
    secret = issue(o311, ["cases:create", "cases:read"])
    first = post(o311, secret, fmt, headers={"Idempotency-Key": "retry-77"})
    again = post(o311, secret, fmt, headers={"Idempotency-Key": "retry-77"})
    assert (first.status_code, again.status_code) == (201, 200) and again.headers["Idempotent-Replayed"] == "true"
    one, two = (parse(r) if fmt == "json" else parse(r)["service_requests"] for r in (first, again))
    assert one[0]["service_request_id"] == two[0]["service_request_id"]
    conflict = post(o311, secret, fmt, description="另一件事", headers={"Idempotency-Key": "retry-77"})
    assert conflict.status_code == 409 and errors_of(conflict)[0]["code"] == 409
    r = o311.client.get(f"{V2}/tokens/retry-77.{fmt}", headers=h(secret))
    assert r.status_code == 200 and r.headers["content-type"] == render.CONTENT_TYPES[fmt]
    body = parse(r)
    [found] = body if fmt == "json" else body["service_requests"]
    assert found == {"service_request_id": one[0]["service_request_id"], "token": "retry-77"}
    missing = o311.client.get(f"{V2}/tokens/never-sent.{fmt}", headers=h(secret))
    assert missing.status_code == 404 and errors_of(missing)[0]["description"].startswith("open311.token_not_found")
    other = issue(o311, ["cases:create", "cases:read"])  # a token is its own key's only
    assert o311.client.get(f"{V2}/tokens/retry-77.{fmt}", headers=h(other)).status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_invalid_or_insufficient_key_is_403_and_a_token_is_not_a_key(o311, fmt):
    creator = issue(o311, ["cases:create"])
    for secret, code in ((None, "open311.api_key_required"), ("cgk_0_nope", "open311.api_key_invalid"),
                         (issue(o311, ["cases:read"]), "open311.scope"),
                         (issue(o311, ["cases:create"], revoked=True), "open311.api_key_invalid"),
                         (issue(o311, ["cases:create"], expires_in=timedelta(seconds=-5)), "open311.api_key_invalid")):
        r = post(o311, secret, fmt)
        assert r.status_code == 403 and r.headers["content-type"] == render.CONTENT_TYPES[fmt], r.text
        assert errors_of(r)[0]["description"].startswith(code)
    admin = o311.auth("admin")  # a person's bearer token opens nothing here
    assert o311.client.post(f"{V2}/requests.{fmt}", data={"service_code": "env.garbage"},
                            headers=admin).status_code == 403
    # api_key as the specification sends it: in the form (POST) or the query (GET).
    r = o311.client.post(f"{V2}/requests.{fmt}", data={"api_key": creator, "service_code": "env.garbage",
                                                      "description": "垃圾没人收", **POINT})
    assert r.status_code == 201, r.text
    reader = issue(o311, ["cases:read"])
    assert o311.client.get(f"{V2}/requests.{fmt}", params={"api_key": reader}).status_code == 200


def test_posting_is_rate_limited_per_key_with_retry_after(tmp_path):
    gen = open311_intake(tmp_path, rate_limits={"intake.case.submit_key": "2/hour"})
    intake = next(gen)
    try:
        secret, other = issue(intake, ["cases:create"]), issue(intake, ["cases:create"])
        assert [post(intake, secret).status_code for _ in range(2)] == [201, 201]
        r = post(intake, secret, "xml")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert errors_of(r)[0]["description"].startswith("rate.limited")
        assert post(intake, other).status_code == 201  # per key
    finally:
        gen.close()


# --------------------------------------------------------------------------- GET requests and one request


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_show_public_information_only_in_the_specifications_elements(o311, fmt):
    w = build(o311)
    district = w.secrets["district"]
    r = o311.client.get(f"{V2}/requests.{fmt}", headers=h(district))
    assert r.status_code == 200 and r.headers["content-type"] == render.CONTENT_TYPES[fmt]
    if fmt == "xml":
        assert all(names == REQUEST_ELEMENTS for names in child_names(r))
    body = parse(r)
    items = {i["service_request_id"]: i for i in (body if fmt == "json" else body["service_requests"])}
    a, c = items[w.ids["a"]], items[w.ids["c"]]
    assert a["description"] == "东门垃圾桶满了，联系我 139****5678"  # as a neighbour following it reads it
    assert a["status"] == "open" and a["agency_responsible"] == "玉林北路社区第一网格"
    assert float(a["lat"]) == 30.6283 and float(a["long"]) == 104.052115
    assert a["address"] is None and a["media_url"] is None
    assert a["requested_datetime"].endswith("+08:00")
    datetime.fromisoformat(a["requested_datetime"])  # ISO 8601 with its offset
    # A confidential case: its category, status and dates, nothing of the matter or the person.
    assert c["description"] is None and c["lat"] is None and c["long"] is None and c["address"] is None
    assert c["status_notes"] == "已派单" and c["service_code"] == "env.garbage"
    text = r.text
    for secret_text in ("13912345678", "王某", "3 单元", "玉林北路 12 号"):
        assert secret_text not in text
    assert w.ids["d"] not in items  # a dispute: mediation's records are the parties'


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_confidential_case_does_not_name_the_unit_handling_it(o311, fmt):
    w = build(o311)
    district = h(w.secrets["district"])
    listed = parse(o311.client.get(f"{V2}/requests.{fmt}", headers=district))
    items = {i["service_request_id"]: i for i in (listed if fmt == "json" else listed["service_requests"])}
    one = parse(o311.client.get(f"{V2}/requests/{w.ids['c']}.{fmt}", headers=district))
    one = one[0] if fmt == "json" else one["service_requests"][0]
    # The grid handling it is a few streets: it would place the report, which only the dates and status may not.
    assert items[w.ids["c"]]["agency_responsible"] is None and one["agency_responsible"] is None
    assert items[w.ids["a"]]["agency_responsible"] == "玉林北路社区第一网格"


def test_what_each_key_lists_is_its_own_filings_and_its_area(o311):
    w = build(o311)
    lists = {name: listed_ids(o311.client.get(f"{V2}/requests.json", headers=h(w.secrets[name])))
             for name in ("platform", "community", "elsewhere", "district")}
    ids = w.ids
    assert lists == {"platform": {ids["k"], ids["d"]}, "community": {ids["k"], ids["a"], ids["c"]},
                     "elsewhere": set(), "district": {ids["k"], ids["a"], ids["c"], ids["o"]}}
    # The platform's own dispute: the category and status, nothing of the matter.
    [dispute] = o311.client.get(f"{V2}/requests/{ids['d']}.json", headers=h(w.secrets["platform"])).json()
    assert dispute["description"] is None and dispute["lat"] is None and "调解" in dispute["service_notice"]


def test_the_filters_of_the_specification(o311):
    w = build(o311)
    key, ids = w.secrets["district"], w.ids

    def listed(**params):
        r = o311.client.get(f"{V2}/requests.json", params=params, headers=h(key))
        assert r.status_code == 200, r.text
        return listed_ids(r)

    assert listed(service_request_id=f"{ids['a']},{ids['o']},{ids['d']},nope") == {ids["a"], ids["o"]}
    # service_request_id overrides the other filters.
    assert listed(service_request_id=ids["a"], service_code="facility.streetlight", **WIDE) == {ids["a"]}
    assert listed(service_code="facility.streetlight") == {ids["o"]}
    assert listed(service_code="facility.streetlight,env.garbage") == {ids["a"], ids["c"], ids["k"], ids["o"]}
    resolve_case = {"id": ids["o"], "case_no": "o"}
    o311.deliver(CaseResolved(**work_order(resolve_case, 2, "wo-o"), actor_id="u-grid-worker-002001",
                              outcome="解决到位", result_text="已更换灯泡"))
    assert listed(status="closed") == {ids["o"]}
    assert listed(status="open") == {ids["a"], ids["c"], ids["k"]}
    assert listed(status="open,closed") == {ids["a"], ids["c"], ids["k"], ids["o"]}
    # The default window is the last 90 days; one older is found only by asking for its dates.
    with o311.rt.uow() as s:
        s.execute(update(Case).where(Case.id == ids["a"]).values(created_at=datetime(2020, 2, 1, tzinfo=UTC)))
    assert ids["a"] not in listed()
    assert listed(**WIDE) == {ids["a"]}
    assert listed(start_date="2020-01-15T00:00:00Z") == {ids["a"]}  # 90 days on from the start
    assert ids["a"] in listed(end_date="2020-02-15T00:00:00+08:00")  # 90 days back from the end
    # Pages, newest first.
    first = o311.client.get(f"{V2}/requests.json", params={"page_size": 2}, headers=h(key)).json()
    second = o311.client.get(f"{V2}/requests.json", params={"page_size": 2, "page": 2}, headers=h(key)).json()
    assert len(first) == 2 and len(second) == 1
    assert first[0]["requested_datetime"] >= first[1]["requested_datetime"] >= second[0]["requested_datetime"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_filters_are_400_in_the_asked_format(o311, fmt):
    key = issue(o311, ALL_READ)
    for params, code in (({"start_date": "2026-11-05"}, "open311.bad_datetime"),  # no time, no offset
                         ({"start_date": "2026-11-05T08:00:00"}, "open311.bad_datetime"),  # no offset
                         ({"end_date": "yesterday"}, "open311.bad_datetime"),
                         ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
                          "open311.date_range"),
                         ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
                          "open311.date_range"),
                         ({"status": "pending"}, "open311.bad_status"),
                         ({"service_request_id": ",".join(["x"] * 101)}, "open311.too_many_ids"),
                         ({"page_size": "1001"}, "validation.out_of_range"),
                         ({"page": "0"}, "validation.out_of_range")):
        r = o311.client.get(f"{V2}/requests.{fmt}", params=params, headers=h(key))
        assert r.status_code == 400 and r.headers["content-type"] == render.CONTENT_TYPES[fmt], (params, r.text)
        [err] = errors_of(r)
        assert err["code"] == 400 and err["description"].startswith(code), (params, err)


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_out_of_reach_is_404_exactly_as_one_that_does_not_exist(o311, fmt):
    w = build(o311)
    ok = o311.client.get(f"{V2}/requests/{w.ids['a']}.{fmt}", headers=h(w.secrets["community"]))
    assert ok.status_code == 200 and ok.headers["content-type"] == render.CONTENT_TYPES[fmt]
    body = parse(ok)
    [item] = body if fmt == "json" else body["service_requests"]
    assert item["service_request_id"] == w.ids["a"]
    hidden = o311.client.get(f"{V2}/requests/{w.ids['o']}.{fmt}", headers=h(w.secrets["community"]))
    missing = o311.client.get(f"{V2}/requests/00000000-0000-0000-0000-000000000000.{fmt}",
                              headers=h(w.secrets["community"]))
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert errors_of(hidden)[0]["description"].startswith("open311.request_not_found")
    # Each refusal to a key is in intake's audit trail, naming the key.
    rows = o311.client.get("/intake/v1/audit", params={"action": "refused.open311"}, headers=o311.auth("admin"))
    entries = rows.json()["items"]
    assert {(e["actor_id"], e["subject_kind"], e["subject_id"]) for e in entries} >= {
        (f"key:{key_id_of(w.secrets['community'])}", "case", w.ids["o"])}


def test_a_key_reads_a_confidential_case_only_with_an_audit_entry_and_its_use_is_reported(o311):
    w = build(o311)
    r = o311.client.get(f"{V2}/requests/{w.ids['c']}.json", headers=h(w.secrets["district"]))
    assert r.status_code == 200
    entries = o311.client.get("/intake/v1/audit", params={"action": "read.case", "subject_id": w.ids["c"]},
                              headers=o311.auth("admin")).json()["items"]
    assert any(e["actor_id"] == f"key:{key_id_of(w.secrets['district'])}" and e["detail"] == {"via": "open311"}
               for e in entries)
    used = {e["data"]["key_id"] for e in o311.events("intake.api_key.used")}
    assert key_id_of(w.secrets["district"]) in used  # identity shows the key's last use


# --------------------------------------------------------------------------- servicerequestupdates


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_carry_the_public_progress_with_mysocietys_extended_statuses(o311, fmt):
    w = build(o311)
    k = {"id": w.ids["k"], "case_no": "k"}
    o311.deliver(CaseSigned(**work_order(k, 2, "wo-k"), actor_id="u-grid-worker-001001"))
    o311.deliver(CaseContacted(**work_order(k, 3, "wo-k"), actor_id="u-grid-worker-001001"))
    o311.deliver(CaseResolved(**work_order(k, 4, "wo-k"), actor_id="u-grid-worker-001001", outcome="解释到位",
                              result_text="经核实为正常收运时间，已向来电人解释，联系电话 13812345678"))
    r = o311.client.get(f"{V2}/servicerequestupdates.{fmt}", params=ever(), headers=h(w.secrets["platform"]))
    assert r.status_code == 200 and r.headers["content-type"] == render.CONTENT_TYPES[fmt], r.text
    if fmt == "xml":
        assert r.content.decode().count("<service_requests_updates>") == 1
        assert all(names == UPDATE_ELEMENTS for names in child_names(r))
    body = parse(r)
    items = body if fmt == "json" else body["service_requests_updates"]
    mine = [u for u in items if u["service_request_id"] == w.ids["k"]]
    assert [u["status"] for u in mine] == ["INVESTIGATING", "ACTION_SCHEDULED", "IN_PROGRESS", "NO_FURTHER_ACTION"]
    assert mine[0]["description"] == "已派单：由玉林北路社区第一网格办理"
    assert "138****5678" in mine[-1]["description"] and "13812345678" not in r.text
    assert [int(u["update_id"]) for u in mine] == sorted(int(u["update_id"]) for u in mine)
    assert all(u["updated_datetime"].endswith("+08:00") for u in mine)
    # The submission itself is an update of now, outside the asked range.
    assert all(u["updated_datetime"] >= "2099" for u in items)


def test_updates_of_a_confidential_case_say_only_its_status_and_a_requesters_words_are_not_repeated(o311):
    w = build(o311)
    resident = o311.auth("resident", "u-resident-1")
    r = o311.client.post(f"/intake/v1/cases/{w.ids['a']}/supplements", json={"text": "我家电话 13700001111，晚上在家"},
                         headers=resident)
    assert r.status_code == 200, r.text
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    items = o311.client.get(f"{V2}/servicerequestupdates.json", params={"start_date": since},
                            headers=h(w.secrets["district"])).json()
    supplement = [u for u in items if u["service_request_id"] == w.ids["a"] and "补充" in u["description"]]
    assert [u["description"] for u in supplement] == ["反映人补充了材料"]
    assert "13700001111" not in json.dumps(items, ensure_ascii=False)
    dispatched_c = o311.client.get(f"{V2}/servicerequestupdates.json", params=ever(),
                                   headers=h(w.secrets["district"])).json()
    confidential = [u for u in dispatched_c if u["service_request_id"] == w.ids["c"]]
    assert [u["description"] for u in confidential] == ["已派单"]  # the status in words, not the unit's text


def test_updates_default_to_the_last_24_hours_and_are_paged(o311):
    w = build(o311)
    key = h(w.secrets["district"])
    recent = o311.client.get(f"{V2}/servicerequestupdates.json", headers=key).json()
    assert {u["service_request_id"] for u in recent} == {w.ids["k"], w.ids["a"], w.ids["c"], w.ids["o"]}
    assert all(u["status"] == "OPEN" for u in recent)  # the submissions: the dispatches are in 2099
    page = o311.client.get(f"{V2}/servicerequestupdates.json", params={**ever(), "page_size": 3}, headers=key).json()
    rest = o311.client.get(f"{V2}/servicerequestupdates.json", params={**ever(), "page_size": 3, "page": 2},
                           headers=key).json()
    assert len(page) == 3 and len(rest) == 1
    assert int(page[-1]["update_id"]) < int(rest[0]["update_id"])


def test_a_status_walked_from_the_timeline_and_the_last_one_is_the_cases_own(o311):
    secret = issue(o311, ["cases:create", "cases:read"])
    case_id = filed(o311, secret)
    case = {"id": case_id, "case_no": "x"}
    o311.deliver(dispatched(case, 1, "wo-1", unit_path=GRID_PATH, area_path=GRID_PATH))
    o311.deliver(CaseSigned(**work_order(case, 2, "wo-1"), actor_id="u-grid-worker-001001"))
    with o311.rt.uow() as s:
        entries = list(s.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case_id,
                                                             TimelineEntry.public.is_(True))
                                 .order_by(TimelineEntry.at)))
        walked = views.statuses_of(entries, "signed")
        # A failed verification, say, moves a case without an entry of that kind: the case's own status wins.
        overridden = views.statuses_of(entries, "contacted")
    assert [walked[e.id] for e in entries] == ["submitted", "dispatched", "signed"]
    assert [overridden[e.id] for e in entries] == ["submitted", "dispatched", "contacted"]


# --------------------------------------------------------------------------- the tables behind it


def test_every_status_of_intake_has_an_open311_status_and_an_extended_one():
    assert set(statuses.STATUS) == set(STATUSES)
    assert {b for b, _ in statuses.STATUS.values()} == set(statuses.BASIC)
    assert {e for _, e in statuses.STATUS.values()} | {"NO_FURTHER_ACTION"} == set(statuses.EXTENDED)
    assert statuses.extended("closed", "解释到位") == "NO_FURTHER_ACTION"
    assert statuses.extended("closed", "解决到位") == "FIXED"


def test_the_documented_answers_have_the_elements_the_views_build_in_the_same_order(o311):
    w = build(o311)
    with o311.rt.uow() as s:
        case = s.get(Case, w.ids["a"])
        from services.intake import catalogue as cat

        built = views.request(case, cat.current(s), english=False)
        entry = s.scalars(select(TimelineEntry).where(TimelineEntry.case_id == case.id)).first()
        update_doc = views.update(entry, case, "submitted", english=False)
        node = cat.current(s).nodes["env.noise"]
    assert list(built) == list(schemas.ServiceRequestOut.model_fields) == REQUEST_ELEMENTS
    assert list(update_doc) == list(schemas.RequestUpdateOut.model_fields) == UPDATE_ELEMENTS
    assert list(views.service(node, False)) == list(schemas.ServiceOut.model_fields) == SERVICE_ELEMENTS
    assert list(views.definition(node, False)["attributes"][0]) == list(schemas.AttributeOut.model_fields)
    assert list(views.created(case, False)) == list(schemas.RequestCreatedOut.model_fields)


def test_xml_is_well_formed_whatever_the_text_holds(o311):
    secret = issue(o311, ALL_READ)
    case_id = filed(o311, secret, description="<b>&amp;</b> 响铃 和 ]]> 结束")
    # A submission refuses control characters now (shared.fields.Meaningful); text stored before may hold them.
    with o311.rt.uow() as s:
        s.execute(update(Case).where(Case.id == case_id).values(description="<b>&amp;</b> \x07响铃\x1b 和 ]]> 结束"))
    r = o311.client.get(f"{V2}/requests/{case_id}.xml", headers=h(secret))
    assert r.status_code == 200
    [item] = parse(r)["service_requests"]
    assert item["description"] == "<b>&amp;</b> 响铃 和 ]]> 结束"


def test_the_openapi_document_lists_the_open311_statuses_and_error_formats_chinese_first():
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from shared.config import get_settings
    from shared.migrate import upgrade

    with TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'doc.sqlite'}"
        upgrade("intake", url)
        rt = SPEC.runtime(get_settings(mode="embedded", var_dir=Path(tmp)), url)
        doc = SPEC.app(rt).openapi()
        rt.dispose()
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() if p.startswith("/open311/")
           for m, op in item.items()}
    assert set(ops) == {("GET", f"{V2}/{path}.{{format}}") for path in (
        "discovery", "services", "services/{service_code}", "requests", "requests/{service_request_id}",
        "tokens/{token}", "servicerequestupdates")} | {("POST", f"{V2}/requests.{{format}}")}
    for (method, path), op in ops.items():
        assert "\u4e00" <= op["summary"][0] <= "\u9fff", (path, op["summary"])  # Chinese first
        responses = op["responses"]
        assert not {"401", "422"} & set(responses), (path, sorted(responses))
        assert {"400", "429", "503"} <= set(responses) and "Retry-After" in responses["503"]["headers"]
        for code, answer in responses.items():
            if code.startswith(("4", "5")) and code != "413":
                assert set(answer["content"]) == {"application/json", "text/xml"}, (path, code)
        ok = responses["201" if method == "POST" else "200"]["content"]
        assert set(ok) == {"application/json", "text/xml"}
    assert set(ops[("POST", f"{V2}/requests.{{format}}")]["responses"]) == {"200", "201", "400", "403", "409", "413",
                                                                           "429", "503"}
    assert "404" in ops[("GET", f"{V2}/requests/{{service_request_id}}.{{format}}")]["responses"]


def test_a_key_files_as_an_operator_on_the_government_channel_only():
    from shared.auth import ApiClient

    client = ApiClient("abc", "12345", frozenset({"cases:create"}))
    user = access.filer(client)
    assert (user.id, user.role, user.unit_codes) == ("key:abc", "operator", ())
    assert set(access.CHANNELS) == {"gov_api"}
