"""Intake's rules, read from policy.json beside this file (configuration as data)."""

import json
from functools import cache
from pathlib import Path

POLICY_FILE = Path(__file__).with_name("policy.json")


@cache
def policy() -> dict:
    return json.loads(POLICY_FILE.read_text(encoding="utf-8"))
