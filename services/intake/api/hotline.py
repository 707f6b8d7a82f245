"""What an operator on the hotline looks up: the caller's earlier cases (the knowledge base is
api/knowledge.py)."""

from fastapi import APIRouter

from shared.deps import English, StaffUser, Uow

from .. import access, views
from ..schemas import CaseView, PhoneLookup
from .deps import LookupLimit, PhoneIndex, answers

router = APIRouter(tags=["热线 hotline"])


@router.post("/hotline/lookup", response_model=list[CaseView],
             summary="按来电号码查询来电人以往诉求 a caller's earlier cases",
             description="号码放在请求体里而不是网址里，免得进入访问日志。仅话务员和管理员可用；每次查询记入审计"
                         "（不记号码），每人每小时最多 60 次，同一地址每小时最多 600 次。"
                         "不含匿名反映和来电人不同意登记号码的诉求。",
             dependencies=[LookupLimit], responses=answers(403))
def lookup_caller(body: PhoneLookup, user: StaffUser, uow: Uow, english: English,
                  index: PhoneIndex) -> list[CaseView]:
    found = access.caller_cases(uow.session, user, body.phone, index)
    uow.audit("read.caller_cases", subject_kind="caller", detail={"count": len(found),
                                                                  "case_ids": [c.id for c in found]})
    return [views.case_view(uow.session, c, user, "staff", english=english, full=False) for c in found]
