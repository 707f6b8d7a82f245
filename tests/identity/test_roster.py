"""The staff roster import (CSV and XLSX): all or nothing, every bad row reported, existing
usernames updated in place, new ones created without a password, a dry run writing nothing."""

import io
import json
import struct
import zipfile

from openpyxl import Workbook
from sqlalchemy import func, select

from services.identity import config
from services.identity.models import User
from services.identity.roster import XLSX_TYPE

from .conftest import events
from .staff import admin, headers, sign_in

IMPORT = "/identity/v1/users/import"
ME = "/identity/v1/me"
HEADER = ["username", "display_name", "role", "unit_codes", "active"]


def csv_body(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    return "\n".join(",".join(r) for r in [header, *rows]).encode()


def xlsx_body(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, auth, data: bytes, content_type: str = "text/csv", **params):
    return client.post(IMPORT, content=data, params=params, headers={**auth, "Content-Type": content_type})


def user_count(rt) -> int:
    with rt.uow() as session:
        return session.scalar(select(func.count()).select_from(User))


def user(rt, username: str) -> User | None:
    with rt.uow() as session:
        found = session.scalar(select(User).where(User.username == username))
        if found is not None:
            session.expunge(found)
        return found


GOOD = [
    ["zhang.san", "张三", "grid_worker", "510107001001001;510107001001002", "是"],
    ["li.si", "李四", "community_staff", "510107001001000、510107001002000", ""],
    ["wang.wu", "王五", "operator", "510107000000000", "否"],
    # Existing: moved to another grid, and kept as is.
    ["grid-worker-001001", "张伟", "grid_worker", "510107001002001", "true"],
    ["grid-worker-001002", "王芳", "grid_worker", "510107001001002", "1"],
]


def test_a_csv_roster_creates_updates_and_leaves_the_rest(client, rt):
    worker = headers(client, "grid-worker-001001")
    r = upload(client, admin(client), csv_body(GOOD))
    assert r.status_code == 200, r.text
    assert r.json() == {"total": 5, "created": 3, "updated": 1, "unchanged": 1, "dry_run": False}
    zhang = user(rt, "zhang.san")
    assert (zhang.kind, zhang.role, json.loads(zhang.unit_codes), zhang.active) == (
        "staff", "grid_worker", ["510107001001001", "510107001001002"], True)
    assert zhang.password_hash is None  # sets one through an admin's reset, or signs in through OIDC
    assert json.loads(user(rt, "li.si").unit_codes) == ["510107001001000", "510107001002000"]
    assert user(rt, "wang.wu").active is False
    assert json.loads(user(rt, "grid-worker-001001").unit_codes) == ["510107001002001"]
    # The moved worker's sign-ins end (his units changed); everyone changed is announced.
    assert client.get(ME, headers=worker).status_code == 401
    announced = {e["data"]["user_id"] for e in events(rt, "identity.user.changed")}
    assert {zhang.id, user(rt, "li.si").id, user(rt, "wang.wu").id, "u-grid-worker-001001"} <= announced
    assert "u-grid-worker-001002" not in announced
    # The same file again changes nothing.
    assert upload(client, admin(client), csv_body(GOOD)).json() == {
        "total": 5, "created": 0, "updated": 0, "unchanged": 5, "dry_run": False}


def test_every_bad_row_is_reported_and_nothing_is_imported(client, rt):
    before, before_events = user_count(rt), len(events(rt))
    rows = [
        GOOD[0],
        ["zhang.san", "张三", "grid_worker", "510107001001001", "是"],  # duplicate in the file
        ["zhao.liu", "赵六", "manager", "510107001001001", "是"],  # unknown role
        ["qian.qi", "钱七", "grid_worker", "5101-0700", "是"],  # bad unit code
        ["sun.ba", "", "resident", "", "也许"],  # missing name and units, a resident, a bad flag
        ["", "无名", "operator", "510107000000000", "是"],  # missing username
        ["grid-worker-001001", "张伟", "admin", "510107001001001", "是"],  # fine on its own
        ["wu.jiu", "吴九", "operator", "510107999999999", "是"],  # well formed, but no unit of the organisation
    ]
    r = upload(client, admin(client), csv_body(rows))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "roster.invalid" and error["message"] == "名册有误，未导入"
    lines = error["detail"].split("\n")
    assert [line.split("：")[0] for line in lines] == [
        "第3行 zhang.san", "第4行 zhao.liu", "第5行 qian.qi", "第6行 sun.ba", "第7行 （无用户名）", "第9行 wu.jiu"]
    assert "与第2行重复" in lines[0]
    assert "manager" in lines[1] and "单位代码格式不正确 5101-0700" in lines[2]
    assert all(p in lines[3] for p in ("缺少姓名", "角色不存在", "缺少单位代码", "启用应为"))
    assert "缺少用户名" in lines[4]
    assert "单位不存在 510107999999999" in lines[5]
    assert user_count(rt) == before and len(events(rt)) == before_events
    assert user(rt, "zhang.san") is None and user(rt, "grid-worker-001001").role == "grid_worker"


def test_an_xlsx_roster_is_imported_the_same_way(client, rt):
    rows = [["zhang.san", "张三", "grid_worker", 510107001001001, True],  # a unit code typed as a number
            ["grid-worker-001001", "张伟", "grid_worker", "510107001001001", "停用"]]
    r = upload(client, admin(client), xlsx_body(rows), XLSX_TYPE)
    assert r.status_code == 200, r.text
    assert r.json() == {"total": 2, "created": 1, "updated": 1, "unchanged": 0, "dry_run": False}
    assert json.loads(user(rt, "zhang.san").unit_codes) == ["510107001001001"]
    assert user(rt, "grid-worker-001001").active is False
    assert sign_in(client, "grid-worker-001001").json()["error"]["code"] == "signin.failed"


def test_a_bad_xlsx_roster_reports_every_row(client, rt):
    before = user_count(rt)
    rows = [["zhang.san", "张三", "grid_worker", "510107001001001", "是"],
            ["zhang.san", None, "grid_worker", None, None],
            ["li.si", "李四", "chief", "510107001001001", None]]
    r = upload(client, admin(client), xlsx_body(rows), XLSX_TYPE)
    assert r.status_code == 422
    detail = r.json()["error"]["detail"]
    assert detail.startswith("第3行 zhang.san：") and "缺少姓名" in detail and "第4行 li.si：" in detail
    assert user_count(rt) == before


def test_a_dry_run_validates_and_counts_but_writes_nothing(client, rt):
    before, before_events = user_count(rt), len(events(rt))
    r = upload(client, admin(client), csv_body(GOOD), dry_run="true")
    assert r.json() == {"total": 5, "created": 3, "updated": 1, "unchanged": 1, "dry_run": True}
    assert user_count(rt) == before and len(events(rt)) == before_events
    bad = upload(client, admin(client), csv_body([["x", "某", "grid_worker", "1", "是"]]), dry_run="true")
    assert bad.status_code == 422 and "第2行" in bad.json()["error"]["detail"]


def test_a_chinese_excel_csv_in_gbk_with_chinese_headers(client, rt):
    data = csv_body([["zhou.jiu", "周九", "mediator", "510107001001000", "是"]],
                    header=["用户名", "姓名", "角色", "单位代码", "启用"]).decode().encode("gb18030")
    r = upload(client, admin(client), data, "text/csv; charset=gbk")
    assert r.status_code == 200, r.text
    assert user(rt, "zhou.jiu").display_name == "周九"


def test_a_roster_must_be_csv_or_xlsx_with_the_columns(client):
    auth = admin(client)
    r = upload(client, auth, b'{"username": "x"}', "application/json")
    assert r.status_code == 415 and r.json()["error"]["code"] == "roster.bad_type"
    r = upload(client, auth, b"name,role\nx,admin\n")
    assert r.status_code == 422 and "缺少列" in r.json()["error"]["detail"]
    r = upload(client, auth, b"not a spreadsheet", XLSX_TYPE)
    assert r.status_code == 422 and "XLSX" in r.json()["error"]["detail"]
    r = upload(client, auth, b"")
    assert r.status_code == 422


def test_an_admin_cannot_disable_themselves_by_roster(client, rt):
    r = upload(client, admin(client), csv_body([["admin-1", "管理员", "admin", "510107000000000", "否"]]))
    assert r.status_code == 422 and "不能停用自己的账号" in r.json()["error"]["detail"]
    assert user(rt, "admin-1").active is True


def test_the_import_is_for_admins_only(client, rt):
    before = user_count(rt)
    r = upload(client, headers(client, "supervisor-1"), csv_body(GOOD))
    assert r.status_code == 403
    assert upload(client, {}, csv_body(GOOD)).status_code == 401
    assert user_count(rt) == before


# --------------------------------------------------------------------------- hostile files


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def declaring(data: bytes, size: int) -> bytes:
    """The archive with its (first) member's uncompressed size in the central directory made `size`:
    what a crafted file claims, whatever it holds."""
    at = data.index(b"PK\x01\x02") + 24
    return data[:at] + struct.pack("<I", size) + data[at + 4:]


def test_an_xlsx_that_unpacks_to_more_than_the_limit_is_refused_before_it_is_read(client, rt):
    """A zip bomb: 50 MB of one character compresses to some 50 KB."""
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"a" * 50_000_000})
    assert len(bomb) < 200_000 < config.get().directory.roster_max_bytes
    before = user_count(rt)
    r = upload(client, admin(client), bomb, XLSX_TYPE)
    assert r.status_code == 413 and r.json()["error"]["code"] == "roster.too_large"
    assert r.json()["error"]["field"] == "file"
    assert user_count(rt) == before


def test_an_xlsx_whose_member_declares_a_huge_size_is_refused(client):
    forged = declaring(zip_of({"xl/worksheets/sheet1.xml": b"<worksheet/>"}), 3_000_000_000)
    with zipfile.ZipFile(io.BytesIO(forged)) as archive:
        assert archive.infolist()[0].file_size == 3_000_000_000
    r = upload(client, admin(client), forged, XLSX_TYPE)
    assert r.status_code == 413 and r.json()["error"]["code"] == "roster.too_large"


def test_the_unpacked_limit_is_what_the_members_add_up_to(client, rt):
    limit = config.get().directory.roster_max_unpacked_bytes
    assert limit == 20_000_000
    # Many members each under the limit, together over it.
    many = zip_of({f"xl/media/image{i}.bin": b"b" * (limit // 4) for i in range(5)})
    r = upload(client, admin(client), many, XLSX_TYPE)
    assert r.status_code == 413 and r.json()["error"]["code"] == "roster.too_large"
    # A real roster is far under it and imports.
    ok = upload(client, admin(client), xlsx_body([GOOD[0]]), XLSX_TYPE)
    assert ok.status_code == 200, ok.text


def test_a_body_declared_xlsx_that_is_no_zip_is_refused(client):
    auth = admin(client)
    for body in (b"username,display_name\nx,y\n", b"PK\x03\x04 truncated", b"\x00" * 64):
        r = upload(client, auth, body, XLSX_TYPE)
        assert r.status_code == 422 and r.json()["error"]["code"] == "roster.invalid"
        assert "XLSX" in r.json()["error"]["detail"]


def test_a_cell_far_to_the_right_does_not_pad_every_row(client, rt):
    """One cell in column XFD would make every row 16,384 cells wide: only the first columns are read."""
    book = Workbook()
    sheet = book.active
    for row in [HEADER, GOOD[0]]:
        sheet.append(row)
    sheet.cell(row=1, column=16384, value="备注")
    out = io.BytesIO()
    book.save(out)
    r = upload(client, admin(client), out.getvalue(), XLSX_TYPE)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1 and user(rt, "zhang.san").display_name == "张三"


def test_blank_names_and_control_characters_are_reported_per_row(client, rt):
    before = user_count(rt)
    rows = [["zhang.san", "张\x00三", "grid_worker", "510107001001001", "是"],
            ["li.si", "李\u202e四\x07", "grid_worker", "510107001001001", "是"],
            ["wang\x00wu", "王五", "grid_worker", "510107001001001", "是"],
            ["zhao.liu", "   ", "grid_worker", "510107001001001", "是"]]
    r = upload(client, admin(client), csv_body(rows))
    assert r.status_code == 422 and r.json()["error"]["code"] == "roster.invalid"
    lines = r.json()["error"]["detail"].split("\n")
    assert len(lines) == 4
    assert "第2行 zhang.san：" in lines[0] and "控制字符" in lines[0]
    assert "第3行 li.si：" in lines[1] and "控制字符" in lines[1]
    assert lines[2].startswith("第4行") and "用户名须为" in lines[2]
    assert "第5行 zhao.liu：" in lines[3] and "缺少姓名" in lines[3]
    assert user_count(rt) == before


def test_names_in_a_roster_are_kept_without_surrounding_spaces(client, rt):
    r = upload(client, admin(client), csv_body([[" Zhang.San ", "  张三  ", "grid_worker", "510107001001001", "是"]]))
    assert r.status_code == 200, r.text
    assert user(rt, "zhang.san").display_name == "张三"
