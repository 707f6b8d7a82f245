"""Intake's REST API under /intake/v1: submission, the resident's view, staff flows, the catalogue."""

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.exc import IntegrityError

from shared.auth import CurrentUser, StaffUser, User
from shared.db import utcnow
from shared.errors import ApiError, wants_english
from shared.events.intake import CaseUrgencyChanged
from shared.runtime import ServiceRuntime
from shared.web import correlation_id

from . import attachments as files
from . import cases, duplicates, errors, geo, knowledge, phones, suggest  # noqa: F401 (errors registers codes)
from . import catalogue as cat
from .models import Attachment, Case, IdempotencyKey
from .policy import policy
from .schemas import (
    AttachmentView,
    CaseCreate,
    CasePage,
    CaseView,
    DuplicateQuery,
    DuplicateView,
    EvaluationBody,
    MergeBody,
    NoteBody,
    PhoneLookup,
    ReasonBody,
    ReopenBody,
    SuggestBody,
    Suggestion,
    SuggestView,
    SupplementBody,
    UrgencyBody,
)
from .status import STATUSES
from .views import case_view, duplicate_view, readable

Correlation = Annotated[str, Depends(correlation_id)]


def _request_hash(body: CaseCreate) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def router(rt: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")
    var_dir = rt.settings.var_dir

    def load(session, case_id: str, user: User, lock: bool = False) -> tuple[Case, str]:
        return readable(session, session.get(Case, case_id, with_for_update=lock), user)

    def full_view(session, case: Case, user: User, rel: str, request: Request) -> CaseView:
        return case_view(session, case, user, rel, cat.current(session), english=wants_english(request))

    # ------------------------------------------------------------ submitting

    def replay(user: User, key: str, digest: str, request: Request, response: Response) -> CaseView | None:
        with rt.uow() as session:
            row = session.get(IdempotencyKey, (user.id, key))
            if row is None:
                return None
            if row.request_hash != digest:
                raise ApiError(409, "idempotency.key_reused", field="Idempotency-Key")
            case = session.get(Case, row.case_id)
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            return full_view(session, case, user, "reporter" if case.reporter_id == user.id else "staff", request)

    @api.post("/cases", status_code=201, response_model=CaseView, tags=["诉求 cases"],
              summary="提交诉求（居民、话务员代录、网格员巡查上报）submit a case",
              description="带 `Idempotency-Key` 头重试时返回同一诉求；同一个键配不同内容返回 409。"
                          "响应里的 `possible_duplicates` 是附近同类的未结诉求，可改为“它也影响我”。")
    def submit_case(body: CaseCreate, user: CurrentUser, correlation: Correlation, request: Request,
                    response: Response,
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> CaseView:
        digest = None
        if idempotency_key is not None:
            if not 1 <= len(idempotency_key) <= 100:
                raise ApiError(400, "idempotency.key_invalid", field="Idempotency-Key")
            digest = _request_hash(body)
            if (view := replay(user, idempotency_key, digest, request, response)) is not None:
                return view
        try:
            with rt.uow() as session:
                catalogue = cat.current(session)
                case, first = cases.submit(session, rt.outbox, user=user, body=body, catalogue=catalogue,
                                           correlation_id=correlation)
                if digest is not None:
                    session.add(IdempotencyKey(user_id=user.id, key=idempotency_key, request_hash=digest,
                                               case_id=case.id, created_at=case.created_at))
                    session.flush()
                rel = "reporter" if case.reporter_id == user.id else "staff"
                # Built from what is in hand (no re-reading the timeline): submission is the hot path.
                view = case_view(session, case, user, rel, catalogue, english=wants_english(request), full=False,
                                 first_entries=[first])
                if case.lat is not None and case.route != "direct":
                    found = duplicates.find(session, catalogue.nodes[case.category], case.description, case.lat,
                                            case.lon, now=case.created_at, exclude_id=case.id,
                                            include_confidential=user.is_staff)
                    view.possible_duplicates = [duplicate_view(c, wants_english(request)) for c in found]
                return view
        except IntegrityError:
            # Two copies of the same retried request raced; the other one committed first.
            if digest is not None and (view := replay(user, idempotency_key, digest, request, response)):
                return view
            raise

    @api.post("/cases/duplicates", response_model=list[DuplicateView], tags=["诉求 cases"],
              summary="提交前查找疑似重复诉求 look for duplicates before submitting")
    def find_duplicates(body: DuplicateQuery, user: CurrentUser, request: Request) -> list[DuplicateView]:
        with rt.uow() as session:
            node = cat.current(session).leaf(body.category)
            if node is None:
                raise ApiError(422, "case.unknown_category", field="category")
            lat, lon = geo.to_wgs84(body.lat, body.lon, body.coord_system)
            found = duplicates.find(session, node, body.description, lat, lon, now=utcnow(),
                                    include_confidential=user.is_staff)
            return [duplicate_view(c, wants_english(request)) for c in found]

    @api.post("/categories/suggest", response_model=SuggestView, tags=["类别 catalogue"],
              summary="根据描述推荐三个最可能的类别 suggest categories")
    def suggest_categories(body: SuggestBody, user: CurrentUser) -> SuggestView:
        if len(body.description.strip()) < 2:
            raise ApiError(422, "suggest.too_short", field="description")
        ranked = suggest.suggester().top(body.description, 3)
        with rt.uow() as session:
            catalogue = cat.current(session)
        items = [Suggestion(code=c, name=catalogue.nodes[c].name, name_en=catalogue.nodes[c].name_en, score=s)
                 for c, s in ranked if c in catalogue.nodes and catalogue.nodes[c].active]
        urgency = cases.suggest_urgency(catalogue.nodes[items[0].code], body.description) if items else "一般"
        return SuggestView(suggestions=items, urgency=urgency)

    # ------------------------------------------------------------ reading

    @api.get("/cases/{case_id}", response_model=CaseView, tags=["诉求 cases"],
             summary="查看诉求及进度 a case and its timeline",
             description="居民只看到公开进度；内部备注仅工作人员可见。保密诉求对办理人员不显示反映人。")
    def get_case(case_id: str, user: CurrentUser, request: Request) -> CaseView:
        with rt.uow() as session:
            case, rel = load(session, case_id, user)
            return full_view(session, case, user, rel, request)

    @api.get("/cases", response_model=CasePage, tags=["诉求 cases"],
             summary="诉求列表：居民看到自己反映和关注的，工作人员看到全部 list cases")
    def list_cases(user: CurrentUser, request: Request, status: str | None = None,
                   page: Annotated[int, Query(ge=1)] = 1,
                   page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> CasePage:
        if status is not None and status not in STATUSES:
            raise ApiError(422, "validation.not_allowed", field="status")
        with rt.uow() as session:
            rows, total = cases.page_of_cases(session, user_id=None if user.is_staff else user.id, status=status,
                                              page=page, page_size=page_size)
            catalogue = cat.current(session)
            english = wants_english(request)
            items = []
            for c in rows:
                rel = "reporter" if c.reporter_id == user.id else ("staff" if user.is_staff else "follower")
                items.append(case_view(session, c, user, rel, catalogue, english=english, full=False))
            return CasePage(items=items, total=total, page=page, page_size=page_size)

    # ------------------------------------------------------------ the resident's changes

    def change(case_id: str, user: User, request: Request, fn) -> CaseView:
        with rt.uow() as session:
            case, rel = load(session, case_id, user, lock=True)
            fn(session, case)
            return full_view(session, case, user, rel, request)

    @api.post("/cases/{case_id}/supplements", response_model=CaseView, tags=["居民 resident"],
              summary="补充材料 add material")
    def add_supplement(case_id: str, body: SupplementBody, user: CurrentUser, correlation: Correlation,
                       request: Request) -> CaseView:
        return change(case_id, user, request,
                      lambda s, c: cases.supplement(s, rt.outbox, c, user, body, correlation))

    @api.post("/cases/{case_id}/withdraw", response_model=CaseView, tags=["居民 resident"],
              summary="撤回（办理开始前）withdraw before handling starts")
    def withdraw_case(case_id: str, user: CurrentUser, correlation: Correlation, request: Request,
                      body: Annotated[ReasonBody | None, Body()] = None) -> CaseView:
        return change(case_id, user, request,
                      lambda s, c: cases.withdraw(s, rt.outbox, c, user, body.reason if body else None, correlation))

    @api.post("/cases/{case_id}/reopen", response_model=CaseView, tags=["居民 resident"],
              summary="不满意时重启诉求（期限内）reopen when not satisfied")
    def reopen_case(case_id: str, body: ReopenBody, user: CurrentUser, correlation: Correlation,
                    request: Request) -> CaseView:
        return change(case_id, user, request, lambda s, c: cases.reopen(s, rt.outbox, c, user, body, correlation))

    @api.post("/cases/{case_id}/evaluation", response_model=CaseView, tags=["居民 resident"],
              summary="回访评价（居民本人，或话务员电话回访记录）callback evaluation")
    def evaluate_case(case_id: str, body: EvaluationBody, user: CurrentUser, correlation: Correlation,
                      request: Request) -> CaseView:
        return change(case_id, user, request,
                      lambda s, c: cases.evaluate(s, rt.outbox, c, user, body, correlation))

    @api.post("/cases/{case_id}/join", response_model=CaseView, tags=["居民 resident"],
              summary="它也影响我：关注已有诉求而不重复提交 join an existing case")
    def join_case(case_id: str, user: CurrentUser, correlation: Correlation, request: Request) -> CaseView:
        with rt.uow() as session:
            case = session.get(Case, case_id, with_for_update=True)
            # Joining is how a resident reaches a case found by the duplicate lookup: they do not
            # need to be its reader yet, but they only learn what the duplicate list shows.
            # A confidential case is never offered to other residents: it cannot be joined either,
            # and "not found" does not reveal that it exists.
            if case is None or (case.confidential and case.reporter_id != user.id):
                raise ApiError(404, "case.not_found", field="case_id")
            if user.is_staff:
                raise ApiError(403, "auth.forbidden")
            cases.join(session, rt.outbox, case, user, correlation)
            return full_view(session, case, user, "follower" if case.reporter_id != user.id else "reporter",
                             request)

    # ------------------------------------------------------------ staff

    @api.post("/cases/{case_id}/merge", response_model=CaseView, tags=["工作人员 staff"],
              summary="合并重复诉求：本诉求随主诉求的状态和结果 merge a duplicate into a parent")
    def merge_case(case_id: str, body: MergeBody, user: StaffUser, correlation: Correlation,
                   request: Request) -> CaseView:
        with rt.uow() as session:
            child = session.get(Case, case_id, with_for_update=True)
            parent = session.get(Case, body.parent_case_id, with_for_update=True)
            if child is None:
                raise ApiError(404, "case.not_found", field="case_id")
            if parent is None:
                raise ApiError(404, "case.not_found", field="parent_case_id")
            cases.merge(session, rt.outbox, child, parent, user, correlation)
            return full_view(session, child, user, "staff", request)

    @api.post("/cases/{case_id}/refer", response_model=CaseView, tags=["工作人员 staff"],
              summary="转人民调解 refer to mediation")
    def refer_case(case_id: str, user: StaffUser, correlation: Correlation, request: Request,
                   dispute_type: Annotated[str | None, Query(max_length=40)] = None) -> CaseView:
        return change(case_id, user, request,
                      lambda s, c: cases.refer(s, rt.outbox, c, user, dispute_type, correlation))

    @api.post("/cases/{case_id}/urgency", response_model=CaseView, tags=["工作人员 staff"],
              summary="调整紧急程度（仅工作人员可定为特急）set urgency")
    def set_urgency(case_id: str, body: UrgencyBody, user: StaffUser, request: Request) -> CaseView:
        def apply(session, case):
            old, case.urgency, case.updated_at = case.urgency, body.urgency, utcnow()
            cases.add_timeline(session, case.id, "urgency", f"紧急程度由“{old}”调整为“{body.urgency}”"
                               + (f"：{body.reason}" if body.reason else ""), public=False)
            if old != body.urgency:
                rt.outbox.emit(session, CaseUrgencyChanged(case_id=case.id, case_no=case.case_no,
                                                           urgency=body.urgency, previous=old, by_id=user.id,
                                                           at=case.updated_at),
                               correlation_id=request.headers.get("x-request-id"))
        return change(case_id, user, request, apply)

    @api.post("/cases/{case_id}/notes", response_model=CaseView, tags=["工作人员 staff"],
              summary="内部备注（居民不可见）internal note")
    def add_note(case_id: str, body: NoteBody, user: StaffUser, request: Request) -> CaseView:
        return change(case_id, user, request,
                      lambda s, c: cases.add_timeline(s, c.id, "note", body.text, public=False))

    @api.post("/hotline/lookup", response_model=list[CaseView], tags=["热线 hotline"],
              summary="按来电号码查询来电人以往诉求 a caller's earlier cases",
              description="号码放在请求体里而不是网址里，免得进入访问日志。仅话务员和管理员可用。")
    def lookup_caller(body: PhoneLookup, user: StaffUser, request: Request) -> list[CaseView]:
        if user.role not in policy()["visibility"]["phone_roles"]:
            raise ApiError(403, "auth.forbidden")
        try:
            phone = phones.normalise(body.phone)
        except phones.BadPhone:
            raise ApiError(422, "case.bad_phone", field="phone") from None
        with rt.uow() as session:
            catalogue = cat.current(session)
            return [case_view(session, c, user, "staff", catalogue, english=wants_english(request), full=False)
                    for c in cases.cases_by_phone(session, phone)]

    @api.get("/knowledge", tags=["热线 hotline"], summary="检索知识库（咨询当场答复）search the knowledge base")
    def search_knowledge(user: StaffUser, q: Annotated[str, Query(min_length=1, max_length=200)]) -> list[dict]:
        return knowledge.search(q)

    # ------------------------------------------------------------ attachments

    @api.post("/attachments", status_code=201, response_model=AttachmentView, tags=["附件 attachments"],
              summary="上传照片或附件（请求体为文件本身）upload a photo or document",
              description="Content-Type 为 image/jpeg、image/png、image/webp 或 application/pdf；"
                          "图片的 EXIF 和 GPS 信息会被去除并生成缩略图。返回的 id 用于提交或补充诉求。",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                  "image/png": {"schema": {"type": "string", "format": "binary"}},
                  "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    async def upload(request: Request, user: CurrentUser,
                     filename: Annotated[str | None, Query(max_length=120)] = None) -> AttachmentView:
        limit = policy()["attachments"]["max_bytes"]
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, "attachment.too_large", field="file")
        data = await request.body()
        content_type = request.headers.get("content-type", "")

        def save() -> AttachmentView:
            written = []
            try:
                with rt.uow() as session:
                    a = files.store(session, var_dir, user.id, content_type, filename, data)
                    written = [p for p in (a.path, a.thumb_path) if p]
                    return AttachmentView(id=a.id, content_type=a.content_type, size=a.size,
                                          filename=a.filename, has_thumbnail=a.thumb_path is not None)
            except BaseException:
                # The row was not committed: its files must not stay behind as orphans.
                for rel in written:
                    (files.root(var_dir) / rel).unlink(missing_ok=True)
                raise

        from starlette.concurrency import run_in_threadpool
        return await run_in_threadpool(save)

    def attachment_for(attachment_id: str, user: User) -> Attachment:
        with rt.uow() as session:
            a = session.get(Attachment, attachment_id)
            if a is None:
                raise ApiError(404, "attachment.not_found")
            if a.owner_id == user.id:
                return a
            if a.case_id is None:
                raise ApiError(404, "attachment.not_found")
            try:
                _, rel = readable(session, session.get(Case, a.case_id), user)
            except ApiError:
                raise ApiError(404, "attachment.not_found") from None
            if rel == "follower":  # the reporter's photos are theirs, not every neighbour's who joined
                raise ApiError(404, "attachment.not_found")
            return a

    @api.get("/attachments/{attachment_id}", tags=["附件 attachments"], summary="下载附件 download",
             response_class=FileResponse)
    def download(attachment_id: str, user: CurrentUser):
        a = attachment_for(attachment_id, user)
        return FileResponse(files.root(var_dir) / a.path, media_type=a.content_type)

    @api.get("/attachments/{attachment_id}/thumbnail", tags=["附件 attachments"], summary="缩略图 thumbnail",
             response_class=FileResponse)
    def thumbnail(attachment_id: str, user: CurrentUser):
        a = attachment_for(attachment_id, user)
        if a.thumb_path is None:
            raise ApiError(404, "attachment.not_found")
        return FileResponse(files.root(var_dir) / a.thumb_path, media_type="image/jpeg")

    # ------------------------------------------------------------ catalogue

    @api.get("/catalogue", tags=["类别 catalogue"], summary="当前类别目录（树）the current catalogue")
    def get_catalogue(user: CurrentUser) -> dict:
        with rt.uow() as session:
            c = cat.current(session)
            return {**c.doc, "version": c.version}

    @api.get("/catalogue/versions", tags=["类别 catalogue"], summary="目录版本历史 catalogue versions")
    def list_versions(user: StaffUser) -> list[dict]:
        with rt.uow() as session:
            return cat.versions(session)

    @api.get("/catalogue/versions/{version}", tags=["类别 catalogue"], summary="某一版本的目录 one version")
    def get_version(version: int, user: StaffUser) -> dict:
        with rt.uow() as session:
            c = cat.at_version(session, version)
            if c is None:
                raise ApiError(404, "catalogue.version_not_found", field="version")
            return {**c.doc, "version": c.version}

    @api.put("/catalogue", tags=["类别 catalogue"], summary="发布新版本目录 publish a new catalogue version",
             description="提交完整目录树和编辑所基于的版本号 base_version；期间他人已发布则返回 409。"
                         "已有编码不能删除，只能设为 active=false。")
    def put_catalogue(user: StaffUser, base_version: Annotated[int, Body(ge=1)],
                      catalogue: Annotated[cat.CatalogueDoc, Body()]) -> dict:
        if user.role not in policy()["catalogue_editor_roles"]:
            raise ApiError(403, "auth.forbidden")
        try:
            with rt.uow() as session:
                c = cat.publish(session, catalogue, base_version=base_version, by_id=user.id)
        except IntegrityError:
            raise ApiError(409, "catalogue.version_conflict", field="base_version") from None
        return {**c.doc, "version": c.version}

    return api
