"""The register: an import with a bad row imports nothing, reads are scoped by role (a department only its
categories), personal fields sealed and masked, every read audited, a stale edit reported with both versions."""

import json

from sqlalchemy import func, select, text

from services.grid.models import Entry, audit

from .conftest import GRID, WORKER, P, auth

HEADER = "姓名,身份证号,联系电话,类别,备注\n"
GOOD_1 = "赵桂芳,11010519491231002X,13912345678,独居老人,\n"
GOOD_2 = "钱大勇,510107198001011235,,社区戒毒康复人员,\n"


def post_csv(client, rt, body: str, who=WORKER, **params):
    return client.post(f"{P}/register/import", params={"kind": "person", "grid_code": GRID, **params},
                       content=body.encode("utf-8"), headers={**auth(rt, who), "Content-Type": "text/csv"})


def count(rt, kind="person") -> int:
    with rt.uow() as s:
        return s.scalar(select(func.count()).select_from(Entry).where(Entry.kind == kind))


def test_an_import_with_a_bad_row_reports_every_bad_row_and_imports_nothing(client, rt):
    before = count(rt)
    sheet = HEADER + GOOD_1 + "孙小明,110105194912310037,12345,独居老人,\n" + GOOD_2 + "李四,,,不存在的类别,\n"
    r = post_csv(client, rt, sheet)
    assert r.status_code == 422 and r.json()["error"]["code"] == "import.invalid"
    lines = r.json()["error"]["detail"].split("\n")
    assert [line.split("：")[0] for line in lines] == ["第3行", "第5行"]
    assert "110105194912310037" not in r.text and "12345" not in r.text  # what was typed is never echoed
    assert count(rt) == before
    r = post_csv(client, rt, HEADER + GOOD_1 + GOOD_2)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2 and count(rt) == before + 2


def test_personal_fields_are_sealed_at_rest(client, rt):
    post_csv(client, rt, HEADER + GOOD_1)
    with rt.engine.connect() as conn:
        stored = conn.execute(text("SELECT personal FROM register_entries WHERE kind = 'person'")).scalars().all()
    assert stored and not any("赵桂芳" in s or "13912345678" in s for s in stored)


def _people(client, rt, who) -> dict[str, dict]:
    r = client.get(f"{P}/register/entries", params={"kind": "person", "limit": 200}, headers=auth(rt, who))
    assert r.status_code == 200, r.text
    return {e["category"]: e for e in r.json()}


def test_register_reads_are_scoped_by_role_and_a_department_sees_only_its_categories(client, rt):
    post_csv(client, rt, HEADER + GOOD_1 + GOOD_2)
    mine = _people(client, rt, WORKER)
    assert mine["elderly_alone"]["fields"]["id_number"] == "11010519491231002X" and not mine["elderly_alone"]["masked"]
    # The police (its type responsible for 社区戒毒康复人员) sees that person in full, and no one else.
    police = _people(client, rt, "u-department-handler-900002")
    assert set(police) == {"drug_rehab"} and police["drug_rehab"]["fields"]["name"] == "钱大勇"
    elderly = mine["elderly_alone"]["id"]
    r = client.get(f"{P}/register/entries/{elderly}", headers=auth(rt, "u-department-handler-900002"))
    assert r.status_code == 404  # the handler is refused: out of its categories
    assert client.get(f"{P}/register/entries", headers=auth(rt, "u-department-handler-900001")).json() == []
    # Oversight sees who is on the lists, masked; the community in full; another grid's worker and community nothing.
    street = _people(client, rt, "u-street-dispatcher-1")["elderly_alone"]
    assert street["masked"] and street["fields"]["name"] == "赵**" and street["fields"]["phone"] == "139****5678"
    assert street["fields"]["id_number"] == "1101**********002X"
    assert not _people(client, rt, "u-community-staff-001")["elderly_alone"]["masked"]
    for stranger in ("u-grid-worker-001002", "u-community-staff-002"):
        assert client.get(f"{P}/register/entries/{elderly}", headers=auth(rt, stranger)).status_code == 404
        assert _people(client, rt, stranger) == {}
    for role_without_need in ("u-operator-1", "u-mediator-1"):
        assert client.get(f"{P}/register/entries", headers=auth(rt, role_without_need)).status_code == 403
    # Every read is in the trail, allowed or refused.
    with rt.uow() as s:
        rows = s.execute(select(audit.c.actor_id, audit.c.detail).where(
            audit.c.action == "read.entry", audit.c.subject_id == elderly)).all()
    assert {(r.actor_id, json.loads(r.detail)["allowed"]) for r in rows} >= {
        ("u-department-handler-900002", False), ("u-grid-worker-001002", False)}


def test_a_stale_edit_is_a_conflict_with_both_versions_and_changes_nothing(client, rt):
    entry = post_csv(client, rt, HEADER + GOOD_1).json()["entry_ids"][0]
    h = auth(rt, WORKER)
    r = client.patch(f"{P}/register/entries/{entry}", json={"version": 1, "fields": {"phone": "13812345678"}},
                     headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2
    # The community's staff edits from the version she saw before the worker's edit.
    r = client.patch(f"{P}/register/entries/{entry}", json={"fields": {"phone": "13700000000"}},
                     headers={**auth(rt, "u-community-staff-001"), "If-Match": '"1"'})
    assert r.status_code == 409 and r.json()["error"]["code"] == "register.version_conflict"
    assert r.json()["error"]["yours"] == 1 and r.json()["error"]["current"]["version"] == 2
    assert r.json()["error"]["current"]["fields"]["phone"] == "+8613812345678"
    now = client.get(f"{P}/register/entries/{entry}", headers=h).json()
    assert now["version"] == 2 and now["fields"]["phone"] == "+8613812345678"
    r = client.patch(f"{P}/register/entries/{entry}", json={"fields": {"phone": "13700000000"}}, headers=h)
    assert r.status_code == 428


def test_a_bad_phone_id_number_or_category_names_its_field_under_fields_and_the_sheet_its_column(client, rt):
    entry = post_csv(client, rt, HEADER + GOOD_1).json()["entry_ids"][0]
    h = auth(rt, WORKER)
    for fields, code, field in (({"phone": "12345"}, "register.bad_phone", "fields.phone"),
                                ({"id_number": "110105194912310037"}, "register.bad_id_number", "fields.id_number"),
                                ({"category": "no_such_list"}, "register.unknown_category", "fields.category")):
        r = client.patch(f"{P}/register/entries/{entry}", json={"version": 1, "fields": fields}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text
        assert r.json()["error"]["field"] == field  # as a schema error names it: fields.<name>
    sheet = HEADER + "孙小明,110105194912310037,12345,独居老人,\n"
    problem = post_csv(client, rt, sheet).json()["error"]["detail"]
    assert problem.startswith("第2行：") and "fields." not in problem and "id_number：" in problem


def test_a_no_is_no_boolean_and_a_version_of_text_is_no_number_in_an_edit(client, rt):
    entry = post_csv(client, rt, HEADER + GOOD_1).json()["entry_ids"][0]
    h = auth(rt, WORKER)
    for body, field in (({"version": 1, "active": "no"}, "active"), ({"version": "1", "active": False}, "version"),
                        ({"version": 1, "active": 0}, "active")):
        r = client.patch(f"{P}/register/entries/{entry}", json=body, headers=h)
        assert r.status_code == 422 and (r.json()["error"]["code"], r.json()["error"]["field"]) == (
            "validation.bad_type", field), r.text
    assert client.get(f"{P}/register/entries/{entry}", headers=h).json()["active"] is True
    person = client.get(f"{P}/register/entries", params={"kind": "person"}, headers=h).json()[0]
    body = {"person_id": person["id"], "note": "情况良好", "help_needed": "yes"}
    r = client.post(f"{P}/visits", json=body, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "help_needed"
