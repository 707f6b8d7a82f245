"""The user directory, managed by admins: listing and filtering, adding staff, changing roles,
units and the active flag, each change announced and taking privileges away at once."""

import json

import pytest
from sqlalchemy import select

from services.identity.models import SignInSession, User

from .conftest import events
from .staff import STRONG, admin, headers, sign_in

USERS = "/identity/v1/users"
ME = "/identity/v1/me"


def test_admins_list_users_filtered_and_paged(client):
    auth = admin(client)
    r = client.get(USERS, params={"role": "grid_worker"}, headers=auth)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 6 and {u["role"] for u in page["items"]} == {"grid_worker"}
    r = client.get(USERS, params={"unit": "510107001001000"}, headers=auth).json()
    assert {u["username"] for u in r["items"]} >= {"community-staff-001", "mediator-1"}
    assert all("510107001001000" in u["unit_codes"] for u in r["items"])
    r = client.get(USERS, params={"kind": "staff", "page": 2, "page_size": 10}, headers=auth).json()
    assert r["page"] == 2 and len(r["items"]) == 10 and r["total"] == 35
    assert client.get(USERS, params={"active": False}, headers=auth).json()["total"] == 0
    assert client.get(USERS, params={"unit": "51%"}, headers=auth).status_code == 422


def test_a_residents_phone_is_shown_masked_and_no_secret_is_ever_shown(client, rt):
    r = client.get(USERS, params={"kind": "resident"}, headers=admin(client))
    residents = r.json()["items"]
    assert residents[0]["phone"] == "138****0001"
    with rt.uow() as session:
        secrets = [v for u in session.scalars(select(User)) for v in (u.password_hash, u.phone_sealed) if v]
    body = client.get(USERS, params={"page_size": 200}, headers=admin(client)).text
    assert "13800000001" not in body and "$argon2" not in body
    assert not any(s in body for s in secrets)
    one = client.get(f"{USERS}/u-grid-worker-001001", headers=admin(client)).json()
    assert one["has_password"] is True and "password_hash" not in one and one["phone"] is None


def test_an_unknown_user_is_404(client):
    r = client.get(f"{USERS}/u-nobody", headers=admin(client))
    assert r.status_code == 404 and r.json()["error"]["code"] == "user.not_found"


def test_an_admin_adds_a_staff_member_who_signs_in_with_the_password_given(client, rt):
    r = client.post(USERS, headers=admin(client), json={
        "username": "Zhang.Wei", "display_name": "张伟", "role": "grid_worker",
        "unit_codes": ["510107001001001", "510107001001002"], "password": STRONG})
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["username"] == "zhang.wei" and user["unit_codes"] == ["510107001001001", "510107001001002"]
    assert user["kind"] == "staff" and user["active"] and user["has_password"]
    changed = events(rt, "identity.user.changed")
    assert changed[-1]["data"] == {"user_id": user["id"], "kind": "staff", "role": "grid_worker",
                                   "unit_codes": ["510107001001001", "510107001001002"], "active": True,
                                   "at": changed[-1]["data"]["at"]}
    signed = sign_in(client, "zhang.wei", STRONG)
    assert signed.status_code == 200 and signed.json()["role"] == "grid_worker"


def test_a_staff_member_added_without_a_password_cannot_sign_in_by_password(client):
    r = client.post(USERS, headers=admin(client), json={
        "username": "li.na", "display_name": "李娜", "role": "operator", "unit_codes": ["510107000000000"]})
    assert r.status_code == 201 and r.json()["has_password"] is False
    assert sign_in(client, "li.na", "").status_code == 422
    assert sign_in(client, "li.na", STRONG).json()["error"]["code"] == "signin.failed"


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"username": "grid-worker-001001"}, 409, "user.username_taken"),
    ({"role": "resident"}, 422, "user.bad_role"),
    ({"role": "boss"}, 422, "user.bad_role"),
    ({"unit_codes": ["5101-07"]}, 422, "user.bad_unit"),
    ({"unit_codes": ["999"]}, 422, "user.unknown_unit"),  # well formed, but no unit of the organisation
    ({"username": "has space"}, 422, "user.bad_username"),
    ({"password": "password12345"}, 422, "user.weak_password"),
])
def test_a_bad_new_staff_member_is_refused_and_nothing_is_made(client, rt, changes, status, code):
    body = {"username": "new.person", "display_name": "新人", "role": "grid_worker",
            "unit_codes": ["510107001001001"], **changes}
    auth = admin(client)
    before = client.get(USERS, headers=auth).json()["total"]
    r = client.post(USERS, json=body, headers=auth)
    assert r.status_code == status and r.json()["error"]["code"] == code
    assert client.get(USERS, headers=auth).json()["total"] == before
    assert not [e for e in events(rt, "identity.user.changed") if e["data"]["role"] == "grid_worker"]


def test_a_unit_code_naming_no_unit_of_the_organisation_is_refused_and_the_units_stay(client, rt):
    auth = admin(client)
    for codes in (["999"], ["510107001001000", "510107999999999"]):
        r = client.patch(f"{USERS}/u-operator-2", json={"unit_codes": codes}, headers=auth)
        assert r.status_code == 422 and r.json()["error"]["code"] == "user.unknown_unit", r.text
        assert r.json()["error"]["field"] == "unit_codes"
    before = [e for e in events(rt, "identity.user.changed") if e["data"]["user_id"] == "u-operator-2"]
    assert before == []


def test_changing_a_role_or_units_is_announced_and_ends_the_users_sign_ins(client, rt):
    worker = headers(client, "grid-worker-001001")
    r = client.patch(f"{USERS}/u-grid-worker-001001", headers=admin(client),
                     json={"role": "community_staff", "unit_codes": ["510107001001000"], "display_name": "张伟伟"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "community_staff" and r.json()["display_name"] == "张伟伟"
    last = events(rt, "identity.user.changed")[-1]["data"]
    assert (last["user_id"], last["role"], last["unit_codes"], last["active"]) == (
        "u-grid-worker-001001", "community_staff", ["510107001001000"], True)
    assert client.get(ME, headers=worker).status_code == 401  # the old role's token is gone
    assert [e["data"]["reason"] for e in events(rt, "identity.session.revoked")] == ["admin"]
    again = sign_in(client, "grid-worker-001001").json()
    assert again["role"] == "community_staff"


def test_a_name_change_alone_ends_no_sign_in_and_tells_no_one(client, rt):
    worker = headers(client, "grid-worker-001001")
    before = len(events(rt))
    r = client.patch(f"{USERS}/u-grid-worker-001001", headers=admin(client), json={"display_name": "张大伟"})
    assert r.status_code == 200 and r.json()["display_name"] == "张大伟"
    assert client.get(ME, headers=worker).status_code == 200
    assert len(events(rt)) == before


def test_a_no_in_a_string_does_not_disable_an_account(client):
    """Only the JSON boolean false disables: pydantic's lax mode read "no", "0" and 0 as false."""
    worker = headers(client, "grid-worker-001001")
    auth = admin(client)
    for value in ("no", "0", 0, "false"):
        r = client.patch(f"{USERS}/u-grid-worker-001001", json={"active": value}, headers=auth)
        assert r.status_code == 422, (value, r.text)
        assert r.json()["error"]["code"] == "validation.bad_type" and r.json()["error"]["field"] == "active"
    assert client.get(ME, headers=worker).status_code == 200


def test_disabling_revokes_every_token_and_enabling_lets_the_user_back(client, rt):
    worker = headers(client, "grid-worker-001001")
    auth = admin(client)
    r = client.patch(f"{USERS}/u-grid-worker-001001", json={"active": False}, headers=auth)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(ME, headers=worker).status_code == 401
    assert events(rt, "identity.user.changed")[-1]["data"]["active"] is False
    assert [e["data"]["reason"] for e in events(rt, "identity.session.revoked")] == ["user_disabled"]
    with rt.uow() as session:
        assert all(s.revoked_at for s in session.scalars(
            select(SignInSession).where(SignInSession.user_id == "u-grid-worker-001001")))
    assert sign_in(client, "grid-worker-001001").json()["error"]["code"] == "signin.failed"
    assert client.get(USERS, params={"active": False}, headers=auth).json()["total"] == 1
    r = client.patch(f"{USERS}/u-grid-worker-001001", json={"active": True}, headers=auth)
    assert r.status_code == 200 and r.json()["active"] is True
    assert events(rt, "identity.user.changed")[-1]["data"]["active"] is True


def test_a_resident_gets_no_staff_role(client):
    r = client.patch(f"{USERS}/u-resident-1", json={"role": "admin"}, headers=admin(client))
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.not_staff"


def test_an_admin_cannot_disable_or_demote_themselves(client):
    auth = admin(client)
    for change in ({"active": False}, {"role": "grid_worker"}):
        r = client.patch(f"{USERS}/u-admin-1", json=change, headers=auth)
        assert r.status_code == 409 and r.json()["error"]["code"] == "user.own_account"
    assert client.get(ME, headers=auth).status_code == 200
    # Another admin can.
    r = client.patch(f"{USERS}/u-admin-1", json={"active": False}, headers=headers(client, "admin-2"))
    assert r.status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", USERS, None),
    ("GET", f"{USERS}/u-grid-worker-001001", None),
    ("POST", USERS, {"username": "x.y", "display_name": "某", "role": "admin", "unit_codes": ["510107000000000"]}),
    ("PATCH", f"{USERS}/u-grid-worker-001001", {"role": "admin"}),
    ("PUT", f"{USERS}/u-grid-worker-001001/password", {"password": STRONG}),
])
def test_the_directory_is_for_admins_only(client, rt, method, path, body):
    for username in ("supervisor-1", "grid-worker-001002"):
        r = client.request(method, path, json=body, headers=headers(client, username))
        assert r.status_code == 403 and r.json()["error"]["code"] == "auth.forbidden"
    r = client.request(method, path, json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.missing_token"
    with rt.uow() as session:
        worker = session.get(User, "u-grid-worker-001001")
        assert worker.role == "grid_worker" and json.loads(worker.unit_codes) == ["510107001001001"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775807", "100001", "0", "-1"])
def test_a_page_out_of_range_is_refused_not_a_server_error(client, page):
    r = client.get(USERS, params={"page": page}, headers=admin(client))
    assert r.status_code == 422 and r.json()["error"]["field"] == "page"
    assert r.json()["error"]["code"] == "validation.out_of_range"


def test_the_last_page_allowed_is_empty_not_an_error(client):
    r = client.get(USERS, params={"page": 100_000, "page_size": 200}, headers=admin(client))
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] > 0
    assert client.get(USERS, params={"page_size": 201}, headers=admin(client)).status_code == 422


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "张\x00伟", "张伟\x07", "\x1b[31m张伟", "张\u2028伟", "张伟\u202e",
                                  "张\x85伟"])
def test_a_blank_display_name_or_one_with_control_characters_is_refused(client, rt, name):
    auth = admin(client)
    before = client.get(USERS, headers=auth).json()["total"]
    r = client.post(USERS, headers=auth, json={"username": "new.person", "display_name": name, "role": "grid_worker",
                                               "unit_codes": ["510107001001001"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "display_name"
    assert client.get(USERS, headers=auth).json()["total"] == before
    r = client.patch(f"{USERS}/u-grid-worker-001001", headers=auth, json={"display_name": name})
    assert r.status_code == 422 and r.json()["error"]["field"] == "display_name"
    with rt.uow() as session:
        assert session.get(User, "u-grid-worker-001001").display_name.strip()


def test_a_patch_that_also_renames_badly_changes_nothing(client, rt):
    worker = headers(client, "grid-worker-001001")
    r = client.patch(f"{USERS}/u-grid-worker-001001", headers=admin(client),
                     json={"role": "community_staff", "display_name": "  ", "active": False})
    assert r.status_code == 422 and r.json()["error"]["code"] == "user.bad_name"
    with rt.uow() as session:
        worker_row = session.get(User, "u-grid-worker-001001")
        assert (worker_row.role, worker_row.active) == ("grid_worker", True)
    assert client.get(ME, headers=worker).status_code == 200


def test_names_are_kept_without_surrounding_spaces(client):
    auth = admin(client)
    r = client.post(USERS, headers=auth, json={"username": "  Li.Na\n", "display_name": "  李娜 ", "role": "operator",
                                               "unit_codes": ["510107000000000"]})
    assert r.status_code == 201, r.text
    assert (r.json()["username"], r.json()["display_name"]) == ("li.na", "李娜")
    r = client.patch(f"{USERS}/{r.json()['id']}", headers=auth, json={"display_name": "\t李娜娜  "})
    assert r.status_code == 200 and r.json()["display_name"] == "李娜娜"


@pytest.mark.parametrize("username", ["   ", "zhang\x00wei", "zhang\twei", "zhang\u202ewei", "\x00\x00"])
def test_a_blank_username_or_one_with_control_characters_is_refused(client, username):
    r = client.post(USERS, headers=admin(client), json={"username": username, "display_name": "张伟",
                                                        "role": "grid_worker", "unit_codes": ["510107001001001"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "username"
    assert r.json()["error"]["code"] == "user.bad_username"
