"""Mediation's configuration, kept as data in data/*.json (deployments change the files, not the code)."""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@cache
def settings() -> dict:
    return _load("settings.json")


@cache
def dispute_types() -> dict[str, dict]:
    return {t["code"]: t for t in _load("dispute_types.json")}


@cache
def risk_rules() -> dict:
    return _load("risk.json")


@cache
def committees_data() -> dict:
    return _load("committees.json")


@cache
def mediators_data() -> list[dict]:
    return _load("mediators.json")


def routes_for(dispute_type: str) -> list[str]:
    """The routes left to the parties when mediation does not happen or fails (诉讼, 仲裁, 行政处理, 信访)."""
    cfg = settings()
    return list(cfg["routes_by_type"].get(dispute_type, cfg["default_routes"]))


def type_name(code: str) -> str:
    """The type's Chinese name; a type since removed from data/dispute_types.json keeps its code on old records."""
    return dispute_types().get(code, {}).get("name", code)
