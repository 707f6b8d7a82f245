"""Importing the staff roster from a CSV or XLSX file, all or nothing.

Columns (English or Chinese headers): username 用户名, display_name 姓名, role 角色, unit_codes
单位代码 (several separated by ; ； or 、, the primary first), active 启用 (是/否, true/false, 1/0;
blank: active). Every bad row is reported — unknown role, duplicate username in the file, a unit
code of the wrong form, a missing field — as 422 `roster.invalid` whose detail lists the rows
("第3行 zhang.wei：角色不存在 manager"), and nothing is imported when any row is bad.
Existing usernames are updated in place (users.change: role, units, name, active, with the same
events and session revocations as an admin's change), new ones created without a password (they
set one through an admin's reset or sign in with the identity provider). A dry run validates and
counts without writing.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import STAFF_ROLES
from shared.errors import ApiError
from shared.spreadsheets import XLSX_TYPE as XLSX_TYPE  # the roster endpoint documents it
from shared.spreadsheets import SheetRefused, read_table
from shared.uow import Emit

from . import config, directory, users
from .directory import units_of
from .models import User

COLUMNS = ("username", "display_name", "role", "unit_codes", "active")
REQUIRED = ("username", "display_name", "role", "unit_codes")
HEADERS = {"用户名": "username", "账号": "username", "姓名": "display_name", "角色": "role", "单位代码": "unit_codes",
           "单位": "unit_codes", "启用": "active", "是否启用": "active"}
UNIT_SEPARATORS = re.compile(r"[;；、]")
TRUE = frozenset({"", "true", "yes", "y", "1", "是", "启用", "在职"})
FALSE = frozenset({"false", "no", "n", "0", "否", "停用", "禁用", "离职"})


@dataclass
class Report:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False


@dataclass(frozen=True)
class Row:
    line: int
    username: str
    display_name: str
    role: str
    unit_codes: list[str] = field(default_factory=list)
    active: bool = True


def _invalid(problems: list[str]) -> ApiError:
    return ApiError(422, "roster.invalid", field="file", detail="\n".join(problems))


def _refused(refused: SheetRefused) -> ApiError:
    if refused.status == 415:
        return ApiError(415, "roster.bad_type", field="content_type")
    if refused.status == 413:
        return ApiError(413, "roster.too_large", field="file", detail="\n".join(refused.problems) or None)
    return _invalid(refused.problems)


def refuse_oversize(declared_length: str | None) -> None:
    """Refuse a roster by its Content-Length, before its body is read into memory."""
    if declared_length and declared_length.isdigit() and \
            int(declared_length) > config.get().directory.roster_max_bytes:
        raise ApiError(413, "roster.too_large", field="file")


def read(content_type: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row by column) pairs, the header being line 1; blank lines skipped."""
    policy = config.get().directory
    try:
        table = read_table(content_type, data, max_bytes=policy.roster_max_bytes,
                           max_unpacked_bytes=policy.roster_max_unpacked_bytes, max_rows=policy.roster_max_rows)
    except SheetRefused as refused:
        raise _refused(refused) from None
    if not table or not any(table[0]):
        raise _invalid(["第1行应为表头：" + ", ".join(COLUMNS)])
    header = [HEADERS.get(h.strip(), h.strip().lower()) for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise _invalid(["缺少列：" + ", ".join(missing)])
    rows = [(n, {name: (values[i] if i < len(values) else "") for i, name in enumerate(header) if name in COLUMNS})
            for n, values in enumerate(table[1:], start=2) if any(v for v in values)]
    if len(rows) > policy.roster_max_rows:
        raise _invalid([f"超过{policy.roster_max_rows}行，请分批导入"])
    if not rows:
        raise _invalid(["没有数据行"])
    return rows


def validate(rows: list[tuple[int, dict[str, str]]], actor: User | None) -> tuple[list[Row], list[str]]:
    """The clean rows, and one problem line per bad row (every problem of the row)."""
    seen: dict[str, int] = {}
    clean, problems = [], []
    for n, row in rows:
        name = users.normal_username(row.get("username", ""))
        bad = []
        if not name:
            bad.append("缺少用户名")
        elif not users.valid_username(name):
            bad.append("用户名须为2至64位小写字母、数字、点、下划线或连字符")
        elif name in seen:
            bad.append(f"用户名与第{seen[name]}行重复")
        else:
            seen[name] = n
        display_name = row.get("display_name", "").strip()
        if not display_name:
            bad.append("缺少姓名")
        elif len(display_name) > users.NAME_MAX:
            bad.append(f"姓名超过{users.NAME_MAX}字")
        elif not users.plain_text(display_name):
            bad.append("姓名含有控制字符")
        role = row.get("role", "").strip()
        if not role:
            bad.append("缺少角色")
        elif role not in STAFF_ROLES:
            bad.append(f"角色不存在或不是工作人员角色 {role}")
        units = [u.strip() for u in UNIT_SEPARATORS.split(row.get("unit_codes", "")) if u.strip()]
        wrong = [u for u in units if not users.valid_unit(u)]
        unknown = [u for u in units if u not in wrong and not users.known_unit(u)]
        if not units:
            bad.append("缺少单位代码")
        elif wrong:
            bad.append("单位代码格式不正确 " + "、".join(wrong))
        elif unknown:
            bad.append("单位不存在 " + "、".join(unknown))
        flag = row.get("active", "").strip().lower()
        if flag not in TRUE and flag not in FALSE:
            bad.append(f"启用应为 是/否 {flag}")
        active = flag not in FALSE
        if actor is not None and name == actor.username and (not active or (role and role != actor.role)):
            bad.append("不能停用自己的账号或更改自己的角色")
        if bad:
            problems.append(f"第{n}行 {name or '（无用户名）'}：" + "；".join(bad))
            continue
        clean.append(Row(n, name, display_name, role, list(dict.fromkeys(units)), active))
    return clean, problems


def _differs(user: User, row: Row) -> bool:
    return (user.role, units_of(user), user.display_name or "", user.active) != (
        row.role, row.unit_codes, row.display_name, row.active)


def import_roster(session: Session, emit: Emit, content_type: str, data: bytes, *, actor_id: str, now: datetime,
                  dry_run: bool = False) -> Report:
    rows = read(content_type, data)
    clean, problems = validate(rows, session.get(User, actor_id))
    existing = {u.username: u for u in session.scalars(
        select(User).where(User.username.in_([r.username for r in clean])))} if clean else {}
    for row in clean:
        user = existing.get(row.username)
        if user is not None and user.kind != "staff":
            problems.append(f"第{row.line}行 {row.username}：该用户名属于居民账号")
    if problems:
        raise _invalid(sorted(problems, key=lambda p: int(re.match(r"第(\d+)行", p).group(1))))
    report = Report(total=len(clean), dry_run=dry_run)
    for row in clean:
        user = existing.get(row.username)
        if user is None:
            report.created += 1
            if not dry_run:
                user = directory.create(session, emit, kind="staff", role=row.role, now=now,
                                        unit_codes=row.unit_codes, username=row.username,
                                        display_name=row.display_name)
                if not row.active:
                    directory.set_active(session, emit, user, False, now)
        elif _differs(user, row):
            report.updated += 1
            if not dry_run:
                users.change(session, emit, user, actor_id=actor_id, now=now, role=row.role,
                             unit_codes=row.unit_codes, display_name=row.display_name, active=row.active)
        else:
            report.unchanged += 1
    return report
