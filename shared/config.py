"""Settings, read from the environment (prefix CG_) when asked for, never at import time; and the
helpers every service's typed configuration (services/<name>/config.py) is read with."""

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("intake", "routing", "mediation", "notify")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CG_", extra="ignore")

    # embedded: one process, SQLite files, the durable in-process bus.
    # services: one API and one worker process per service, PostgreSQL and RabbitMQ.
    mode: Literal["embedded", "services"] = "embedded"
    var_dir: Path = Path("var")
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432"
    db_prefix: str = "cg_"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    exchange: str = "cg.events"

    jwt_secret: str = "dev-only-secret-change-me-in-production"
    jwt_issuer: str = "cg"
    token_ttl_seconds: int = 30 * 24 * 3600

    # The city's local time: months of scores, working days, quiet hours, dates people read.
    timezone: str = "Asia/Shanghai"

    demo_dir: Path = Path(__file__).resolve().parent.parent / "deploy" / "demo"

    relay_batch: int = 500
    # The relay wakes on a signal; this poll only covers a lost signal.
    relay_safety_poll_seconds: float = 5.0
    consumer_prefetch: int = 200
    consumer_batch: int = 100

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for a zone the tz database does not know
        return value

    def database_url(self, service: str) -> str:
        if self.mode == "embedded":
            return f"sqlite:///{(self.var_dir / f'{service}.sqlite').resolve()}"
        return f"{self.pg_url}/{self.db_prefix}{service}"

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
    return Path(os.environ.get(f"CG_{service.upper()}_DATA_DIR") or shipped)


def read_json(path: Path) -> Any:
    """One configuration file; a syntax error names the file, so start-up says which one is broken."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
