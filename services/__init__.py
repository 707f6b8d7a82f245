"""The four services. Each has services/<name>/service.py exposing SPEC."""

import importlib

from shared.config import SERVICES
from shared.service import ServiceSpec


def spec(name: str) -> ServiceSpec:
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.service").SPEC


def all_specs() -> list[ServiceSpec]:
    return [spec(name) for name in SERVICES]
