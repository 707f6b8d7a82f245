"""The grid API's shared parameters: the Idempotency-Key and the answers an endpoint may give."""

from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse

from shared import offline

IdempotencyKey = offline.KeyHeader
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=20,
                                       description="您最后看到的版本号（也可在请求体 version 中给出）"
                                                   "the version you saw")]

_ANSWERS = {
    400: "幂等键格式不正确 idempotency.key_invalid",
    403: "角色不允许，或不是您负责的网格、您本人的巡查 not allowed",
    404: "不存在或不在您的查看范围内（不透露是否存在）not found or out of scope",
    409: "与当前状态冲突：巡查已结束或尚有未结束的巡查；诉求已关联其他巡查；幂等键已用于不同内容；台账版本冲突"
         "（应答含 yours 您看到的版本与 current 当前记录，未作任何修改）conflict",
    413: "文件过大 import.too_large",
    415: "不是 CSV 或 XLSX import.bad_type",
    428: "修改台账须带上您看到的版本号 register.version_required",
}


def answers(*codes: int) -> dict:
    return {code: {"description": _ANSWERS[code]} for code in codes}


def answered(status: int, answer) -> JSONResponse:
    """The write's answer (the first one, for a replayed key) with its status."""
    return JSONResponse(answer, status_code=status)
