"""Routing's configuration as data: the JSON files in config/, read once per process.

CG_ROUTING_CONFIG_DIR points at another folder with the same files (a deployment's own).
"""

import json
import os
from functools import lru_cache
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / "config"


def config_dir() -> Path:
    return Path(os.environ.get("CG_ROUTING_CONFIG_DIR") or DEFAULT_DIR)


@lru_cache(maxsize=16)
def _load(directory: str, name: str) -> dict:
    return json.loads((Path(directory) / f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> dict:
    return _load(str(config_dir()), name)


def levels() -> dict:
    return load("levels")


def area_levels() -> list[str]:
    return [lv["level"] for lv in levels()["area_levels"]]


def handler_roles() -> dict[str, str]:
    cfg = levels()
    return {lv["level"]: lv["handler_role"] for lv in cfg["area_levels"] + cfg["unit_levels"]}


def level_names() -> dict[str, str]:
    cfg = levels()
    return {lv["level"]: lv["name"] for lv in cfg["area_levels"] + cfg["unit_levels"]}


def clocks() -> dict:
    return load("clocks")


def scoring() -> dict:
    return load("scoring")
