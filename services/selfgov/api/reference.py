"""Reference data every signed-in user reads: the stages of 议事, the categories of 居务公开, the communities."""

from fastapi import APIRouter

from shared.deps import CurrentUser, SessionDep

from .. import config, directory, views
from ..schemas import CategoryView, CommunityView, StageView

router = APIRouter(tags=["参考数据 reference"])


@router.get("/stages", response_model=list[StageView], summary="议事阶段（配置）the stages of consultation")
def stages(user: CurrentUser) -> list[StageView]:
    return [views.stage(i) for i in range(len(config.get().consultation.stages))]


@router.get("/notice-categories", response_model=list[CategoryView], summary="居务公开类别 notice categories")
def categories(user: CurrentUser) -> list[CategoryView]:
    return [CategoryView(code=c.code, name=c.name, days=c.days) for c in config.get().notices.categories]


@router.get("/communities", response_model=list[CommunityView], summary="社区及其网格 communities and their grids")
def communities(user: CurrentUser, session: SessionDep) -> list[CommunityView]:
    return [CommunityView(code=c.code, name=c.name, street_code=c.parent_code,
                          grids=[{"code": g.code, "name": g.name} for g in directory.grids_of(session, c.code)])
            for c in directory.communities(session)]
