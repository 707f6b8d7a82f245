"""Government systems' API keys: issued and revoked by admins; a key proves itself at /api-client."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from shared.auth import CurrentApiClient
from shared.db import utcnow
from shared.deps import SessionDep, Uow

from .. import api_keys, views
from ..schemas import ApiClientView, ApiKeyCreate, ApiKeyIssued, ApiKeyView
from .deps import AdminUser

router = APIRouter(tags=["API 密钥 api keys"])

DENIED = {401: {"description": "未登录 not signed in"}, 403: {"description": "仅管理员 admins only"}}


@router.post("/api-keys", status_code=201, response_model=ApiKeyIssued,
             summary="为政府系统签发 API 密钥 issue a government system's API key",
             description="密钥只在本次响应中显示一次，系统只保存其哈希。权限范围见配置 api_keys.scopes。"
                         "The key is shown in this response only; only its hash is kept.",
             responses={**DENIED, 422: {"description": "名称为空或含控制字符 api_key.bad_name；"
                                                       "权限范围 api_key.bad_scope；有效期 api_key.bad_expiry；"
                                                       "区域代码 user.bad_unit；区域单位不存在 user.unknown_unit"}})
def issue_key(body: ApiKeyCreate, admin: AdminUser, uow: Uow, response: Response) -> ApiKeyIssued:
    issued = api_keys.issue(uow.session, uow.emit, name=body.name, scopes=body.scopes, area_code=body.area_code,
                            expires_in_days=body.expires_in_days, created_by=admin.id, now=utcnow())
    response.headers["Cache-Control"] = "no-store"
    return views.api_key_issued(issued)


@router.get("/api-keys", response_model=list[ApiKeyView], summary="API 密钥列表（不含密钥本身）the API keys",
            responses=DENIED)
def list_keys(admin: AdminUser, session: SessionDep) -> list[ApiKeyView]:
    return [views.api_key_view(k) for k in api_keys.listed(session)]


@router.delete("/api-keys/{key_id}", status_code=204, summary="吊销 API 密钥 revoke an API key",
               description="吊销后各服务在收到事件后立即拒绝该密钥。Every service refuses it once it has the event.",
               responses={**DENIED, 404: {"description": "密钥不存在 api_key.not_found"}})
def revoke_key(key_id: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                                          description="密钥编号 the key's id")],
               admin: AdminUser, uow: Uow) -> Response:
    api_keys.revoke(uow.session, uow.emit, key_id, admin.id, utcnow())
    return Response(status_code=204)


@router.get("/api-client", response_model=ApiClientView,
            summary="当前 API 密钥的信息（验证密钥可用）who this API key is",
            description="用 X-API-Key 请求头调用，返回密钥的编号、系统名称、权限范围和区域。"
                        "Called with the X-API-Key header: proof that the key works.",
            responses={401: {"description": "缺少密钥 auth.missing_api_key；"
                                            "密钥无效、过期或已吊销 auth.invalid_api_key"}})
def api_client(client: CurrentApiClient) -> ApiClientView:
    return views.api_client(client)
