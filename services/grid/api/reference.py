"""Reference data: the grids in the caller's sight and the categories of people under watch or care."""

from fastapi import APIRouter

from shared.deps import StaffUser, Uow

from .. import access, config, directory
from ..schemas import CategoryView, GridView
from .deps import answers

router = APIRouter(tags=["目录 reference data"])


@router.get("/grids", response_model=list[GridView], summary="我能查看的网格 the grids in my sight",
            responses=answers(403))
def list_grids(user: StaffUser, uow: Uow) -> list[GridView]:
    sight = access.area_reader(uow, user, "read.grids")
    return [GridView(code=g.code, name=g.name, community_code=g.community_code)
            for g in directory.grids(uow.session) if sight.covers_grid(g.code)]


@router.get("/register/categories", response_model=list[CategoryView],
            summary="特殊人群与关爱对象的类别 categories of people under watch or care", responses=answers(403))
def categories(user: StaffUser) -> list[CategoryView]:
    return [CategoryView(**c.model_dump(exclude={"comment"})) for c in config.get().categories.categories]
