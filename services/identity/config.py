"""Identity's configuration (data/identity.json), typed and checked when a runtime is built.

Secrets are named, not written: a section's `*_env` field names the environment variable that
holds the value (WeChat's AppSecret, an OIDC client secret), read when the section is used.
"""

import os
from functools import cache
from pathlib import Path

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
    max_failures: PositiveInt = Field(description="连续失败几次后锁定 failures before the account locks")
    lockout_minutes: PositiveInt = Field(description="锁定时长（分钟）how long it stays locked")
    forbidden: list[str] = Field(default=[], description="禁止使用的常见口令 common passwords refused")


class SmsCodePolicy(Strict):
    digits: int = Field(ge=4, le=8)
    ttl_seconds: PositiveInt
    max_attempts: PositiveInt
    per_phone_per_hour: PositiveInt
    per_ip_per_hour: PositiveInt


class WechatConfig(Strict):
    enabled: bool = False
    endpoint: str
    appid_env: str
    secret_env: str
    timeout_seconds: float = 5

    @property
    def appid(self) -> str | None:
        return os.environ.get(self.appid_env) or None

    @property
    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None


class OidcProvider(Strict):
    """A city identity provider for staff, found by its issuer URL (OpenID Connect discovery)."""

    name: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    issuer: str
    client_id: str
    client_secret_env: str
    scopes: list[str] = ["openid", "profile"]
    role_claim: str = "role"
    unit_claim: str = "unit"
    # The provider's role values → our roles; a value not listed signs nobody in.
    role_map: dict[str, str]
    allowed_redirects: list[str] = Field(default=[], description="前端回调地址白名单 redirect URIs allowed")

    @property
    def client_secret(self) -> str | None:
        return os.environ.get(self.client_secret_env) or None

    @model_validator(mode="after")
    def _known_roles(self):
        unknown = sorted(set(self.role_map.values()) - set(ROLES))
        if unknown:
            raise ValueError(f"role_map names roles that do not exist: {unknown}")
        return self


class OidcConfig(Strict):
    providers: list[OidcProvider] = []

    def provider(self, name: str) -> OidcProvider | None:
        return next((p for p in self.providers if p.name == name), None)


class ApiKeyPolicy(Strict):
    max_days: PositiveInt
    scopes: dict[str, str]  # scope → what it allows (Chinese first)


class Config(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True)

    password: PasswordPolicy
    sms_code: SmsCodePolicy
    wechat: WechatConfig
    oidc: OidcConfig
    api_keys: ApiKeyPolicy
    session_days: PositiveInt = Field(description="一次登录的最长有效期（天）no refresh after this many days")


def data_dir() -> Path:
    return shared_config.data_dir("identity", DATA)


@cache
def get() -> Config:
    raw = shared_config.read_json(data_dir() / "identity.json")
    return Config.model_validate({k: v for k, v in raw.items() if not k.startswith("_")})
