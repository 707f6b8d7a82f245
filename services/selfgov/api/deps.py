"""Selfgov's loaders: the matter of the path as its reader may see it (404 otherwise, audited), and the
statuses an endpoint may answer besides the shared layer's.

    @router.get("/matters/{matter_id}")
    def get_matter(seen: Annotated[Seen, readable("read.matter")], uow: Uow) -> MatterView:
"""

from fastapi import Depends

from shared.deps import CurrentUser, Uow

from .. import access


def readable(action: str):
    """The matter of the path and the reader's capacity; 404 to anyone who may not see it."""

    def load_readable(matter_id: str, user: CurrentUser, uow: Uow) -> access.Seen:
        return access.readable(uow, matter_id, user, action)

    return Depends(load_readable)


def managing(action: str):
    """The matter of the path, for an act only the staff of its community or street may do (403 otherwise)."""

    def load_managed(matter_id: str, user: CurrentUser, uow: Uow) -> access.Seen:
        return access.managing(uow, matter_id, user, action)

    return Depends(load_managed)


_ANSWERS = {
    403: "身份不允许（如居民执行社区的操作、不在该社区居民名册中、社区不在管辖范围）not allowed",
    404: "无此议题、会议、异议、任务、公开事项或社区，或您无权查看（不透露是否存在）not found",
    409: "与当前状态冲突（阶段不符、附议未达门槛、公示期未满、已评价等）conflicts with the current state",
}


def answers(*codes: int) -> dict:
    return {code: {"description": _ANSWERS[code]} for code in codes}
