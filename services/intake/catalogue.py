"""The category catalogue, kept as data (catalogue.json beside this file)."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    matter_class: str  # 三事: 大事 / 小事 / 私事
    urgency: str  # default urgency: 一般 / 紧急 / 特急


@cache
def categories() -> dict[str, Category]:
    data = json.loads((Path(__file__).with_name("catalogue.json")).read_text(encoding="utf-8"))
    found: dict[str, Category] = {}

    def walk(nodes):
        for node in nodes:
            if node.get("children"):
                walk(node["children"])
            else:
                found[node["code"]] = Category(node["code"], node["name"], node["name_en"], node["class"],
                                               node["urgency"])

    walk(data["categories"])
    return found
