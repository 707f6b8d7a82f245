"""Staff sign-in by username and password, and setting passwords (one's own, or an admin's reset)."""

from fastapi import APIRouter, Response

from shared.db import utcnow
from shared.deps import CurrentUser, Runtime, Uow

from .. import directory, password_policy, staff_sign_in, views
from ..limits import AccountLimits, per_address
from ..schemas import PasswordChange, PasswordReset, PasswordSignIn, TokenPair
from .deps import AdminUser, ClientDep, Index, Keys, MeDep, UserId

router = APIRouter(tags=["工作人员登录 staff"])

WEAK = {"description": "密码不符合规则，detail 列出缺少的各项 user.weak_password (detail lists what is missing)"}


@router.post("/tokens/password", response_model=TokenPair, dependencies=[per_address("identity.password.address")],
             summary="工作人员用户名密码登录 staff sign-in with username and password",
             description="账号不存在、密码错误、账号停用都返回同一错误 signin.failed，不提示账号是否存在。"
                         "同一客户端地址连续失败达到配置次数（password.max_failures）后，"
                         "该地址 password.lockout_minutes 分钟内不能登录该账号"
                         "（429 signin.locked 和 Retry-After，无论密码是否正确），其他地址不受影响；"
                         "所有地址合计失败过多（password.account_max_failures）时账号被放慢（429 signin.slowed），"
                         "但曾成功登录过的地址不受影响。不存在的用户名同样处理。"
                         "每个客户端地址、每个用户名每分钟的尝试次数另有上限（429 rate.limited）。"
                         "An unknown username, a wrong password and a disabled account all answer signin.failed; "
                         "after max_failures consecutive failures from one address, that address gets 429 "
                         "signin.locked until its lock ends (other addresses are not held back); too many failures "
                         "from every address together slow the account (429 signin.slowed) except where it signed "
                         "in before. Attempts per client address and per username a minute are limited too "
                         "(429 rate.limited).",
             responses={401: {"description": "用户名或密码错误（不区分账号是否存在）signin.failed"},
                        429: {"description": "此地址失败次数过多，暂时锁定 signin.locked；账号失败过多，放慢 "
                                             "signin.slowed；尝试过于频繁 rate.limited。"
                                             "Retry-After 为需等待的秒数 the seconds to wait"}})
def sign_in(body: PasswordSignIn, rt: Runtime, keys: Keys, index: Index, client: ClientDep, uow: Uow,
            response: Response, accounts: AccountLimits) -> TokenPair:
    accounts.username(index, body.username)
    issued = staff_sign_in.sign_in(uow.session, rt.settings, keys, index, client, body.username, body.password,
                                   utcnow())
    response.headers["Cache-Control"] = "no-store"
    return views.token_pair(issued)


@router.post("/me/password", status_code=204, summary="修改自己的密码 change my password",
             description="需提供当前密码；成功后本人其他登录全部退出，当前登录保留。当前密码错误计入登录失败次数。"
                         "The current password is required; the owner's other sign-ins end.",
             responses={401: {"description": "未登录 not signed in"},
                        422: {"description": "当前密码错误 user.wrong_password；新密码不符合规则 user.weak_password；"
                                             "居民账号 user.not_staff"},
                        429: {"description": "失败次数过多，暂时锁定 signin.locked 或放慢 signin.slowed"}})
def change_my_password(body: PasswordChange, user: CurrentUser, me: MeDep, client: ClientDep, uow: Uow) -> Response:
    password_policy.change_own(uow.session, uow.emit, client, me, user.session_id, body.current_password,
                               body.new_password, utcnow())
    return Response(status_code=204)


@router.put("/users/{user_id}/password", status_code=204, summary="管理员重置工作人员密码 reset a staff password",
            description="仅管理员。重置后该用户的所有登录退出，锁定解除。Admins only: every sign-in of the user ends.",
            responses={401: {"description": "未登录 not signed in"}, 403: {"description": "仅管理员 admins only"},
                       404: {"description": "用户不存在 user.not_found"},
                       422: {"description": WEAK["description"] + "；居民账号 user.not_staff"}})
def reset_password(user_id: UserId, body: PasswordReset, admin: AdminUser, uow: Uow) -> Response:
    password_policy.reset_by_admin(uow.session, uow.emit, directory.by_id(uow.session, user_id), body.password,
                                   utcnow())
    # The new password's holder changed: an account change of its own (the sessions it ended are
    # entries already, as their events).
    uow.audit("account.password_reset", subject_kind="user", subject_id=user_id)
    return Response(status_code=204)
