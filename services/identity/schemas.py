"""Identity's request and response bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.fields import Flag


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenPair(BaseModel):
    access_token: str = Field(description="访问令牌（JWT，ES256），放在 Authorization: Bearer 头 the access token")
    token_type: str = Field("Bearer", description="令牌类型 always Bearer")
    expires_in: int = Field(description="访问令牌有效秒数 seconds the access token is valid")
    refresh_token: str = Field(description="刷新令牌：只能使用一次，刷新后换新 the refresh token, good for one refresh")
    refresh_expires_in: int = Field(description="刷新令牌有效秒数 seconds the refresh token is valid")
    session_id: str = Field(description="本次登录的编号 this sign-in's id")
    user_id: str = Field(description="用户编号 the user's id")
    role: str = Field(description="角色 the user's role")


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=10, max_length=200, description="上次得到的刷新令牌 the last refresh token")


class Me(BaseModel):
    id: str = Field(description="用户编号 user id")
    kind: str = Field(description="居民或工作人员 resident or staff")
    role: str = Field(description="角色 role")
    unit_codes: list[str] = Field(description="所属单位代码，主单位在前 units, the primary first")
    username: str | None = Field(description="用户名（工作人员）username (staff)")
    display_name: str | None = Field(description="姓名 display name")
    phone_verified: bool = Field(description="是否已验证手机号 whether a phone was verified")
    wechat_linked: bool = Field(description="是否已绑定微信 whether WeChat is linked")
    session_id: str | None = Field(description="当前登录编号 the current sign-in")


class OidcTokenIn(Strict):
    code: str = Field(min_length=1, max_length=2048, description="统一身份认证回调带回的授权码 the code the provider "
                                                                 "sent to the redirect URI")
    state: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                       description="同一回调带回的 state the state sent back with it")


class OidcProviderView(BaseModel):
    name: str = Field(description="名称，用于登录地址 the name in /identity/v1/oidc/{name}/authorize")
    title: str | None = Field(description="登录页按钮上的名称 the label for the sign-in page")


class OidcProviderList(BaseModel):
    providers: list[OidcProviderView] = Field(description="已配置的统一身份认证 the configured providers")


# --------------------------------------------------------------------------- residents: SMS codes, WeChat

PHONE_EXAMPLE = "13800000001"


class CodeRequestIn(Strict):
    phone: str = Field(min_length=3, max_length=32, examples=[PHONE_EXAMPLE],
                       description="手机号（大陆号码可不带 +86）the mobile number; +86 may be left out")
    purpose: Literal["sign_in", "link_phone"] = Field(
        "sign_in", description="用途：sign_in 登录（含微信首次登录时验证手机号）；link_phone 为已登录居民绑定手机号"
                               "（须登录）what the code is for: signing in, or linking a phone to the signed-in "
                               "resident (needs the bearer token)")


class CodeSent(BaseModel):
    expires_in: int = Field(description="验证码有效秒数 seconds the code is valid")
    resend_after: int | None = Field(None, description="本小时额度已用完时，多少秒后才能再次获取；可立即再获取时为空 "
                                                       "seconds before another code will be accepted (this hour's "
                                                       "allowance is used up); null when one may be asked for now")


class SmsSignInIn(Strict):
    phone: str = Field(min_length=3, max_length=32, examples=[PHONE_EXAMPLE], description="手机号 the mobile number")
    code: str = Field(min_length=1, max_length=16, examples=["123456"], description="短信验证码 the code received")


class WechatSignInIn(Strict):
    code: str = Field(min_length=1, max_length=128, description="小程序 wx.login 得到的临时登录凭证 the wx.login code")
    phone: str | None = Field(None, min_length=3, max_length=32,
                              description="（可选）手机号：与 sms_code 一起，首次登录时关联已有账号 optional: with "
                                          "sms_code, links this WeChat account to the resident with this phone")
    sms_code: str | None = Field(None, min_length=1, max_length=16,
                                 description="（可选）该手机号的短信验证码（用途 sign_in）optional: the phone's code "
                                             "(purpose sign_in)")


class LinkPhoneIn(Strict):
    phone: str = Field(min_length=3, max_length=32, examples=[PHONE_EXAMPLE], description="要绑定的手机号 the number")
    code: str = Field(min_length=1, max_length=16, description="该号码的短信验证码（用途 link_phone）the code sent to "
                                                              "it (purpose link_phone)")


class DevCode(BaseModel):
    code: str | None = Field(description="验证码（开发用，明文）the code, readable: development only")
    purpose: str = Field(description="用途 sign_in 或 link_phone what it was for")
    status: Literal["active", "used", "dead", "expired"] = Field(
        description="active 可用、used 已使用、dead 错误次数用尽、expired 已过期 usable, used, too many tries, expired")
    created_at: datetime = Field(description="发送时间 when it was sent")
    expires_at: datetime = Field(description="失效时间 when it expires")


class DevCodes(BaseModel):
    development_only: str = Field(
        "开发用：仅嵌入式模式且未配置短信通道时可用，生产环境不可用 development only: embedded mode without an SMS "
        "provider; never in a deployment", description="开发用标记 marks this as a development-only answer")
    codes: list[DevCode] = Field(description="该号码最近的验证码，最新的在前 the number's latest codes, newest first")


# --------------------------------------------------------------------------- staff: passwords


class PasswordSignIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"username": "grid-worker-001001", "password": "Yulin-Demo-2026"}]})
    username: str = Field(min_length=1, max_length=64, description="用户名（不区分大小写）username, case-insensitive")
    password: str = Field(min_length=1, max_length=256, description="密码 password")


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=256, description="当前密码 the current password")
    new_password: str = Field(min_length=1, max_length=128, description="新密码，须符合密码规则 the new password")


class PasswordReset(Strict):
    password: str = Field(min_length=1, max_length=128, description="新密码，须符合密码规则 the new password")


# --------------------------------------------------------------------------- the user directory


class UserView(BaseModel):
    id: str = Field(description="用户编号 user id")
    kind: str = Field(description="resident 居民 或 staff 工作人员")
    role: str = Field(description="角色 role")
    unit_codes: list[str] = Field(description="所属单位代码，主单位在前 units, the primary first")
    username: str | None = Field(description="用户名（工作人员）username (staff)")
    display_name: str | None = Field(description="姓名 display name")
    active: bool = Field(description="是否启用；停用的用户不能登录，已签发的令牌作废 whether the user may sign in")
    phone: str | None = Field(description="手机号（脱敏，仅居民）the phone, masked (residents)")
    wechat_linked: bool = Field(description="是否已绑定微信 whether WeChat is linked")
    oidc_linked: bool = Field(description="是否已关联统一身份认证 whether an identity-provider account is linked")
    has_password: bool = Field(description="是否已设置密码 whether a password is set")
    password_changed_at: datetime | None = Field(description="密码最近修改时间 when the password was last set")
    locked_until: datetime | None = Field(description="某个客户端地址因连续登录失败被锁定至"
                                                      "（仅该地址，其他地址照常登录）"
                                                      "the end of the latest lock of a client address after failed "
                                                      "sign-ins (that address only; others sign in as usual)")
    last_sign_in_at: datetime | None = Field(description="最近登录时间 the last sign-in")
    created_at: datetime = Field(description="创建时间 created at")
    updated_at: datetime = Field(description="最近修改时间 last changed at")


class UserPage(BaseModel):
    items: list[UserView] = Field(description="本页用户 the users of this page")
    total: int = Field(description="总数 how many users match")
    page: int = Field(description="页码，从1开始 page number, from 1")
    page_size: int = Field(description="每页条数 page size")


class StaffCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "username": "zhang.wei", "display_name": "张伟", "role": "grid_worker", "unit_codes": ["510107001001001"]}]})
    username: str = Field(min_length=2, max_length=64, description="用户名：小写字母、数字、点、下划线、连字符 "
                                                                  "username: lowercase letters, digits, . _ -")
    display_name: str = Field(min_length=1, max_length=100, description="姓名 display name")
    role: str = Field(description="工作人员角色 a staff role (operator, grid_worker, ..., admin)")
    unit_codes: list[str] = Field(min_length=1, max_length=20, description="所属单位代码，主单位在前 "
                                                                           "unit codes, the primary first")
    password: str | None = Field(None, min_length=1, max_length=128,
                                 description="初始密码（可选，须符合密码规则）；不设置时由管理员重置"
                                             "或通过统一身份认证登录 an initial password (optional)")


class UserPatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})
    role: str | None = Field(None, description="新角色（仅工作人员；变更后该用户需重新登录）a new role (staff)")
    unit_codes: list[str] | None = Field(None, min_length=1, max_length=20,
                                         description="新的所属单位，主单位在前（变更后需重新登录）new units")
    display_name: str | None = Field(None, min_length=1, max_length=100, description="姓名 display name")
    active: Flag | None = Field(None, description="启用或停用；停用后该用户的所有令牌立即作废 enable or disable")


class RosterReport(BaseModel):
    total: int = Field(description="名册行数 rows in the roster")
    created: int = Field(description="新建的用户数 users created")
    updated: int = Field(description="更新的用户数 users updated")
    unchanged: int = Field(description="无变化的用户数 users unchanged")
    dry_run: bool = Field(description="仅校验，未写入 validated only, nothing written")


# --------------------------------------------------------------------------- government systems' API keys


class ApiKeyCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "12345热线平台", "scopes": ["cases:create", "cases:read"], "area_code": "510107000000000",
        "expires_in_days": 180}]})
    name: str = Field(min_length=1, max_length=100, description="使用该密钥的系统名称 the system using the key")
    scopes: list[str] = Field(min_length=1, max_length=20, description="权限范围（见配置 api_keys.scopes）"
                                                                       "what the key allows")
    area_code: str | None = Field(None, max_length=32, description="限定的区域单位代码（可选）an area limit")
    expires_in_days: StrictInt | None = Field(None, description="有效天数，默认且最多为配置的 max_days "
                                                          "days until it expires (at most max_days, the default)")


class ApiKeyView(BaseModel):
    id: str = Field(description="密钥编号（密钥的公开部分）the key's id, its public part")
    name: str = Field(description="使用该密钥的系统名称 the system using the key")
    scopes: list[str] = Field(description="权限范围 what the key allows")
    area_code: str | None = Field(description="限定的区域单位代码 the area it is limited to")
    created_by: str = Field(description="创建人 who made it")
    created_at: datetime = Field(description="创建时间 made at")
    expires_at: datetime | None = Field(description="到期时间 expires at")
    revoked_at: datetime | None = Field(description="吊销时间 revoked at")
    last_used_at: datetime | None = Field(description="最近使用时间（约每分钟记录一次）last used (recorded about once "
                                                      "a minute)")


class ApiKeyIssued(ApiKeyView):
    key: str = Field(description="密钥本身：仅此一次显示，请立即妥善保存，放在 X-API-Key 请求头 the key itself, "
                                 "shown this once only")


class ApiClientView(BaseModel):
    key_id: str = Field(description="密钥编号 the key's id")
    name: str = Field(description="系统名称 the system's name")
    scopes: list[str] = Field(description="权限范围 what the key allows")
    area_code: str | None = Field(description="限定的区域单位代码 the area it is limited to")


# --------------------------------------------------------------------------- the sign-in audit trail


class SignInAttemptView(BaseModel):
    id: int = Field(description="编号 id")
    at: datetime = Field(description="时间 when")
    method: str = Field(description="方式：password、password_change、sms、wechat、oidc how")
    result: str = Field(description="结果：ok 或给出的错误代码 ok, or the error code given")
    user_id: str | None = Field(description="用户编号（账号存在时）the user, when the account exists")
    identifier_index: str | None = Field(description="所用账号（用户名或手机号）的密钥哈希，用于识别对同一账号的"
                                                     "反复尝试 a keyed hash of the name or phone tried")
    ip: str | None = Field(description="来源地址 from where")
    user_agent: str | None = Field(description="客户端 the client")
    request_id: str | None = Field(description="请求编号 the request id")


class SignInAttemptPage(BaseModel):
    items: list[SignInAttemptView] = Field(description="本页记录，最新在前 the attempts of this page, newest first")
    total: int = Field(description="总数 how many match")
    page: int = Field(description="页码，从1开始 page number, from 1")
    page_size: int = Field(description="每页条数 page size")
