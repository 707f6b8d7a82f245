"""Identity's request and response bodies."""

from pydantic import BaseModel, ConfigDict, Field


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
