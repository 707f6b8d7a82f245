"""职责清单: the active responsibility list, and publishing a new version."""

from fastapi import APIRouter

from shared.auth import StaffUser
from shared.db import utcnow
from shared.deps import SessionDep

from .. import access, responsibility
from ..schemas import ListBody

router = APIRouter(tags=["职责清单 responsibility"])


@router.get("/responsibility", summary="当前职责清单 the active responsibility list")
def current_list(user: StaffUser, session: SessionDep) -> dict:
    version, document = responsibility.active(session)
    return {"version": version, "document": document}


@router.post("/responsibility", status_code=201,
             summary="发布新版职责清单 publish a new version (validated; nothing saved when invalid)")
def publish_list(user: StaffUser, body: ListBody, session: SessionDep) -> dict:
    access.require_role(user, access.SUPERVISORS)
    version = responsibility.publish(session, body.document, created_by=user.id, note=body.note, now=utcnow())
    return {"version": version}
