from typing import Annotated

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import PlainTextResponse

from shared.deps import Uow

from .. import receipts
from .deps import ConfigDep, IndexDep, RawBody

router = APIRouter(tags=["回执 receipts"])

REFUSED = {401: {"description": "服务商凭据校验失败 notify.bad_signature"}}
# WeChat's query parameters: a SHA-1 hex, unix seconds, a nonce, the string to echo.
Short = Annotated[str, Query(max_length=100)]


@router.post("/callbacks/sms/aliyun", summary="阿里云短信状态报告（HTTP 推送）Alibaba Cloud SMS delivery reports",
             description="以回调地址中的 token 认证；按号码匹配时只比较号码的盲索引。Authenticated by the token "
                         "in the URL; a report matched by number is matched through the number's blind index.",
             responses=REFUSED)
def sms_reports(token: Annotated[str, Query(max_length=200)],
                reports: Annotated[list[dict], Body(max_length=1000)], uow: Uow, cfg: ConfigDep,
                index: IndexDep) -> dict:
    receipts.sms_reports(uow.session, uow.emit, cfg, index, token, reports)
    return {"code": 0, "msg": "成功"}


@router.post("/callbacks/push", summary="推送服务送达回执（HMAC-SHA256 签名）push provider receipts",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["message_id", "status"], "properties": {
                     "message_id": {"type": "string"}, "status": {"type": "string", "enum": ["delivered", "failed"]},
                     "reason": {"type": "string"}}}}}}},
             responses={**REFUSED, 400: {"description": "HTTP 服务器无法解析的请求（如签名头含控制字符），"
                                                    "在到达本服务之前"
                                                    "由服务器以纯文本答复 a request no HTTP parser accepts (e.g. a "
                                                    "control character in X-Push-Signature), answered by the HTTP "
                                                    "server itself in plain text"},
                        413: {"description": "请求内容过大 the body is too large"},
                        422: {"description": "不是合法的回执 JSON validation.bad_json"}})
def push_receipt(raw: RawBody, uow: Uow, cfg: ConfigDep,
                 x_push_signature: Annotated[str, Header(max_length=200)] = "") -> dict:
    receipts.push_receipt(uow.session, uow.emit, cfg, raw, x_push_signature)
    return {"ok": True}


@router.get("/callbacks/wechat", response_class=PlainTextResponse,
            summary="微信消息推送服务器地址校验 WeChat server URL check", responses=REFUSED)
def wechat_check(signature: Short, timestamp: Short, nonce: Short, echostr: Short, cfg: ConfigDep) -> str:
    receipts.verify_wechat(cfg, signature, timestamp, nonce)
    return echostr


@router.post("/callbacks/wechat", response_class=PlainTextResponse,
             summary="微信订阅消息发送结果事件 subscribe_msg_sent_event", responses=REFUSED)
def wechat_event(signature: Short, timestamp: Short, nonce: Short, body: Annotated[dict, Body()], uow: Uow,
                 cfg: ConfigDep) -> str:
    receipts.wechat_event(uow.session, uow.emit, cfg, signature, timestamp, nonce, body)
    return "success"
