"""The residents' roster of a community (居民名册): registered by its staff; a resident sees her own entries."""

from fastapi import APIRouter

from shared.deps import CurrentUser, Runtime, Uow

from .. import access, roster, views
from ..schemas import MemberIn, MembershipView, MemberView
from .deps import answers

router = APIRouter(tags=["居民名册 roster"])


@router.post("/communities/{community_code}/members", status_code=201, response_model=MemberView,
             responses={**answers(403, 404), 409: {"description": "该手机号已在本社区名册中 already registered"}},
             summary="登记居民（户、居民代表）register a resident",
             description="社区、街道工作人员登记本辖区社区的居民：手机号须为居民本人在平台验证过的号码，居民用该号码登录后"
                         "即被识别为名册中的本人（附议、评价、阅读居务公开）。")
def register(community_code: str, body: MemberIn, user: CurrentUser, uow: Uow, rt: Runtime) -> MemberView:
    area = access.managed_community(uow.session, user, community_code)
    member = roster.register(uow.session, roster.indexer(rt), community_code=area.code, name=body.name,
                             phone=body.phone, household=body.household, building=body.building,
                             representative=body.representative, by=user.id)
    uow.audit("write.member", subject_kind="community", subject_id=area.code, detail={"member_id": member.id})
    return views.member(member)


@router.get("/communities/{community_code}/members", response_model=list[MemberView], responses=answers(403, 404),
            summary="社区居民名册（姓名、门牌脱敏）the roster, masked")
def roster_of(community_code: str, user: CurrentUser, uow: Uow) -> list[MemberView]:
    area = access.managed_community(uow.session, user, community_code)
    rows = roster.listed(uow.session, area.code)
    uow.audit("read.roster", subject_kind="community", subject_id=area.code, detail={"count": len(rows)})
    return [views.member(m) for m in rows]


@router.get("/me/memberships", response_model=list[MembershipView],
            summary="我在哪些社区的居民名册中 my roster entries")
def memberships(user: CurrentUser, uow: Uow) -> list[MembershipView]:
    return [MembershipView(member_id=m.id, community_code=m.community_code,
                           community_name=views.community_name(uow.session, m.community_code), building=m.building,
                           representative=m.representative) for m in roster.memberships(uow.session, user)]
