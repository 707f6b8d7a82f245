"""Identity's configuration (data/identity.json), typed and checked when a runtime is built.

Secrets are named, not written: a section's `*_env` field names the environment variable that
holds the value (WeChat's AppSecret, an OIDC client secret), read when the section is used.
"""

import os
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from shared import config as shared_config
from shared.auth import ROLES

DATA = Path(__file__).resolve().parent / "data"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PasswordPolicy(Strict):
    min_length: int = Field(ge=8, le=128, description="最短长度 minimum length")
    min_classes: int = Field(ge=1, le=4, description="至少包含几类字符（大写、小写、数字、符号）"
                                                     "character classes required")
    max_failures: PositiveInt = Field(description="同一客户端地址连续失败几次后，该地址不能再登录该账号 "
                                                  "consecutive failures from one client address before that "
                                                  "address is locked out of the account")
    lockout_minutes: PositiveInt = Field(description="锁定时长（分钟）how long it stays locked")
    account_max_failures: PositiveInt = Field(30, description="一个账号在时间窗内（所有地址合计）最多失败几次，"
                                                              "超过则放慢（429 signin.slowed），不锁定 the failures "
                                                              "an account takes from every address together in the "
                                                              "window before it is slowed (not locked)")
    account_window_minutes: PositiveInt = Field(15, description="上述时间窗（分钟）that window, in minutes")

    @model_validator(mode="after")
    def _ceiling_above_the_lock(self):
        if self.account_max_failures <= self.max_failures:
            raise ValueError("password.account_max_failures must be well above max_failures: one address "
                             "would otherwise slow the account for everyone")
        return self
    forbidden: list[str] = Field(default=[], description="禁止使用的常见口令 common passwords refused")


class SmsCodePolicy(Strict):
    """One-time SMS codes (codes.py): sent through notify, stored only as an HMAC."""

    digits: int = Field(ge=4, le=8, description="验证码位数 digits of a code")
    ttl_seconds: PositiveInt = Field(description="有效期（秒）how long a code is valid")
    max_attempts: PositiveInt = Field(description="每个验证码最多尝试次数，用尽即作废 tries per code, then it is dead")
    per_phone_per_hour: PositiveInt = Field(description="每个号码每小时最多发送几条 codes per number per hour")
    per_ip_per_hour: PositiveInt = Field(description="每个客户端地址每小时最多发送几条 "
                                                     "codes per client address per hour")
    regions: list[str] = Field(["CN"], min_length=1,
                               description="只向这些国家或地区（ISO 3166 代码）的手机号发送验证码，默认仅中国大陆 "
                                           "the regions (ISO 3166 codes) whose mobile numbers may be sent a code: "
                                           "mainland China only by default, against SMS pumping to costly numbers")
    dev_inbox: bool = Field(False, description="开发用验证码收件箱（仅嵌入式模式）：GET /identity/v1/dev/sms-codes "
                                               "the development code inbox, embedded mode only")
    dev_inbox_off_env: str | None = Field(
        None, description="该环境变量有值时（已配置真实短信通道）收件箱关闭 the inbox is off whenever this "
                          "environment variable is set: notify's SMS credentials, i.e. a real provider sends codes")

    @model_validator(mode="after")
    def _known_regions(self):
        unknown = sorted(set(self.regions) - phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise ValueError(f"sms_code.regions names regions that do not exist: {unknown} (e.g. CN, HK, MO)")
        return self

    @property
    def dev_inbox_allowed(self) -> bool:
        """The inbox is on only where asked for and no real SMS provider is configured (the mode is
        checked by the caller: services mode never has it)."""
        return self.dev_inbox and not (self.dev_inbox_off_env and os.environ.get(self.dev_inbox_off_env))


class WechatConfig(Strict):
    """The WeChat mini-program's code2session (wechat.py); AppID and AppSecret from the environment."""

    enabled: bool = Field(False, description="是否启用微信小程序登录 whether mini-program sign-in is on")
    endpoint: str = Field(description="微信接口地址 the WeChat API base URL")
    appid_env: str = Field(description="存放小程序 AppID 的环境变量名 the env var holding the AppID")
    secret_env: str = Field(description="存放小程序 AppSecret 的环境变量名 the env var holding the AppSecret")
    timeout_seconds: float = Field(5, gt=0, le=30, description="调用 code2session 的超时（秒）the call's timeout")

    @property
    def appid(self) -> str | None:
        return os.environ.get(self.appid_env) or None

    @property
    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None

    @property
    def usable(self) -> bool:
        """On, and its AppID and AppSecret are set: otherwise sign-in answers signin.wechat_disabled."""
        return self.enabled and bool(self.appid) and bool(self.secret)

    @model_validator(mode="after")
    def _secure_endpoint(self):
        if not secure_url(self.endpoint):  # the AppSecret travels in its query string
            raise ValueError(f"wechat.endpoint {self.endpoint!r} must be an https URL (plain http only on loopback)")
        return self


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def secure_url(url: str) -> bool:
    """https, or plain http to this machine only (a provider on loopback: development and the tests)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


class OidcProvider(Strict):
    """A city identity provider for staff, found by its issuer URL (OpenID Connect discovery)."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,40}$", description="在地址中使用的名称 the name used in the URLs")
    title: str | None = Field(None, max_length=60, description="登录页按钮上的名称 the sign-in page's label")
    issuer: str = Field(description="签发者地址（OpenID Connect 发现）the issuer URL: discovery reads "
                                    "{issuer}/.well-known/openid-configuration")
    client_id: str = Field(min_length=1, description="本系统在该认证服务的客户端编号 our client id there")
    client_secret_env: str = Field(description="存放客户端密钥的环境变量名 the env var holding the client secret")
    token_auth: Literal["client_secret_basic", "client_secret_post"] = Field(
        "client_secret_basic", description="换取令牌时的客户端认证方式 client authentication at the token endpoint")
    scopes: list[str] = ["openid", "profile"]
    role_claim: str = Field("role", description="岗位声明名（可用点号取嵌套值）the role claim (a dotted path "
                                                "reaches a nested one); a string or a list of strings")
    unit_claim: str = Field("unit", description="单位声明名 the unit claim: a unit code or a list, primary first")
    username_claim: str = Field("preferred_username", description="用户名声明名 the claim naming the username")
    name_claim: str = Field("name", description="姓名声明名 the claim holding the display name")
    # The provider's role values → our roles; a value not listed signs nobody in.
    role_map: dict[str, str] = Field(description="认证服务的岗位 → 本系统角色 the provider's roles → ours")
    allowed_redirects: list[str] = Field(default=[], description="前端回调地址白名单 redirect URIs allowed")

    @property
    def client_secret(self) -> str | None:
        return os.environ.get(self.client_secret_env) or None

    @model_validator(mode="after")
    def _known_roles(self):
        unknown = sorted(set(self.role_map.values()) - set(ROLES))
        if unknown:
            raise ValueError(f"role_map names roles that do not exist: {unknown}")
        if "resident" in self.role_map.values():
            raise ValueError("role_map maps to resident: the identity provider signs in staff only")
        if not secure_url(self.issuer):
            raise ValueError(f"issuer {self.issuer!r} must be an https URL (plain http only on loopback)")
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        bad = [u for u in self.allowed_redirects if not secure_url(u)]
        if bad:
            raise ValueError(f"allowed_redirects must be https URLs (plain http only on loopback): {bad}")
        return self


class OidcConfig(Strict):
    providers: list[OidcProvider] = []

    @model_validator(mode="after")
    def _unique_names(self):
        names = [p.name for p in self.providers]
        if len(names) != len(set(names)):
            raise ValueError(f"two OIDC providers share a name: {names}")
        return self

    def provider(self, name: str) -> OidcProvider | None:
        return next((p for p in self.providers if p.name == name), None)


class ApiKeyPolicy(Strict):
    max_days: PositiveInt
    scopes: dict[str, str]  # scope → what it allows (Chinese first)


class DirectoryPolicy(Strict):
    """The staff directory and its roster import (POST /identity/v1/users/import)."""

    unit_code_pattern: str = Field(r"^[0-9A-Za-z]{1,32}$", description="单位代码的格式（同 routing 的 levels.json）"
                                                                       "what a unit code looks like")
    roster_max_rows: PositiveInt = Field(5000, description="一次导入的最多行数 rows per import")
    roster_max_bytes: PositiveInt = Field(5_000_000, description="名册文件的最大字节数 largest roster file")
    roster_max_unpacked_bytes: PositiveInt = Field(
        20_000_000, description="XLSX 名册解压后的最大字节数（防压缩炸弹）the most an XLSX roster may hold once "
                                "unpacked: its members' sizes summed, against a zip bomb")


class Config(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True)

    password: PasswordPolicy
    sms_code: SmsCodePolicy
    wechat: WechatConfig
    oidc: OidcConfig
    api_keys: ApiKeyPolicy
    directory: DirectoryPolicy = DirectoryPolicy()
    session_days: PositiveInt = Field(description="一次登录的最长有效期（天）no refresh after this many days")


def data_dir() -> Path:
    return shared_config.data_dir("identity", DATA)


@cache
def get() -> Config:
    raw = shared_config.read_json(data_dir() / "identity.json")
    return Config.model_validate({k: v for k, v in raw.items() if not k.startswith("_")})
