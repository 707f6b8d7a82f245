"""The sign-in audit trail, for admins and supervisors; every reading of it is itself audited."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import Uow
from shared.fields import When

from .. import audit, views
from ..schemas import SignInAttemptPage
from .deps import ID_PATTERN, MAX_PAGE, AuditReader

router = APIRouter(tags=["登录审计 audit"])

Since = When


@router.get("/sign-in-attempts", response_model=SignInAttemptPage, summary="登录尝试记录 the sign-in audit trail",
            description="每次登录尝试（成功或失败）一条，最新在前；不含任何密码、验证码或令牌。仅管理员和督查人员。"
                        "每次查询本身记入审计日志（read.sign_in_attempts）。"
                        "Every sign-in attempt, newest first; never a secret. Admins and supervisors; each reading "
                        "is itself an entry of the audit trail (read.sign_in_attempts).",
            responses={401: {"description": "未登录 not signed in"},
                       403: {"description": "仅管理员和督查人员 admins and supervisors only"},
                       422: {"description": "参数格式不正确（since 须带时区且在2000至2100年之间；页码至多100000）"
                                          "bad parameters"}})
def list_attempts(reader: AuditReader, uow: Uow,
                  user_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN,
                                                       description="用户编号 user id")] = None,
                  method: Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$",
                                                      description="方式 password、sms、wechat、oidc…")] = None,
                  result: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_.]+$",
                                                      description="结果 ok 或错误代码")] = None,
                  since: Annotated[Since | None, Query(description="起始时间（含时区，2000至2100年）since, "
                                                                   "with its time zone, within 2000-2100")] = None,
                  page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码 page, from 1")] = 1,
                  page_size: Annotated[int, Query(ge=1, le=200, description="每页条数 page size")] = 50
                  ) -> SignInAttemptPage:
    rows, total = audit.listed(uow.session, user_id=user_id, method=method, result=result, since=since, page=page,
                               page_size=page_size)
    # Who read whose attempts: the filters are ids and codes, the page says how far they looked.
    uow.audit("read.sign_in_attempts", subject_kind="user" if user_id else None, subject_id=user_id,
              detail={"filters": {k: v for k, v in (("method", method), ("result", result),
                                                    ("since", since.isoformat() if since else None)) if v},
                      "page": page, "page_size": page_size, "shown": len(rows)})
    return SignInAttemptPage(items=[views.attempt_view(r) for r in rows], total=total, page=page,
                             page_size=page_size)
