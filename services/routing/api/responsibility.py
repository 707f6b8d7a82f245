"""职责清单: the active responsibility list, and publishing a new version."""

from fastapi import APIRouter

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import access, responsibility
from ..schemas import ListBody
from .deps import FORBIDDEN

router = APIRouter(tags=["职责清单 responsibility"])


@router.get("/responsibility", summary="当前职责清单 the active responsibility list", responses=FORBIDDEN)
def current_list(user: StaffUser, session: SessionDep) -> dict:
    version, document = responsibility.active(session)
    return {"version": version, "document": document}


PUBLISH = {403: {"description": "仅区级（管理员或区级督办员）可发布：清单适用于全区 only the district level (an "
                              "admin, or a supervisor of the root unit) publishes: the list is the whole district's"},
           422: {"description": "清单有误（responsibility.invalid，detail 列出每个问题），未保存 the list is invalid: "
                              "every problem in detail, nothing saved"}}


@router.post("/responsibility", status_code=201, responses=PUBLISH,
             summary="发布新版职责清单 publish a new version (validated; nothing saved when invalid)")
def publish_list(user: StaffUser, body: ListBody, uow: Uow) -> dict:
    access.require_district_level(uow.session, user)
    version = responsibility.publish(uow.session, body.document, created_by=user.id, note=body.note, now=utcnow())
    # Where every new case goes changed, without an event: the trail says who published which version.
    uow.audit("routing.responsibility.published", subject_kind="responsibility", subject_id=str(version))
    return {"version": version}
