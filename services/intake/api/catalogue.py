"""The category catalogue: reading it, its versions, publishing a new one, and suggesting a
category for a description."""

from typing import Annotated

from fastapi import APIRouter, Body, Path

from shared.deps import CurrentUser, SessionDep, StaffUser
from shared.errors import ApiError

from .. import catalogue as cat
from .. import suggest, views
from ..schemas import CatalogueDoc, SuggestBody, Suggestion, SuggestView
from .deps import answers

router = APIRouter(tags=["类别 catalogue"])


@router.post("/categories/suggest", response_model=SuggestView,
             summary="根据描述推荐三个最可能的类别 suggest categories")
def suggest_categories(body: SuggestBody, user: CurrentUser, session: SessionDep) -> SuggestView:
    ranked, urgency = suggest.suggest_categories(session, body.description)
    return SuggestView(suggestions=[Suggestion(code=c.code, name=c.name, name_en=c.name_en, score=score)
                                    for c, score in ranked], urgency=urgency)


@router.get("/catalogue", summary="当前类别目录（树）the current catalogue")
def get_catalogue(user: CurrentUser, session: SessionDep) -> dict:
    return views.catalogue_doc(cat.current(session))


# Versions are numbered from 1 by publishing; a number beyond this names none.
MAX_VERSION = 1_000_000


@router.get("/catalogue/versions", summary="目录版本历史 catalogue versions", responses=answers(403))
def list_versions(user: StaffUser, session: SessionDep) -> list[dict]:
    return cat.versions(session)


@router.get("/catalogue/versions/{version}", summary="某一版本的目录 one version", responses=answers(403, 404))
def get_version(version: Annotated[int, Path(ge=1, le=MAX_VERSION, description="版本号 version")], user: StaffUser,
                session: SessionDep) -> dict:
    c = cat.at_version(session, version)
    if c is None:
        raise ApiError(404, "catalogue.version_not_found", field="version")
    return views.catalogue_doc(c)


@router.put("/catalogue", summary="发布新版本目录 publish a new catalogue version",
            description="提交完整目录树和编辑所基于的版本号 base_version；期间他人已发布则返回 409。"
                        "已有编码不能删除，只能设为 active=false；办理时限方案 clock_profile 须为已配置的名称。",
            responses=answers(403, 409))
def put_catalogue(user: StaffUser, base_version: Annotated[int, Body(ge=1, le=MAX_VERSION)],
                  catalogue: Annotated[CatalogueDoc, Body()], session: SessionDep) -> dict:
    return views.catalogue_doc(cat.publish(session, catalogue, base_version=base_version, by=user))
