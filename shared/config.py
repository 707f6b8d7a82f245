"""Settings, read from the environment (prefix CG_) when asked for, never at import time; and the
helpers every service's typed configuration (services/<name>/config.py) is read with."""

import json
import os
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("identity", "intake", "routing", "mediation", "notify", "grid", "selfgov")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CG_", extra="ignore")

    # embedded: one process, SQLite files, the durable in-process bus.
    # services: one API and one worker process per service, PostgreSQL and RabbitMQ.
    mode: Literal["embedded", "services"] = "embedded"
    var_dir: Path = Path("var")
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432"
    db_prefix: str = "cg_"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    # A RabbitMQ cluster: every node's address, comma-separated (CG_AMQP_URLS); when set, CG_AMQP_URL is not
    # used. Each connection starts at a different node and moves on to the next when its node goes away.
    amqp_urls: str = ""
    exchange: str = "cg.events"

    # Tokens: signed by the identity service with an asymmetric key (ES256); every other service
    # holds only the public keys (its JWKS). In services mode the keys must be configured:
    # CG_SIGNING_KEYS names PEM files of EC P-256 private keys, comma-separated; the first signs,
    # all are published (two during a rotation). Embedded mode generates a development key under
    # var/ on first run, which services mode refuses.
    signing_keys: str | None = None
    identity_url: str = "http://127.0.0.1:8005"  # where services fetch the JWKS (services mode)
    jwt_issuer: str = "cg-identity"
    jwt_audience: str = "cg-api"
    access_token_seconds: int = 15 * 60
    # A token whose lifetime (exp - iat) is longer than this is refused, whoever signed it.
    max_token_lifetime_seconds: int = 60 * 60
    refresh_token_days: int = 30
    # How stale a service's copy of identity's revocations and API keys may be (seconds).
    auth_state_refresh_seconds: float = 2.0
    # Symmetric keys sealing personal data that must cross a service boundary (a phone and a code
    # for an SMS): "kid:base64-32-bytes,..." (the first seals, all open). Embedded mode generates one.
    data_keys: str | None = None
    # The key of the keyed hashes that find personal data without storing it readable (a phone at
    # sign-in): base64 of 32 bytes. Never rotated without re-indexing. Embedded mode generates one.
    index_key: str | None = None
    # Services mode seeds the demo users' password only when asked: a local demo (`CG_DEMO_PASSWORDS=true
    # make up`) and the tests, never a deployment.
    demo_passwords: bool = False
    # Request bodies: at most this many bytes, counted while they arrive; larger for the paths that
    # take files (longest prefix wins), a little above the endpoint's own limit so that a declared
    # size over it is answered in the endpoint's words (attachment.too_large) and nothing more is read.
    max_body_bytes: int = 1_000_000
    # The 12345 platform's batches: up to 500 orders of up to 4,000 characters each.
    body_limits: dict[str, int] = {"/intake/v1/attachments": 11_534_336, "/identity/v1/users/import": 6_000_000,
                                   "/intake/v1/hotline/orders/import": 8_000_000}
    # Shared counters of the rate limits in services mode (shared/ratelimit.py), and overrides of
    # their defaults: {"case.submit": "60/minute"}.
    redis_url: str = "redis://127.0.0.1:6379/0"
    rate_limits: dict[str, str] = {}
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses, "*" for any): none by default.
    trusted_proxies: str = ""

    # The city's local time: months of scores, working days, quiet hours, dates people read.
    timezone: str = "Asia/Shanghai"

    demo_dir: Path = Path(__file__).resolve().parent.parent / "deploy" / "demo"

    # How soon new audit entries are chained (tamper-evident) by the worker.
    audit_seal_seconds: float = 2.0
    # PostgreSQL: an entry is chained once every transaction open when it was written has ended, less
    # this margin for the clocks of the hosts (entries take their ids when written, not at commit).
    audit_seal_settle_seconds: float = 5.0
    # Where each sealing appends the chain's new head, outside the database (one append-only file per
    # service, <dir>/<service>.jsonl): ship it off the host (docs/security.md). Default: var_dir/audit-anchors.
    audit_anchor_dir: Path | None = None
    # How long each service keeps its event log, the record the admins' trace of a request reads
    # (shared/tracing.py): pruned by the worker's audit-sealing loop.
    trace_days: float = 14.0

    # Requests in flight at once in one API process (shared/admission.py); more are answered 503
    # service.busy at once, with Retry-After in seconds. 0: no bound. Per process: N processes of a
    # service behind one port take N times as many. 8, measured (bench/slice.py surge): a process runs its
    # requests' Python one at a time (the GIL), so more in flight only makes every thread, and the event loop
    # answering the refusals, wait longer for it: at 24 the surge's 503s took 3.4 s at p99, at 6 0.4 s.
    admission_limit: int = Field(8, ge=0)
    admission_retry_after_seconds: int = Field(1, ge=1, le=60)

    # Connections each process keeps to its PostgreSQL database, and how many more at a peak
    # (CG_DB_POOL_SIZE, CG_DB_MAX_OVERFLOW): processes × (size + overflow) must stay under the server's
    # max_connections, or a PgBouncer in session mode sits in front (docs/operations.md).
    db_pool_size: int = Field(20, ge=1, le=200)
    db_max_overflow: int = Field(20, ge=0, le=200)

    relay_batch: int = 500
    # The relay wakes on a signal; this poll only covers a lost signal.
    relay_safety_poll_seconds: float = 5.0
    # How long a woken relay waits for the commits right behind the one that woke it (seconds; relay.py).
    relay_linger_seconds: float = Field(0.01, ge=0, le=1)
    consumer_prefetch: int = 200
    consumer_batch: int = 100
    # How long a worker that was idle waits for more deliveries before handling the first (seconds): at a
    # moderate rate, batches of a few instead of one each, for about half the CPU per message (shared/messaging
    # /amqp.py AmqpConsumer._gather). 0: handle each at once.
    consumer_linger_seconds: float = Field(0.01, ge=0, le=1)
    # A worker's probes, "host:port" (e.g. 0.0.0.0:9000): GET /healthz and /readyz, the broker's side of
    # readiness (shared/worker.py). Empty: not served.
    worker_health_address: str = ""
    # Who may read GET /metrics (APIs and the worker's probe server) without a token: loopback always, and
    # these addresses or networks (e.g. the Prometheus server's, "10.0.0.0/8"); 404 for anybody else.
    # Metrics reveal load and failures, not personal data ("testclient" is Starlette's test client).
    metrics_allowed_clients: list[str] = ["127.0.0.1", "::1", "testclient"]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for a zone the tz database does not know
        return value

    @model_validator(mode="after")
    def _sound_tokens(self) -> "Settings":
        # A setting that would weaken every token is refused at start-up, whatever the mode.
        if not self.jwt_issuer.strip() or not self.jwt_audience.strip():
            raise ValueError("CG_JWT_ISSUER and CG_JWT_AUDIENCE must not be empty")
        if not 60 <= self.access_token_seconds <= self.max_token_lifetime_seconds:
            raise ValueError("CG_ACCESS_TOKEN_SECONDS must be at least 60 and at most CG_MAX_TOKEN_LIFETIME_SECONDS")
        if self.mode == "services":
            if self.max_token_lifetime_seconds > 3600:
                raise ValueError("CG_MAX_TOKEN_LIFETIME_SECONDS must be at most 3600 in services mode")
            if not 0 <= self.auth_state_refresh_seconds <= 10:
                raise ValueError("CG_AUTH_STATE_REFRESH_SECONDS must be between 0 and 10: revocations must "
                                 "hold within seconds")
            host = (urlparse(self.identity_url).hostname or "")
            if urlparse(self.identity_url).scheme != "https" and host not in ("127.0.0.1", "localhost", "::1"):
                raise ValueError("CG_IDENTITY_URL must be https (plain http only to a loopback address): "
                                 "the public keys of every token come from there")
        return self

    def database_url(self, service: str) -> str:
        if self.mode == "embedded":
            return f"sqlite:///{(self.var_dir / f'{service}.sqlite').resolve()}"
        return f"{self.pg_url}/{self.db_prefix}{service}"

    @property
    def broker_urls(self) -> list[str]:
        """The RabbitMQ nodes to connect to: CG_AMQP_URLS, else CG_AMQP_URL alone."""
        urls = [u.strip() for u in self.amqp_urls.split(",") if u.strip()]
        return urls or [self.amqp_url]

    @property
    def bus_path(self) -> Path:
        return (self.var_dir / "bus.sqlite").resolve()


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)


@cache
def local_zone() -> ZoneInfo:
    """The one local time zone of the deployment (CG_TIMEZONE), read once per process."""
    return ZoneInfo(get_settings().timezone)


def data_dir(service: str, shipped: Path) -> Path:
    """A service's configuration folder: CG_<SERVICE>_DATA_DIR (a deployment's own copies of the
    files, same names and shape), else the files shipped beside the service."""
    return _folder(os.environ.get(f"CG_{service.upper()}_DATA_DIR"), shipped)


@lru_cache(maxsize=64)
def _folder(configured: str | None, shipped: Path) -> Path:
    # The same Path object for the same setting: the configuration is cached by folder and looked up many
    # times per message (routing: 2 % of its worker went to making and hashing a new Path each time).
    return Path(configured) if configured else shipped


def read_json(path: Path) -> Any:
    """One configuration file; a syntax error names the file, so start-up says which one is broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
