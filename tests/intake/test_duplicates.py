"""Duplicates offered before and at submission; joining (它也影响我); staff merges."""

import pytest

from shared.events.routing import CaseResolved

from .conftest import GRID_POINT, NEAR, dispatched, work_order

FAR = {"lat": 30.6367, "lon": 104.06122, "coord_system": "wgs84"}  # about 1.3 km away


def test_open_cases_of_the_same_category_nearby_with_similar_text_are_offered(intake):
    first = intake.submit(description="小区东门垃圾桶三天没有清运，臭气熏天")
    intake.submit(description="小区东门垃圾桶三天没有清运", **FAR)  # too far
    intake.submit(category="env.greening", description="小区东门垃圾桶三天没有清运")  # another category
    intake.submit(description="楼顶有人晾晒被子挡住了太阳能板")  # same place, different matter
    second = intake.submit(user_id="u-resident-2", description="东门的垃圾桶好几天没人清运了", **NEAR)
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    offer = second["possible_duplicates"][0]
    assert offer["distance_m"] < 30 and 0.25 <= offer["similarity"] <= 1 and offer["status_label"] == "已受理"
    r = intake.client.post("/intake/v1/cases/duplicates", json={"category": "env.garbage",
                                                                "description": "东门垃圾桶没人清运", **NEAR},
                           headers=intake.auth("resident", "u-resident-3"))
    assert first["id"] in [d["id"] for d in r.json()]


def test_a_finished_case_is_not_offered(intake):
    case = intake.submit()
    intake.client.post(f"/intake/v1/cases/{case['id']}/withdraw", headers=intake.auth("resident"))
    r = intake.client.post("/intake/v1/cases/duplicates", json={"category": "env.garbage",
                                                                "description": case["description"], **GRID_POINT},
                           headers=intake.auth("resident"))
    assert r.json() == []


def test_a_confidential_case_is_neither_offered_to_nor_joinable_by_other_residents(intake):
    secret = intake.submit(role="operator", channel="hotline", caller_phone="13812345678", consent=True,
                           confidential=True, description="小区东门垃圾桶三天没有清运，气味很大。")
    query = {"category": "env.garbage", "description": "东门垃圾桶三天没有清运", **GRID_POINT}
    r = intake.client.post("/intake/v1/cases/duplicates", json=query, headers=intake.auth("resident", "u-resident-3"))
    assert r.status_code == 200 and secret["id"] not in [d["id"] for d in r.json()]
    later = intake.submit(user_id="u-resident-3", description="东门垃圾桶三天没有清运")
    assert secret["id"] not in [d["id"] for d in later["possible_duplicates"]]
    r = intake.client.post(f"/intake/v1/cases/{secret['id']}/join", headers=intake.auth("resident", "u-resident-3"))
    assert r.status_code == 404
    # staff still see it among the duplicates, and can merge
    r = intake.client.post("/intake/v1/cases/duplicates", json=query, headers=intake.auth("operator"))
    assert secret["id"] in [d["id"] for d in r.json()]


def test_joining_counts_interest_and_the_joiner_follows_updates(intake):
    case = intake.submit()
    h2 = intake.auth("resident", "u-resident-2")
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=h2)
    assert r.status_code == 200 and r.json()["interest_count"] == 2 and r.json()["relation"] == "follower"
    assert r.json()["reporter"] is None  # a follower never sees who reported it
    [ev] = intake.events("intake.case.joined")
    assert ev["data"]["user_id"] == "u-resident-2" and ev["data"]["interest_count"] == 2
    again = intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=h2)
    assert again.status_code == 409 and again.json()["error"]["code"] == "case.already_joined"
    own = intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=intake.auth("resident"))
    assert own.json()["error"]["code"] == "case.cannot_join_own"
    mine = intake.client.get("/intake/v1/cases", headers=h2).json()
    assert mine["total"] == 1 and mine["items"][0]["relation"] == "follower"
    intake.deliver(dispatched(case, 1))
    assert intake.get(case["id"], user_id="u-resident-2")["status"] == "dispatched"


def test_a_merged_case_follows_its_parents_status_and_outcome(intake):
    parent = intake.submit()
    child = intake.submit(user_id="u-resident-2", description="东门垃圾没人收", **NEAR)
    intake.deliver(dispatched(child, 1, "wo-c"))  # both in the street's scope
    r = intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                           headers=intake.auth("resident"))
    assert r.status_code == 403
    r = intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                           headers=intake.auth("street_dispatcher"))
    assert r.status_code == 404 and r.json()["error"]["field"] == "parent_case_id"  # not in its scope yet
    intake.deliver(dispatched(parent, 1))
    r = intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": parent["id"]},
                           headers=intake.auth("street_dispatcher"))
    assert r.status_code == 200 and r.json()["parent_case_no"] == parent["case_no"]
    [ev] = intake.events("intake.case.merged")
    assert (ev["data"]["child_case_id"], ev["data"]["parent_case_id"]) == (child["id"], parent["id"])
    intake.deliver(dispatched(parent, 1))
    intake.deliver(CaseResolved(**work_order(parent, 2), actor_id="w", outcome="解决到位", result_text="已清运"))
    view = intake.get(child["id"], user_id="u-resident-2")
    assert view["status"] == "resolved" and view["outcome"] == "解决到位" and view["result_text"] == "已清运"
    assert "merged" in [t["kind"] for t in view["timeline"]]
    assert intake.get(parent["id"])["interest_count"] == 2
    # merging into itself, into a merged case, or a merged case again is refused
    h = intake.auth("street_dispatcher")
    assert intake.client.post(f"/intake/v1/cases/{parent['id']}/merge", json={"parent_case_id": parent["id"]},
                              headers=h).json()["error"]["code"] == "case.merge_self"
    other = intake.submit()
    intake.deliver(dispatched(other, 1, "wo-o"))
    assert intake.client.post(f"/intake/v1/cases/{other['id']}/merge", json={"parent_case_id": child["id"]},
                              headers=h).json()["error"]["code"] == "case.merge_invalid"
    assert intake.client.post(f"/intake/v1/cases/{child['id']}/merge", json={"parent_case_id": other["id"]},
                              headers=h).json()["error"]["code"] == "case.already_merged"


@pytest.mark.postgres
def test_the_duplicate_lookup_reads_a_bounded_number_of_rows_however_many_open_cases_share_its_cells(pg_intake):
    """In a surge at one place (a burst main) thousands of open reports share a cell. With `grid_cell IN (…)`
    over the cells around the point, PostgreSQL read every one of them in the window to sort out the newest
    fifty, so each submission cost more than the one before; one index range per cell reads at most fifty."""
    from sqlalchemy import event, text

    from services.intake import duplicates, geo
    from services.intake.catalogue import current
    from services.intake.config import get as policy
    from shared.auth import User
    from shared.db import utcnow

    rules = policy().duplicates
    size = rules.cell_degrees
    # On the line between two rows of cells: the lookup spans two cells (or four), one of them crowded.
    border = {"lat": round((round((30.6283 + 90) / size) * size) - 90 + 1e-6, 7), "lon": 104.052115,
              "coord_system": "wgs84"}
    pg_intake.submit(**border)
    with pg_intake.rt.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases SELECT (jsonb_populate_record(NULL::cases, to_jsonb(c) || jsonb_build_object("
            "'id', gen_random_uuid()::text, 'case_no', c.case_no || '-' || g, "
            "'created_at', c.created_at - g * interval '1 second'))).* FROM cases c, generate_series(1, 3000) g"))
        # A crowd just across the line too, its cases between the first crowd's in time.
        conn.execute(text(
            "INSERT INTO cases SELECT (jsonb_populate_record(NULL::cases, to_jsonb(c) || jsonb_build_object("
            "'id', gen_random_uuid()::text, 'case_no', c.case_no || '-b' || g, 'grid_cell', c.grid_cell - 1000000, "
            "'lat', c.lat - 2e-6, 'created_at', c.created_at - (g + 0.5) * interval '1 second'))).* "
            "FROM cases c, generate_series(1, 3000) g WHERE c.case_no NOT LIKE '%-%-%-%'"))
        conn.execute(text("ANALYZE cases"))
    seen = []
    event.listen(pg_intake.rt.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    with pg_intake.rt.sessions() as session:
        node = current(session).leaf("env.garbage")
        cells = geo.cells_around(border["lat"], border["lon"], node.radius_m, size)
        offered = duplicates.find(session, node, "小区东门垃圾桶三天没有清运，气味很大。", border["lat"], border["lon"],
                                  now=utcnow(), user=User(id="u-resident-x", role="resident"))
    assert len(cells) >= 2 and len(offered) == rules.max_offers
    statement, params = next((s, p) for s, p in seen if "grid_cell" in s)
    with pg_intake.rt.engine.connect() as conn:
        raw = conn.connection.driver_connection
        plan = raw.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).fetchone()[0][0]["Plan"]

    def rows_read(node) -> int:
        """Rows the scans of `cases` produced or read and threw away (a filter, an index recheck)."""
        kept = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck")
        own = sum(node.get(k, 0) for k in kept) * node.get("Actual Loops", 1) if "Relation Name" in node else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    assert rows_read(plan) <= len(cells) * rules.max_candidates
    # Only the newest of all the cells come back, merged by the database, not the newest of each cell.
    with pg_intake.rt.engine.connect() as conn:
        returned = [r[0] for r in conn.connection.driver_connection.execute(statement, params).fetchall()]
        newest = list(conn.execute(text(
            "SELECT id FROM cases WHERE grid_cell = ANY(:cells) ORDER BY created_at DESC, id LIMIT :n"),
            {"cells": cells, "n": rules.max_candidates}).scalars())
    assert returned == newest
