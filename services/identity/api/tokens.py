"""Refreshing, signing out, and who the token belongs to."""

from fastapi import APIRouter, Response

from shared.db import utcnow
from shared.deps import CurrentUser, Runtime, Uow

from .. import tokens, views
from ..limits import per_address
from ..schemas import Me, RefreshIn, TokenPair
from .deps import Keys, MeDep

router = APIRouter(tags=["令牌 tokens"])


@router.post("/tokens/refresh", response_model=TokenPair, dependencies=[per_address("identity.refresh.address")],
             summary="刷新：用刷新令牌换一对新令牌（旧的作废）rotate the refresh token",
             description="刷新令牌只能用一次。同一刷新令牌再次出现（被窃取或重放）时，本次登录整体作废。"
                         "A refresh token used a second time revokes the whole sign-in.",
             responses={401: {"description": "刷新令牌无效、已用过或已过期 invalid, used or expired"}})
def refresh(body: RefreshIn, rt: Runtime, keys: Keys, uow: Uow) -> TokenPair:
    return views.token_pair(tokens.refresh(uow.session, uow.emit, rt.settings, keys, body.refresh_token, utcnow()))


@router.post("/sign-out", status_code=204, summary="退出登录：本次登录的所有令牌作废 sign out",
             responses={401: {"description": "未登录 not signed in"}})
def sign_out(user: CurrentUser, uow: Uow) -> Response:
    tokens.sign_out(uow.session, uow.emit, user.session_id, user.id, utcnow())
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="当前用户 who I am",
            responses={401: {"description": "未登录或令牌无效 not signed in"}})
def who_am_i(user: CurrentUser, me: MeDep) -> Me:
    return views.me(me, user)
