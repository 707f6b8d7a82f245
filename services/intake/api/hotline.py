"""What an operator on the hotline looks up: the caller's earlier cases, the knowledge base."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared.deps import English, SessionDep, StaffUser

from .. import access, knowledge, views
from ..schemas import CaseView, PhoneLookup

router = APIRouter(tags=["热线 hotline"])


@router.post("/hotline/lookup", response_model=list[CaseView],
             summary="按来电号码查询来电人以往诉求 a caller's earlier cases",
             description="号码放在请求体里而不是网址里，免得进入访问日志。仅话务员和管理员可用。")
def lookup_caller(body: PhoneLookup, user: StaffUser, session: SessionDep, english: English) -> list[CaseView]:
    return [views.case_view(session, c, user, "staff", english=english, full=False)
            for c in access.caller_cases(session, user, body.phone)]


@router.get("/knowledge", summary="检索知识库（咨询当场答复）search the knowledge base")
def search_knowledge(user: StaffUser, q: Annotated[str, Query(min_length=1, max_length=200)]) -> list[dict]:
    return knowledge.search(q)
