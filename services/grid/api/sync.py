"""An offline queue replayed: the phone's writes in the order they happened, each with its own key."""

from fastapi import APIRouter
from pydantic import TypeAdapter, ValidationError

from shared.deps import CurrentUser, English, Uow
from shared.errors import ApiError, error_body

from .. import access, writes
from ..register import Conflict
from ..schemas import SyncIn, SyncOut, SyncResult
from .deps import answers

router = APIRouter(tags=["离线同步 offline sync"])


def _failure(exc: ApiError, english: bool) -> dict:
    extra = {"detail": exc.detail} if exc.detail else {}
    if isinstance(exc, Conflict):
        extra |= {"yours": exc.yours, "current": exc.current}
    return error_body(exc.code, english, exc.field, **extra)


# Each op's body validator, built once: a TypeAdapter compiles its schema when it is made.
ADAPTERS = {op: TypeAdapter(write.body) for op, write in writes.WRITES.items()}


@router.post("/sync", response_model=SyncOut, responses=answers(403),
             summary="批量提交离线队列（按发生顺序逐项执行）apply a queued batch in order",
             description="每项带自己的幂等键：已执行过的项返回首次结果（replayed=true），不再改动；失败的项不作改动，"
                         "其后各项照常执行（如某条台账的版本冲突不影响轨迹上传）。target_id 可写 @键，引用本批中前面"
                         "创建的巡查或记录。")
def sync(body: SyncIn, user: CurrentUser, uow: Uow, english: English) -> SyncOut:
    if user.role not in access.VISITORS | access.PATROLLERS:
        raise access.refuse(uow, "write.sync", 403, "auth.forbidden")
    created: dict[str, str] = {}
    results = []
    for item in body.ops:
        target = item.target_id
        if target and target.startswith("@"):
            target = created.get(target[1:], target)
        try:
            parsed = ADAPTERS[item.op].validate_python(item.body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            results.append(SyncResult(key=item.key, op=item.op, status=422, replayed=False,
                                      body=error_body("validation.invalid", english, field)))
            continue
        try:
            with uow.session.begin_nested():  # a failing write rolls back alone
                status, answer, replayed = writes.run(uow, user, item.op, item.key, target, parsed)
        except ApiError as exc:
            # The refusal is kept in the trail even though its savepoint rolled back.
            access.audit(uow, "write.sync", False, code=exc.code, op=item.op, key=item.key)
            results.append(SyncResult(key=item.key, op=item.op, status=exc.status, replayed=False,
                                      body=_failure(exc, english)))
            continue
        if isinstance(answer, dict) and answer.get("id"):
            created[item.key] = answer["id"]
        results.append(SyncResult(key=item.key, op=item.op, status=status, replayed=replayed, body=answer))
    return SyncOut(results=results)
