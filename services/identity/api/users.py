"""The user directory, for admins: finding users, adding and changing staff, importing the roster.

Each reading of the directory is an entry of the audit trail (`read.users`, `read.user`: names and
masked phones are personal data); each change is one too, through its event (identity.user.changed:
created, role, units, disabled or enabled) or, where no event tells it, explicitly (`account.renamed`,
`account.roster_imported` with its counts)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from shared.db import utcnow
from shared.deps import Uow

from .. import directory, roster, users, views
from ..schemas import RosterReport, StaffCreate, UserPage, UserPatch, UserView
from .deps import MAX_PAGE, AdminUser, Sealing, UserId

router = APIRouter(tags=["用户管理 users"])

DENIED = {401: {"description": "未登录 not signed in"}, 403: {"description": "仅管理员 admins only"}}


@router.get("/users", response_model=UserPage, summary="用户列表 the users",
            description="仅管理员。可按角色、单位、启用状态、类别筛选；居民手机号脱敏显示。Admins only.",
            responses={**DENIED, 422: {"description": "单位代码格式不正确 user.bad_unit；"
                                                      "页码至多100000 page ≤ 100000"}})
def list_users(admin: AdminUser, uow: Uow, sealing: Sealing,
               role: Annotated[str | None, Query(max_length=30, pattern=r"^[a-z_]+$", description="角色 role")] = None,
               unit: Annotated[str | None, Query(max_length=32, description="单位代码 unit code")] = None,
               active: Annotated[bool | None, Query(description="是否启用 active or not")] = None,
               kind: Annotated[Literal["resident", "staff"] | None, Query(description="居民或工作人员")] = None,
               page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码 page, from 1")] = 1,
               page_size: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 20) -> UserPage:
    found, total = users.listed(uow.session, role=role, unit=unit, active=active, kind=kind, page=page,
                                page_size=page_size)
    uow.audit("read.users", detail={"filters": {k: v for k, v in (("role", role), ("unit", unit), ("active", active),
                                                                  ("kind", kind)) if v is not None},
                                    "page": page, "page_size": page_size, "shown": len(found)})
    return UserPage(items=[views.user_view(u, sealing) for u in found], total=total, page=page, page_size=page_size)


@router.post("/users/import", response_model=RosterReport,
             summary="导入工作人员名册（CSV 或 XLSX，请求体为文件本身）import the staff roster",
             description="列：username 用户名、display_name 姓名、role 角色、unit_codes 单位代码（多个用 ; 或 、 分隔，"
                         "主单位在前）、active 启用（是/否）。全部校验通过才导入，任何一行有误则全部不导入，"
                         "并在 detail 中逐行列出问题。已有用户名就地更新，新用户不设密码。dry_run=true 只校验。"
                         "All or nothing: every bad row is listed in detail and nothing is imported.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}},
                 roster.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
             responses={**DENIED, 413: {"description": "文件过大 roster.too_large"},
                        415: {"description": "不是 CSV 或 XLSX roster.bad_type"},
                        422: {"description": "名册有误，detail 逐行列出 roster.invalid"}})
async def import_roster(request: Request, admin: AdminUser, uow: Uow,
                        dry_run: Annotated[bool, Query(description="只校验不导入 validate only")] = False
                        ) -> RosterReport:
    roster.refuse_oversize(request.headers.get("content-length"))
    data = await request.body()
    report = await run_in_threadpool(roster.import_roster, uow.session, uow.emit,
                                     request.headers.get("content-type", ""), data, actor_id=admin.id, now=utcnow(),
                                     dry_run=dry_run)
    if not report.dry_run:  # each user created or changed is an entry already, through its event
        uow.audit("account.roster_imported", detail={"total": report.total, "created": report.created,
                                                     "updated": report.updated, "unchanged": report.unchanged})
    return RosterReport(total=report.total, created=report.created, updated=report.updated,
                        unchanged=report.unchanged, dry_run=report.dry_run)


@router.get("/users/{user_id}", response_model=UserView, summary="用户详情 one user",
            responses={**DENIED, 404: {"description": "用户不存在 user.not_found"}})
def get_user(user_id: UserId, admin: AdminUser, uow: Uow, sealing: Sealing) -> UserView:
    user = directory.by_id(uow.session, user_id)
    uow.audit("read.user", subject_kind="user", subject_id=user.id)
    return views.user_view(user, sealing)


@router.post("/users", status_code=201, response_model=UserView, summary="新建工作人员 add a staff member",
             description="仅管理员。可不设初始密码（由管理员重置或通过统一身份认证登录）。Admins only.",
             responses={**DENIED, 409: {"description": "用户名已被使用 user.username_taken"},
                        422: {"description": "用户名格式 user.bad_username；姓名为空或含控制字符 user.bad_name；"
                                             "角色 user.bad_role；"
                                             "单位代码 user.bad_unit；单位不存在 user.unknown_unit；"
                                             "密码不符合规则 user.weak_password"}})
def create_user(body: StaffCreate, admin: AdminUser, uow: Uow, sealing: Sealing) -> UserView:
    user = users.create_staff(uow.session, uow.emit, username=body.username, display_name=body.display_name,
                              role=body.role, unit_codes=body.unit_codes, password=body.password, now=utcnow())
    return views.user_view(user, sealing)


@router.patch("/users/{user_id}", response_model=UserView, summary="修改用户：角色、单位、姓名、启用 change a user",
              description="仅管理员。变更角色或单位后该用户需重新登录；停用后其所有令牌立即作废。"
                          "A change of role or units ends the user's sign-ins; disabling revokes every token.",
              responses={**DENIED, 404: {"description": "用户不存在 user.not_found"},
                         409: {"description": "不能停用自己或更改自己的角色 user.own_account"},
                         422: {"description": "姓名为空或含控制字符 user.bad_name；"
                                              "角色 user.bad_role；单位代码 user.bad_unit；单位不存在 "
                                              "user.unknown_unit；居民不能有工作人员角色 "
                                              "user.not_staff"}})
def change_user(user_id: UserId, body: UserPatch, admin: AdminUser, uow: Uow, sealing: Sealing) -> UserView:
    user = directory.by_id(uow.session, user_id)
    changed = users.change(uow.session, uow.emit, user, actor_id=admin.id, now=utcnow(), role=body.role,
                           unit_codes=body.unit_codes, display_name=body.display_name, active=body.active)
    if changed == {"display_name"}:  # the one change no event tells (a name never travels)
        uow.audit("account.renamed", subject_kind="user", subject_id=user.id)
    return views.user_view(user, sealing)
