"""Notify's configuration, as data in data/: channel endpoints and sending policy (channels.json,
secrets from the environment), who hears about each event (rules.json) and the message templates
(templates.json, checked by templates.Catalogue).

`get()` reads it once per process; SPEC.config calls it when a runtime is built, so a broken file
(or a template breaking a rule) stops start-up. A deployment points CG_NOTIFY_DATA_DIR at its own
copies (CG_NOTIFY_CONFIG may still name channels.json alone). Tests and the bench put a config of
their own, built with `load_config(overrides=...)`, in rt.cache[CACHE_KEY]: `config_of(rt)` prefers it.
"""

import copy
import os
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator

from shared import config as shared_config
from shared.events import registered
from shared.runtime import ServiceRuntime

from .templates import Catalogue, TemplateError

DATA = Path(__file__).resolve().parent / "data"
CACHE_KEY = "notify.config"
ExternalChannel = Literal["sms", "wechat", "push", "email"]


def data_dir() -> Path:
    return shared_config.data_dir("notify", DATA)


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
    # The hosts a subscription may name ("12345.example.gov.cn", or "*.example.gov.cn" for the names
    # below it), each of which must also resolve to public addresses only (targets.py). Empty (the
    # default): no host at all, no webhook can be subscribed or delivered; a deployment lists the
    # systems it feeds in its channels.json.
    allowed_hosts: list[str] = []
    # Tests only, never in a deployment's file: subscriptions must be https and reach public
    # addresses; the tests' receiver on loopback speaks plain http.
    allow_http: bool = False
    allow_private_addresses: bool = False


# What notify can write back to the 12345 platform (platform.py): the events it knows how to tell, each
# with the fields it fills. A deployment's platform.json maps the ones its platform wants to its status codes.
PLATFORM_EVENTS = ("routing.case.dispatched", "routing.case.signed", "routing.case.contacted",
                   "routing.case.returned", "routing.case.extension_requested", "routing.case.extended",
                   "routing.case.resolved", "routing.case.closed",
                   "intake.case.evaluated")
# Our names of the fields of a write-back; platform.json `fields` gives the platform's name of each.
PLATFORM_FIELDS = ("order_no", "status", "status_name", "time", "case_no", "unit", "reason", "legal_basis",
                   "deadline", "outcome", "result", "contacted", "solved", "satisfaction")
SATISFACTION_KEYS = ("满意", "基本满意", "不满意", "none")
OUTCOME_KEYS = ("解决到位", "解释到位", "帮扶到位", "依法处理")


class PlatformStatus(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=40)


class PlatformHeaders(BaseModel):
    """The header names the platform reads the signature, its timestamp, the delivery id and our app id from."""

    app_id: str = "X-App-Id"
    timestamp: str = "X-Timestamp"
    nonce: str = "X-Nonce"
    signature: str = "X-Signature"


class PlatformSuccess(BaseModel):
    """A 2xx answer is success only if this field of its JSON body has one of these values (platforms
    often answer 200 with a refusal code in the body)."""

    field: str
    values: list[str]


class PlatformConfig(BaseModel):
    """The city's 12345 platform and how it wants our status write-backs (data/platform.json)."""

    enabled: bool = False
    source: str = "12345"  # CaseSubmitted.external_source of the cases it gave us
    url: str = ""
    secret: str | None = None  # from the environment variable platform.json names (secret_env)
    app_id: str | None = None
    timeout_seconds: float = Field(10, gt=0, le=120)
    # Its own back-off (a platform may be down for hours); empty: the policy's.
    retry_delays_seconds: list[float] = []
    time_format: str = "%Y-%m-%d %H:%M:%S"  # local time (shared.config.local_zone)
    headers: PlatformHeaders = PlatformHeaders()
    fields: dict[str, str] = {}
    statuses: dict[str, PlatformStatus] = {}
    outcomes: dict[str, str] = {}
    satisfaction: dict[str, str] = {}
    success: PlatformSuccess | None = None
    # Tests only, never in a deployment's file: the write-back must go over https.
    allow_http: bool = False

    def check(self) -> None:
        """What start-up refuses: a status for an event notify cannot write back, a field, outcome or rating
        without the platform's name for it, a URL that is not https."""
        problems = [f"statuses: {e} cannot be written back" for e in sorted(set(self.statuses) - set(PLATFORM_EVENTS))]
        problems += [f"fields: no name for {f}" for f in PLATFORM_FIELDS if not self.fields.get(f)]
        problems += [f"fields: {f} is not a field" for f in sorted(set(self.fields) - set(PLATFORM_FIELDS))]
        problems += [f"outcomes: no code for {o}" for o in OUTCOME_KEYS if not self.outcomes.get(o)]
        problems += [f"satisfaction: no code for {s}" for s in SATISFACTION_KEYS if not self.satisfaction.get(s)]
        if self.enabled and not (self.url.startswith("https://") or (self.allow_http and
                                                                     self.url.startswith("http://"))):
            problems.append("url: must be https")
        if problems:
            raise TemplateError("platform.json: " + "; ".join(problems))


class EmailCheckPolicy(BaseModel):
    """The one-time code that proves an email address is the person's own (email_checks.py)."""

    digits: int = Field(6, ge=4, le=8)
    ttl_seconds: int = Field(900, ge=60, le=86400)  # 15 minutes
    max_attempts: int = Field(5, ge=1, le=10)  # wrong tries that burn a code


class Policy(BaseModel):
    retry_delays_seconds: list[float]
    batch: int = 200
    lease_seconds: float = 120
    workers: int = 8
    http_timeout_seconds: float = 10
    poll_seconds: float = 1.0
    digest_hour: int = Field(8, ge=0, le=23)  # local time (shared.config.local_zone)
    allowed_link_prefixes: list[str] = []


AUDIENCE = re.compile(r"((supervisor_of|staff_of):)?[a-z_]+")


# What notify remembers about a case from the events it has seen (cases.py), offered to the rules
# beside the payload's own fields (a payload field that is set wins): routing's events name neither
# the case's urgency nor who follows it, intake's evaluation names no requester.
CASE_FACTS = ("urgency", "requester_id", "follower_ids", "lead_order", "dissatisfied", "reopenable",
              "reopen_deadline", "caller")


class Rule(BaseModel):
    """One kind of person told about one event type."""

    to: str  # a field holding a user id or ids; supervisor_of:FIELD or staff_of:FIELD a unit's
    template: str
    # Fields that must have these values: a value, or a list of values meaning "one of them" (for a field
    # that is itself a list, the list it must equal). A field the event lacks counts as null.
    when: dict[str, Any] = {}
    vars: dict[str, str] = {}  # template variable → the field it is taken from

    @field_validator("to")
    @classmethod
    def _audience(cls, value: str) -> str:
        if not AUDIENCE.fullmatch(value):
            raise ValueError("to: FIELD, supervisor_of:FIELD or staff_of:FIELD")
        return value

    @property
    def to_field(self) -> str:
        return self.to.rpartition(":")[2]

    def applies(self, values: dict) -> bool:
        for name, wanted in self.when.items():
            value = values.get(name)
            if isinstance(wanted, list) and not isinstance(value, list):
                if value not in wanted:
                    return False
            elif value != wanted:
                return False
        return True


class UrgentOrders(BaseModel):
    """Work orders that may not wait: for a case of one of `urgencies` (特急 life and property at risk,
    紧急 utilities: sign-for in 15 / 30 minutes), a message of one of `templates` is urgent whatever
    the template says, so neither the handler's quiet hours nor a per-number limit holds it, and a
    channel that fails hands it to the next at once (sender.py, delivery.py)."""

    urgencies: list[str] = []
    templates: list[str] = []

    def applies(self, template: str, urgency: str | None) -> bool:
        return urgency in self.urgencies and template in self.templates


class ReopenPolicy(BaseModel):
    """Intake's rule for reopening a case after a result (policy.json reopen_window_days, max_reopens),
    so a dissatisfied requester is told the truth about what she may still do (a test keeps the two equal)."""

    window_days: int = Field(gt=0)
    max_reopens: int = Field(ge=0)


class DefaultChannels(BaseModel):
    resident: list[ExternalChannel]
    staff: list[ExternalChannel]


class Rules(BaseModel):
    supervisor_roles: list[str]
    default_channels: DefaultChannels
    urgent_orders: UrgentOrders = UrgentOrders()
    reopen: ReopenPolicy
    events: dict[str, list[Rule]]
    # Event types nobody is told about, each with the reason: with `events`, every intake, routing and
    # mediation event type is decided one way or the other (a test), none reaches notify unplanned.
    ignored: dict[str, str] = {}

    def channels_for(self, role: str) -> list[str]:
        return list(self.default_channels.resident if role == "resident" else self.default_channels.staff)


class Config(BaseModel):
    sms: SmsConfig
    wechat: WechatConfig
    push: PushConfig
    email: EmailConfig
    webhook: WebhookConfig
    policy: Policy
    email_check: EmailCheckPolicy = EmailCheckPolicy()
    platform: PlatformConfig = PlatformConfig()
    rules: Rules
    # Checked against this config's SMS signature and allowed links, so built with it.
    _catalogue: Catalogue = PrivateAttr()

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def enabled(self, channel: str) -> bool:
        if channel == "inbox":
            return True
        section = getattr(self, channel, None)
        return bool(section is not None and section.enabled)


REQUIRED = {"sms": ("access_key_id", "access_key_secret"), "wechat": ("appid", "secret"), "push": ("api_key",)}
# The code templates notify sends of its own accord (codes.py), not by a rule, and the part of each
# that carries the code: a deployment's templates.json must have them, the code in that part only.
CODE_TEMPLATES = {"auth.code": "sms", "contact.email_code": "email"}


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read(path: Path) -> dict:
    raw = shared_config.read_json(path)
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _secrets_from_env(section: dict) -> None:
    for key in [k for k in section if k.endswith("_env")]:
        section[key[:-4]] = os.environ.get(section.pop(key)) or None


def load_config(data: Path | None = None, overrides: dict | None = None) -> Config:
    data = data or data_dir()
    channels = _read(Path(os.environ.get("CG_NOTIFY_CONFIG") or data / "channels.json"))
    for section in channels.values():
        if isinstance(section, dict):
            _secrets_from_env(section)
    # A deployment's folder written before the platform write-back may lack the file: no platform then.
    platform = _read(data / "platform.json") if (data / "platform.json").exists() else {}
    _secrets_from_env(platform)
    config = Config.model_validate(_merge({**channels, "platform": platform, "rules": _read(data / "rules.json")},
                                          overrides or {}))
    # A channel without its credentials cannot send: it is off, whatever the file says.
    for channel, keys in REQUIRED.items():
        section = getattr(config, channel)
        if section.enabled and not all(getattr(section, k) for k in keys):
            section.enabled = False
    config.platform.check()
    # Unsigned write-backs would be refused (or worse, believed): without its secret the platform is off.
    if config.platform.enabled and not config.platform.secret:
        config.platform.enabled = False
    catalogue = Catalogue(shared_config.read_json(data / "templates.json"),
                          config.sms.sign_name, config.policy.allowed_link_prefixes)
    unknown = ({r.template for rules in config.rules.events.values() for r in rules}
               | set(config.rules.urgent_orders.templates)) - set(catalogue.templates)
    if unknown:
        raise TemplateError(f"rules.json names templates that do not exist: {sorted(unknown)}")
    _check_fields(config.rules, catalogue)
    for code, part in CODE_TEMPLATES.items():
        t = catalogue.templates.get(code)
        if t is None or not getattr(t, part) or "code" not in t.variables:
            raise TemplateError(f"templates.json must have {code}, with its code in the {part} part")
        if any("{code}" in text for text in (*t.title, *t.body)):
            raise TemplateError(f"{code}: the title and body are kept; they must not carry the code")
    config._catalogue = catalogue
    return config


def _check_fields(rules: Rules, catalogue: Catalogue) -> None:
    """Every field a rule reads exists in its event (or among the case facts), and every variable of its
    template is found: otherwise the rule would silently tell nobody, or fail each such event."""
    payloads = {etype: cls for (etype, _), cls in registered().items()}
    problems = []
    for etype, rule_list in rules.events.items():
        if etype not in payloads:
            problems.append(f"{etype}: no such event")
            continue
        fields = set(payloads[etype].model_fields) | set(CASE_FACTS)
        for rule in rule_list:
            named = {rule.to_field, *rule.when, *rule.vars.values()}
            problems += [f"{etype} → {rule.template}: no field {f}" for f in sorted(named - fields)]
            missing = catalogue[rule.template].variables - fields - set(rule.vars)
            problems += [f"{etype} → {rule.template}: variable {v} not in the event" for v in sorted(missing)]
    problems += [f"{etype}: both told about and ignored" for etype in sorted(set(rules.ignored) & set(rules.events))]
    if problems:
        raise TemplateError("rules.json: " + "; ".join(problems))


@cache
def get() -> Config:
    """The deployment's configuration, read and checked once per process."""
    return load_config()


def config_of(rt: ServiceRuntime) -> Config:
    """The configuration a runtime works with: its own if one was placed in rt.cache, else the deployment's."""
    return rt.cache.get(CACHE_KEY) or get()
