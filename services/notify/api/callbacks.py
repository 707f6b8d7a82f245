from typing import Annotated

from fastapi import APIRouter, Body, Header
from fastapi.responses import PlainTextResponse

from shared.deps import Uow

from .. import receipts
from .deps import ConfigDep, RawBody

router = APIRouter(tags=["回执 receipts"])


@router.post("/callbacks/sms/aliyun", summary="阿里云短信状态报告（HTTP 推送）Alibaba Cloud SMS delivery reports")
def sms_reports(token: str, reports: Annotated[list[dict], Body(max_length=1000)], uow: Uow, cfg: ConfigDep) -> dict:
    receipts.sms_reports(uow.session, uow.emit, cfg, token, reports)
    return {"code": 0, "msg": "成功"}


@router.post("/callbacks/push", summary="推送服务送达回执（HMAC-SHA256 签名）push provider receipts")
def push_receipt(raw: RawBody, uow: Uow, cfg: ConfigDep,
                 x_push_signature: Annotated[str, Header()] = "") -> dict:
    receipts.push_receipt(uow.session, uow.emit, cfg, raw, x_push_signature)
    return {"ok": True}


@router.get("/callbacks/wechat", response_class=PlainTextResponse,
            summary="微信消息推送服务器地址校验 WeChat server URL check")
def wechat_check(signature: str, timestamp: str, nonce: str, echostr: str, cfg: ConfigDep) -> str:
    receipts.verify_wechat(cfg, signature, timestamp, nonce)
    return echostr


@router.post("/callbacks/wechat", response_class=PlainTextResponse,
             summary="微信订阅消息发送结果事件 subscribe_msg_sent_event")
def wechat_event(signature: str, timestamp: str, nonce: str, body: Annotated[dict, Body()], uow: Uow,
                 cfg: ConfigDep) -> str:
    receipts.wechat_event(uow.session, uow.emit, cfg, signature, timestamp, nonce, body)
    return "success"
