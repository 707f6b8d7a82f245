"""Channel endpoints and sending policy, as data (data/channels.json) with secrets from the environment.

CG_NOTIFY_CONFIG may name another JSON file (same shape) for a deployment; tests build a config
with `load_config(overrides=...)` pointing the channels at servers on loopback.
"""

import copy
import json
import os
from pathlib import Path

from pydantic import BaseModel

from shared.runtime import ServiceRuntime

DATA = Path(__file__).resolve().parent / "data"
CACHE_KEY = "notify.config"


class SmsConfig(BaseModel):
    enabled: bool = False
    endpoint: str
    region: str = "cn-hangzhou"
    access_key_id: str | None = None
    access_key_secret: str | None = None
    sign_name: str
    batch: int = 100
    callback_token: str | None = None


class WechatConfig(BaseModel):
    enabled: bool = False
    endpoint: str
    appid: str | None = None
    secret: str | None = None
    miniprogram_state: str = "formal"
    callback_token: str | None = None


class PushConfig(BaseModel):
    enabled: bool = False
    endpoint: str
    api_key: str | None = None
    callback_secret: str | None = None


class EmailConfig(BaseModel):
    enabled: bool = False
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str


class WebhookConfig(BaseModel):
    enabled: bool = True
    timeout_seconds: float = 5


class Policy(BaseModel):
    retry_delays_seconds: list[float]
    batch: int = 200
    lease_seconds: float = 120
    workers: int = 8
    http_timeout_seconds: float = 10
    poll_seconds: float = 1.0
    digest_hour: int = 8
    timezone: str = "Asia/Shanghai"
    allowed_link_prefixes: list[str] = []


class Config(BaseModel):
    sms: SmsConfig
    wechat: WechatConfig
    push: PushConfig
    email: EmailConfig
    webhook: WebhookConfig
    policy: Policy

    def enabled(self, channel: str) -> bool:
        if channel == "inbox":
            return True
        section = getattr(self, channel, None)
        return bool(section is not None and section.enabled)


REQUIRED = {"sms": ("access_key_id", "access_key_secret"), "wechat": ("appid", "secret"), "push": ("api_key",)}


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(path: Path | None = None, overrides: dict | None = None) -> Config:
    path = path or Path(os.environ.get("CG_NOTIFY_CONFIG") or DATA / "channels.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    for section in raw.values():
        if isinstance(section, dict):
            for key in [k for k in section if k.endswith("_env")]:
                section[key[:-4]] = os.environ.get(section.pop(key)) or None
    raw = _merge({k: v for k, v in raw.items() if not k.startswith("_")}, overrides or {})
    config = Config.model_validate(raw)
    # A channel without its credentials cannot send: it is off, whatever the file says.
    for channel, keys in REQUIRED.items():
        section = getattr(config, channel)
        if section.enabled and not all(getattr(section, k) for k in keys):
            section.enabled = False
    return config


def config_of(rt: ServiceRuntime) -> Config:
    """The service's config, loaded once per runtime (tests may place their own in rt.cache first)."""
    if CACHE_KEY not in rt.cache:
        rt.cache[CACHE_KEY] = load_config()
    return rt.cache[CACHE_KEY]
