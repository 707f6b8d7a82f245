"""The responsibility list (职责清单): category × area → unit or unit type, plus the 三事 rule.

The list is data, versioned in `responsibility_versions`; `decide` says which unit must act
and records which rule matched and why, so every dispatch can be audited afterwards.
"""

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import settings
from .locator import Located, Locator
from .models import ResponsibilityVersion, Unit

MATTER_CLASSES = ("大事", "小事", "私事")


class InvalidList(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Decision:
    unit: Unit
    rule: str  # the human-readable reason, kept on the work order
    rule_id: str
    rule_version: int | None
    assists: list[Unit] = field(default_factory=list)
    guidance: bool = False


def default_document() -> dict:
    return json.loads((settings.config_dir() / "responsibility.json").read_text(encoding="utf-8"))


def validate(session: Session | None, doc: dict) -> list[str]:
    """Every problem of a list document (empty when it is usable)."""
    problems: list[str] = []
    rules = doc.get("rules")
    if not isinstance(rules, list):
        return ["rules: 必须是列表"]
    seen: set[str] = set()
    codes = set(session.scalars(select(Unit.code))) if session is not None else None
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if not isinstance(rule, dict):
            problems.append(f"{where}: 必须是对象")
            continue
        rid = rule.get("id")
        if not rid or not isinstance(rid, str):
            problems.append(f"{where}.id: 缺少规则编号")
        elif rid in seen:
            problems.append(f"{where}.id: 规则编号重复 {rid}")
        else:
            seen.add(rid)
        if not isinstance(rule.get("category"), str) or not rule["category"]:
            problems.append(f"{where}.category: 缺少类别（可用 * 或前缀 env.*）")
        targets = [k for k in ("unit_code", "unit_type", "level") if rule.get(k)]
        if len(targets) != 1:
            problems.append(f"{where}: unit_code、unit_type、level 必须且只能给一个")
        if rule.get("level") and rule["level"] not in settings.area_levels():
            problems.append(f"{where}.level: 未知层级 {rule['level']}")
        if codes is not None:
            if rule.get("unit_code") and rule["unit_code"] not in codes:
                problems.append(f"{where}.unit_code: 单位不存在 {rule['unit_code']}")
            area = rule.get("area", "*")
            if area not in ("*", None) and area not in codes:
                problems.append(f"{where}.area: 区域不存在 {area}")
        if not rule.get("reason"):
            problems.append(f"{where}.reason: 必须写明依据")
    for name, spec in (doc.get("matter_classes") or {}).items():
        if name not in MATTER_CLASSES:
            problems.append(f"matter_classes.{name}: 只能是 大事/小事/私事")
        elif spec.get("target") not in ("department", "area"):
            problems.append(f"matter_classes.{name}.target: 只能是 department 或 area")
    fallback = doc.get("fallback_unit_code")
    if fallback and codes is not None and fallback not in codes:
        problems.append(f"fallback_unit_code: 单位不存在 {fallback}")
    return problems


def active(session: Session) -> tuple[int | None, dict]:
    """The newest version in the database, or the shipped default before any is stored."""
    row = session.scalars(select(ResponsibilityVersion).order_by(ResponsibilityVersion.version.desc())
                          .limit(1)).first()
    if row is None:
        return None, default_document()
    return row.version, json.loads(row.document)


def _category_rank(pattern: str, category: str) -> int | None:
    """How specifically a rule's category matches: exact beats prefix beats '*'; None: no match."""
    if pattern == category:
        return 1000
    if pattern == "*":
        return 0
    if pattern.endswith(".*") and category.startswith(pattern[:-1]):
        return len(pattern)
    return None


class Resolver:
    def __init__(self, session: Session, located: list[Located], excluded: set[str]):
        self.session = session
        self.located = located  # finest first
        self.excluded = excluded

    def unit(self, unit_id: str) -> Unit | None:
        unit = self.session.get(Unit, unit_id)
        return unit if unit is not None and unit.id not in self.excluded else None

    def by_code(self, code: str) -> Unit | None:
        unit = self.session.scalars(select(Unit).where(Unit.code == code)).first()
        return unit if unit is not None and unit.id not in self.excluded else None

    def by_type(self, unit_type: str) -> Unit | None:
        units = [u for u in self.session.scalars(select(Unit).where(Unit.unit_type == unit_type)
                                                 .order_by(Unit.code)) if u.id not in self.excluded]
        chain = {loc.unit_id: rank for rank, loc in enumerate(self.located)}
        # A department under the area where the case is (e.g. a street's own office) beats a district one.
        units.sort(key=lambda u: (chain.get(u.parent_id, len(chain) + 1), u.code))
        return units[0] if units else None

    def at_level(self, level: str) -> Unit | None:
        for loc in self.located:
            if loc.level == level and loc.unit_id not in self.excluded:
                return self.unit(loc.unit_id)
        return None

    def finest(self) -> tuple[Located, Unit] | None:
        for loc in self.located:
            if loc.unit_id not in self.excluded:
                return loc, self.unit(loc.unit_id)
        return None

    def target(self, spec: dict) -> Unit | None:
        if spec.get("unit_code"):
            return self.by_code(spec["unit_code"])
        if spec.get("unit_type"):
            return self.by_type(spec["unit_type"])
        if spec.get("level"):
            return self.at_level(spec["level"])
        return None


def _named(unit: Unit) -> str:
    return f"{unit.name}（{unit.code}）"


def _area_text(loc: Located, unit: Unit) -> str:
    if loc.level == "grid":
        return f"属地派单：上报位置位于{_named(unit)}范围内"
    level = settings.level_names().get(loc.level, loc.level)
    return f"属地派单：上报位置不在任何网格内，由所在{level}{_named(unit)}承接"


def decide(session: Session, locator: Locator, *, category: str, matter_class: str | None,
           lat: float | None, lon: float | None, excluded: set[str] | None = None) -> Decision:
    version, doc = active(session)
    vtag = f"V{version}" if version is not None else "默认"
    located = locator.locate(lon, lat) if lat is not None and lon is not None else []
    res = Resolver(session, located, excluded or set())
    located_codes = {loc.code: depth for depth, loc in enumerate(reversed(located))}  # coarse 0 → fine

    # 1. The responsibility list: the most specific area, then the most specific category, wins.
    candidates = []
    for rule in doc.get("rules", []):
        rank = _category_rank(rule.get("category", ""), category)
        area = rule.get("area") or "*"
        if rank is None or (area != "*" and area not in located_codes):
            continue
        candidates.append((-(located_codes.get(area, -1)), -rank, rule["id"], rule))
    for *_, rule in sorted(candidates, key=lambda c: c[:3]):
        unit = res.target(rule)
        if unit is None:
            continue
        assists = [a for a in (res.target(spec) for spec in rule.get("assist", [])) if a and a.id != unit.id]
        text = f"职责清单{vtag}·规则{rule['id']}：{rule['reason']}；由{_named(unit)}办理"
        if assists:
            text += "，协办：" + "、".join(_named(a) for a in assists)
        return Decision(unit, text, f"rule:{rule['id']}", version, assists)

    # 2. The 三事 rule for the matter's class.
    spec = (doc.get("matter_classes") or {}).get(matter_class or "")
    if spec:
        prefix = f"三事分流（{matter_class}，清单{vtag}）：{spec.get('reason', '')}；"
        rid = f"matter:{matter_class}"
        if spec["target"] == "department":
            unit = res.at_level(spec.get("fallback_level", "street"))
            if unit is not None:
                return Decision(unit, prefix + f"清单未列明类别 {category} 的主管部门，由{_named(unit)}承接",
                                rid, version)
        else:
            unit = res.at_level(spec.get("level", "grid"))
            if unit is not None:
                loc = next(loc for loc in located if loc.unit_id == unit.id)
                return Decision(unit, prefix + _area_text(loc, unit), rid, version,
                                guidance=bool(spec.get("guidance")))
            found = res.finest()
            if found is not None:
                return Decision(found[1], prefix + _area_text(*found), rid, version,
                                guidance=bool(spec.get("guidance")))

    # 3. Where it is (属地): the finest unit whose area holds the point.
    found = res.finest()
    if found is not None:
        return Decision(found[1], _area_text(*found), "area", version)

    # 4. Nobody: the configured fallback owner (兜底), by default the root of the organisation.
    fallback = None
    if doc.get("fallback_unit_code"):
        fallback = session.scalars(select(Unit).where(Unit.code == doc["fallback_unit_code"])).first()
    if fallback is None:
        fallback = session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).first()
    if fallback is None:
        raise LookupError("the organisation directory is empty: nothing to dispatch to")
    if lat is None or lon is None:
        reason = "未提供位置"
    elif located:
        reason = "属地单位均已退单"
    else:
        reason = "上报位置不在辖区内"
    return Decision(fallback, f"兜底派单：{reason}，由{fallback.name}（{fallback.code}）兜底", "fallback", version)


def store(session: Session, doc: dict, *, created_by: str | None, note: str | None, now) -> int:
    problems = validate(session, doc)
    if problems:
        raise InvalidList(problems)
    current = session.scalar(select(ResponsibilityVersion.version).order_by(
        ResponsibilityVersion.version.desc()).limit(1)) or 0
    version = current + 1
    session.add(ResponsibilityVersion(version=version, document=json.dumps(doc, ensure_ascii=False),
                                      note=note, created_by=created_by, created_at=now))
    return version

