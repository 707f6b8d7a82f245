"""A signed-in resident links a verified phone to their account."""

from fastapi import APIRouter

from shared.db import utcnow
from shared.deps import CurrentUser, SessionDep

from .. import residents, views
from ..schemas import LinkPhoneIn, Me
from .deps import ClientDep, Index, MeDep, Sealing

router = APIRouter(tags=["居民登录 residents"])


@router.post("/me/phone", response_model=Me, summary="绑定手机号 link a verified phone to me",
             description="先以用途 link_phone 获取验证码（POST /sms-codes，须登录），再提交号码和验证码。"
                         "号码已属于另一账号时答 409 user.phone_taken，不转移、不合并账号"
                         "（请改用该号码的短信验证码登录）。"
                         "Ask for a code with purpose link_phone first. A number of another account answers 409 "
                         "user.phone_taken: accounts are never moved or merged by linking.",
             responses={401: {"description": "未登录 not signed in"},
                        403: {"description": "不是居民账号 user.not_resident"},
                        409: {"description": "号码已属于另一账号 user.phone_taken"},
                        422: {"description": "验证码错误或已失效 signin.code_invalid; "
                                             "手机号格式不正确 signin.bad_phone"}})
def link_phone(body: LinkPhoneIn, user: CurrentUser, me: MeDep, session: SessionDep, client: ClientDep,
               index: Index, sealing: Sealing) -> Me:
    return views.me(residents.link_phone(session, index, sealing, client, me, body.phone, body.code, utcnow()), user)
