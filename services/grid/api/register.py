"""The grid's register: create, list, read, edit (with the version seen), import from a spreadsheet."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from shared.db import utcnow
from shared.deps import CurrentUser, Uow
from shared.errors import ApiError

from .. import access, importer, views, writes
from ..models import KINDS, Entry
from ..schemas import EntryIn, EntryPatch, EntryView, ImportReport
from .deps import IdempotencyKey, IfMatch, answered, answers

router = APIRouter(tags=["网格台账 register"])
EntryId = Annotated[str, Path(max_length=36, description="台账记录 id")]
Kind = Literal["building", "household", "person", "rental", "tenant", "organisation"]


@router.post("/register/entries", status_code=201, response_model=EntryView, responses=answers(400, 403, 409),
             summary="新增台账记录（楼栋、住户、人员、出租屋、租户、单位）add a register entry",
             description="网格员（本网格）、社区工作人员（本社区网格）。个人信息加密保存。"
                         "带 Idempotency-Key 重放返回首次应答。")
def create_entry(body: Annotated[EntryIn, Body()], user: CurrentUser, uow: Uow, key: IdempotencyKey = None):
    return answered(*writes.run(uow, user, "register.create", key, None, body)[:2])


@router.get("/register/entries", response_model=list[EntryView], responses=answers(403),
            summary="台账记录列表（本辖区；职能部门只见其负责类别的人员）register entries in my sight")
def list_entries(user: CurrentUser, uow: Uow,
                 kind: Annotated[Kind | None, Query(description="类型")] = None,
                 grid_code: Annotated[str | None, Query(max_length=32, description="网格代码")] = None,
                 category: Annotated[str | None, Query(max_length=40, description="人员类别代码")] = None,
                 parent_id: Annotated[str | None, Query(max_length=36, description="上级记录 id")] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[EntryView]:
    sight = access.register_reader(uow, user, "read.register")
    query = select(Entry).where(sight.entries())
    for column, value in ((Entry.kind, kind), (Entry.grid_code, grid_code), (Entry.category, category),
                          (Entry.parent_id, parent_id)):
        if value is not None:
            query = query.where(column == value)
    rows = list(uow.session.scalars(query.order_by(Entry.grid_code, Entry.kind, Entry.created_at, Entry.id)
                                    .limit(limit).offset(offset)))
    # Every record shown is a read of it: the listing names them all.
    access.audit(uow, "read.register", True, count=len(rows), entry_ids=[e.id for e in rows], masked=sight.masked)
    return [views.entry(e, sight.masked) for e in rows]


@router.get("/register/entries/{entry_id}", response_model=EntryView, responses=answers(404),
            summary="一条台账记录 a register entry")
def get_entry(entry_id: EntryId, user: CurrentUser, uow: Uow) -> EntryView:
    entry, sight = access.readable_entry(uow, user, entry_id, "read.entry")
    return views.entry(entry, sight.masked)


@router.patch("/register/entries/{entry_id}", response_model=EntryView, responses=answers(400, 403, 404, 409, 428),
              summary="修改台账记录（带上看到的版本号）edit a register entry",
              description="须带 If-Match 或 version：与当前版本不同则 409（应答 error.yours 为您的版本，"
                          "error.current 为当前记录），不作修改，不会悄悄覆盖他人的修改。")
def update_entry(entry_id: EntryId, body: EntryPatch, user: CurrentUser, uow: Uow, key: IdempotencyKey = None,
                 if_match: IfMatch = None):
    seen = None
    if if_match is not None:
        text = if_match.strip().strip('W/').strip('"')
        if not text.isdigit():
            raise ApiError(422, "validation.invalid", field="If-Match")
        seen = int(text)
    return answered(*writes.run(uow, user, "register.update", key, entry_id, body, if_match=seen)[:2])


@router.post("/register/import", response_model=ImportReport, responses=answers(403, 413, 415),
             summary="从表格导入台账（CSV 或 XLSX，请求体为文件本身）import the register from a spreadsheet",
             description="一次导入一种类型（kind）。列名可用中文（姓名、身份证号、联系电话、类别、楼栋、门牌……）或字段名。"
                         "全部校验通过才导入，任何一行有误则全部不导入，"
                         "并在 error.detail 中逐行列出问题（不含填写的内容）。"
                         "dry_run=true 只校验。",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}},
                 importer.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def import_entries(request: Request, user: CurrentUser, uow: Uow,
                         kind: Annotated[Kind, Query(description="导入的记录类型")],
                         grid_code: Annotated[str | None, Query(max_length=32,
                                                                description="网格代码（表中无网格列时）")] = None,
                         dry_run: Annotated[bool, Query(description="只校验不导入 validate only")] = False
                         ) -> ImportReport:
    if user.role not in access.REGISTER_WRITERS:
        raise access.refuse(uow, "write.register_import", 403, "register.forbidden")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > importer.config.get().rules.import_max_bytes:
        raise ApiError(413, "import.too_large", field="file")
    data = await request.body()
    rows = await run_in_threadpool(importer.read, request.headers.get("content-type", ""), data)
    sight = access.sight(uow.session, user)
    report = await run_in_threadpool(importer.import_rows, uow.session, uow.emit, kind, rows, grid_code,
                                     sight.grids, user.id, utcnow(), dry_run)
    access.audit(uow, "write.register_import", True, kind=kind, total=report.total, created=len(report.created),
                 dry_run=dry_run)
    return ImportReport(kind=kind, total=report.total, created=len(report.created), dry_run=dry_run,
                        entry_ids=report.created)


assert set(KINDS) == set(Kind.__args__)  # one list of kinds
