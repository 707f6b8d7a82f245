"""居民直评: the form, a resident's answers (once a period, anonymous), the scores per community and grid."""

from typing import Annotated

from fastapi import APIRouter, Query

from shared import periods
from shared.db import utcnow
from shared.deps import CurrentUser, Runtime, Uow

from .. import access, config, ratings, roster
from ..schemas import QuestionView, RatingForm, RatingIn, RatingReceipt, ScoreRow
from .deps import answers

router = APIRouter(tags=["居民直评 ratings"])


@router.get("/ratings/form", response_model=RatingForm, summary="本期评价题目 this period's questions")
def form(user: CurrentUser) -> RatingForm:
    cfg = config.get().rating
    return RatingForm(period=ratings.period_of(ratings.local_day(utcnow())), scale_max=cfg.scale_max,
                      questions=[QuestionView(code=q.code, text=q.text, about=q.about, weight=q.weight)
                                 for q in cfg.questions])


@router.post("/ratings", status_code=201, response_model=RatingReceipt,
             responses={**answers(403), 409: {"description": "本期已评价 already rated this period"},
                        422: {"description": "答案不全或分数越界、网格不属于该社区 bad answers"}},
             summary="评价本社区（及所选网格），每期一次，结果匿名 rate your community once a period")
def rate(body: RatingIn, user: CurrentUser, uow: Uow, rt: Runtime) -> RatingReceipt:
    member = roster.member_of(uow.session, user, body.community_code)
    _, period = ratings.submit(uow.session, roster.indexer(rt), member, grid_code=body.grid_code,
                               answers=body.answers, now=utcnow())
    return RatingReceipt(period=period, community_code=member.community_code, accepted=True)


@router.get("/ratings/scores", response_model=list[ScoreRow], responses=answers(403),
            summary="社区和网格的居民评价得分（供考核合并）rating scores per unit")
def scores(user: CurrentUser, uow: Uow,
           period: Annotated[str, Query(min_length=4, max_length=7, pattern=periods.PATTERN,
                                        examples=periods.EXAMPLES, description=periods.DESCRIPTION)],
           community_code: Annotated[str | None, Query(max_length=32, description="社区编码 community")] = None,
           ) -> list[ScoreRow]:
    allowed = access.scores_scope(uow.session, user)
    codes = access.narrowed(allowed, community_code)
    return [ScoreRow(**r) for r in ratings.scores(uow.session, period, codes)]
