"""The responsibility list (职责清单): category × area → unit or unit type, plus the 三事 rule.

The list is data, versioned in `responsibility_versions`; `decide` says which unit must act
and records which rule matched and why, so every dispatch can be audited afterwards.
"""

import json
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import ApiError

from . import config, directory
from .config import ResponsibilityList, Target
from .locator import Located, Locator
from .models import ResponsibilityVersion, Unit


@dataclass
class Decision:
    unit: Unit
    rule: str  # the human-readable reason, kept on the work order
    rule_id: str
    rule_version: int | None
    assists: list[Unit] = field(default_factory=list)
    guidance: bool = False


# What each part of the document must be, in the words the supervisor publishing it reads.
_SHAPE = {
    ("rules",): "必须是列表",
    ("rules", "*"): "必须是对象",
    ("rules", "*", "id"): "缺少规则编号",
    ("rules", "*", "category"): "缺少类别（可用 * 或前缀 env.*）",
    ("rules", "*", "reason"): "必须写明依据",
    ("matter_classes", "*", "[key]"): "只能是 大事/小事/私事",
    ("matter_classes", "*", "target"): "只能是 department 或 area",
}
# Problems are listed section by section, each rule's in this order of its fields.
_SECTIONS = ("rules", "matter_classes", "fallback_unit_code")
_FIELDS = ("", "id", "category", "targets", "level", "unit_code", "area", "reason")


def _where(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _order(loc: tuple) -> tuple:
    section = _SECTIONS.index(loc[0]) if loc and loc[0] in _SECTIONS else len(_SECTIONS)
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1
    name = loc[2] if len(loc) > 2 and isinstance(loc[2], str) else ""
    return section, index, _FIELDS.index(name) if name in _FIELDS else len(_FIELDS)


def _shape_problems(doc) -> list[tuple[tuple, str]]:
    try:
        ResponsibilityList.model_validate(doc)
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc[-1] == "[key]":  # a matter class that is not one of the three: named by itself
                loc, pattern = loc[:-1], ("matter_classes", "*", "[key]")
            else:
                pattern = tuple("*" if isinstance(p, int) or (i == 1 and loc[0] == "matter_classes") else p
                                for i, p in enumerate(loc))
            if err["type"] in ("string_too_long", "too_long"):
                found.append((loc, f"过长（最多 {err['ctx']['max_length']} 个字符）"))
            else:
                found.append((loc, _SHAPE.get(pattern) or f"格式不正确（{err['msg']}）"))
        return found
    return []


def _directory_problems(session: Session | None, doc: dict) -> list[tuple[tuple, str]]:
    """What the shape cannot say: duplicate ids, one target per rule, known levels, units that exist."""
    found = []
    rules = doc.get("rules")
    codes = set(session.scalars(select(Unit.code))) if session is not None else None
    areas = config.get().levels.areas
    seen: set[str] = set()
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        rid = rule.get("id")
        if isinstance(rid, str) and rid:
            if rid in seen:
                found.append((("rules", i, "id"), f"规则编号重复 {rid}"))
            seen.add(rid)
        if len([k for k in ("unit_code", "unit_type", "level") if rule.get(k)]) != 1:
            found.append((("rules", i, "targets"), "unit_code、unit_type、level 必须且只能给一个"))
        if rule.get("level") and rule["level"] not in areas:
            found.append((("rules", i, "level"), f"未知层级 {rule['level']}"))
        if codes is not None:
            if rule.get("unit_code") and rule["unit_code"] not in codes:
                found.append((("rules", i, "unit_code"), f"单位不存在 {rule['unit_code']}"))
            area = rule.get("area", "*")
            if area not in ("*", None) and area not in codes:
                found.append((("rules", i, "area"), f"区域不存在 {area}"))
    fallback = doc.get("fallback_unit_code")
    if fallback and codes is not None and fallback not in codes:
        found.append((("fallback_unit_code",), f"单位不存在 {fallback}"))
    return found


def problems(session: Session | None, doc: dict) -> list[str]:
    """Every problem of a list document, in Chinese (empty when it is usable); without a session,
    the units it names are not looked up."""
    if not isinstance(doc, dict):
        return ["document: 必须是对象"]
    found = _shape_problems(doc) + _directory_problems(session, doc)
    found.sort(key=lambda item: _order(item[0]))
    return [f"{_where(tuple(p for p in loc if p != 'targets'))}: {text}" for loc, text in found]


def publish(session: Session, doc: dict, *, created_by: str | None, note: str | None, now) -> int:
    """A new version of the list, in use from the next dispatch; nothing is saved when it has a problem."""
    found = problems(session, doc)
    if found:
        raise ApiError(422, "responsibility.invalid", field="document", detail="; ".join(found))
    current = session.scalar(select(ResponsibilityVersion.version).order_by(
        ResponsibilityVersion.version.desc()).limit(1)) or 0
    version = current + 1
    session.add(ResponsibilityVersion(version=version, document=json.dumps(doc, ensure_ascii=False),
                                      note=note, created_by=created_by, created_at=now))
    session.info.pop(_SESSION_KEY, None)  # this transaction dispatches with the new version from now on
    return version


def _newest(session: Session) -> ResponsibilityVersion | None:
    return session.scalars(select(ResponsibilityVersion).order_by(ResponsibilityVersion.version.desc())
                           .limit(1)).first()


def active(session: Session) -> tuple[int | None, dict]:
    """The newest version in the database as published, or the shipped default before any is stored."""
    row = _newest(session)
    if row is None:
        return None, config.default_document()
    return row.version, json.loads(row.document)


_SESSION_KEY = "routing.responsibility"
# Published versions never change: parsed once per database and version, in this process.
_versions: dict[tuple[str, int], ResponsibilityList] = {}


def _active_list(session: Session) -> tuple[int | None, ResponsibilityList]:
    """The list in use, found once per transaction (the newest version number, by its primary key);
    a version's document is read and parsed once per process, not for every case."""
    found = session.info.get(_SESSION_KEY)
    if found is not None:
        return found
    version = session.scalar(select(func.max(ResponsibilityVersion.version)))
    if version is None:
        found = None, config.get().responsibility
    else:
        key = (str(session.get_bind().url), version)
        doc = _versions.get(key)
        if doc is None:
            doc = ResponsibilityList.model_validate_json(session.scalar(
                select(ResponsibilityVersion.document).where(ResponsibilityVersion.version == version)))
            if len(_versions) >= 64:
                _versions.clear()
            _versions[key] = doc
        found = version, doc
    session.info[_SESSION_KEY] = found
    return found


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
        unit = directory.unit(self.session, unit_id)
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

    def target(self, spec: Target) -> Unit | None:
        if spec.unit_code:
            return self.by_code(spec.unit_code)
        if spec.unit_type:
            return self.by_type(spec.unit_type)
        if spec.level:
            return self.at_level(spec.level)
        return None


def _named(unit: Unit) -> str:
    return f"{unit.name}（{unit.code}）"


def _area_text(loc: Located, unit: Unit, located: list[Located], excluded: set[str]) -> str:
    if loc.level == "grid":
        return f"属地派单：上报位置位于{_named(unit)}范围内"
    levels = config.get().levels
    level = levels.name(loc.level)
    finer = located[:located.index(loc)]  # the areas inside this one holding the point
    returned = [f for f in finer if f.unit_id in excluded]
    if returned:  # the point is in a grid: that grid returned it, it is not outside every grid
        names = "、".join(f"{levels.name(f.level)}{f.name}（{f.code}）" for f in returned)
        return f"属地派单：{names}已退单，由所在{level}{_named(unit)}承接"
    if finer:
        return f"属地派单：上报位置位于{level}{_named(unit)}范围内"
    return f"属地派单：上报位置不在任何网格内，由所在{level}{_named(unit)}承接"


def decide(session: Session, locator: Locator, *, category: str, matter_class: str | None,
           lat: float | None, lon: float | None, excluded: set[str] | None = None,
           located: list[Located] | None = None) -> Decision | None:
    """Who must act on the case, skipping the units in `excluded` (those that returned it); None
    when every unit the rules could name returned it (a supervisor designates the owner).
    `located`: the units holding the point, when the caller located it already."""
    version, doc = _active_list(session)
    vtag = f"V{version}" if version is not None else "默认"
    if located is None:
        located = locator.locate(lon, lat) if lat is not None and lon is not None else []
    res = Resolver(session, located, excluded or set())
    located_codes = {loc.code: depth for depth, loc in enumerate(reversed(located))}  # coarse 0 → fine

    # 1. The responsibility list: the most specific area, then the most specific category, wins.
    candidates = []
    for rule in doc.rules:
        rank = _category_rank(rule.category, category)
        area = rule.area or "*"
        if rank is None or (area != "*" and area not in located_codes):
            continue
        candidates.append((-(located_codes.get(area, -1)), -rank, rule.id, rule))
    for *_, rule in sorted(candidates, key=lambda c: c[:3]):
        unit = res.target(rule)
        if unit is None:
            continue
        assists = [a for a in (res.target(spec) for spec in rule.assist) if a and a.id != unit.id]
        text = f"职责清单{vtag}·规则{rule.id}：{rule.reason}；由{_named(unit)}办理"
        if assists:
            text += "，协办：" + "、".join(_named(a) for a in assists)
        return Decision(unit, text, f"rule:{rule.id}", version, assists)

    # 2. The 三事 rule for the matter's class.
    spec = doc.matter_classes.get(matter_class or "")
    if spec:
        prefix = f"三事分流（{matter_class}，清单{vtag}）：{spec.reason}；"
        rid = f"matter:{matter_class}"
        if spec.target == "department":
            # The fallback level (the street, which may whistle), then each level above it up to the
            # one whose supervisors designate: a government matter returned by its departments goes
            # up, never down to a community or a grid (issue 12: 群租 ended with a grid worker).
            for level in _upward(spec.fallback_level):
                unit = res.at_level(level)
                if unit is not None:
                    if level == spec.fallback_level:
                        text = f"清单未列明类别 {category} 的主管部门，由{_named(unit)}承接"
                    else:
                        text = (f"主管部门及{config.get().levels.name(spec.fallback_level)}均已退单，"
                                f"由上级{_named(unit)}承接")
                    return Decision(unit, prefix + text, rid, version)
            return _fallback(session, doc, version, lat, lon, located, res.excluded)
        else:
            unit = res.at_level(spec.level)
            if unit is not None:
                loc = next(loc for loc in located if loc.unit_id == unit.id)
                return Decision(unit, prefix + _area_text(loc, unit, located, res.excluded), rid, version,
                                guidance=spec.guidance)
            found = res.finest()
            if found is not None:
                return Decision(found[1], prefix + _area_text(*found, located, res.excluded), rid, version,
                                guidance=spec.guidance)

    # 3. Where it is (属地): the finest unit whose area holds the point.
    found = res.finest()
    if found is not None:
        return Decision(found[1], _area_text(*found, located, res.excluded), "area", version)

    # 4. Nobody: the configured fallback owner (兜底), by default the root of the organisation.
    return _fallback(session, doc, version, lat, lon, located, res.excluded)


def _upward(level: str) -> list[str]:
    """`level`, then each coarser area level up to the designating level (both included)."""
    levels = config.get().levels
    areas = levels.areas
    if level not in areas:
        return [level]
    top = areas.index(levels.designating_level)
    here = areas.index(level)
    return [areas[i] for i in range(here, min(top, here) - 1, -1)]


def _fallback(session: Session, doc: ResponsibilityList, version: int | None, lat, lon, located: list[Located],
              excluded: set[str]) -> Decision | None:
    """The configured fallback owner (兜底), by default the root of the organisation; None when it
    returned the case already: nobody is left, a supervisor designates the owner."""
    fallback = None
    if doc.fallback_unit_code:
        fallback = session.scalars(select(Unit).where(Unit.code == doc.fallback_unit_code)).first()
    if fallback is None:
        fallback = session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).first()
    if fallback is None:
        raise LookupError("the organisation directory is empty: nothing to dispatch to")
    if fallback.id in excluded:
        return None
    if lat is None or lon is None:
        reason = "未提供位置"
    elif located:
        reason = "属地单位均已退单"
    else:
        reason = "上报位置不在辖区内"
    return Decision(fallback, f"兜底派单：{reason}，由{fallback.name}（{fallback.code}）兜底", "fallback", version)
