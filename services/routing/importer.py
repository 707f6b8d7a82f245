"""Bulk import of the organisation from GeoJSON or CSV, all or nothing.

    python -m services.routing.importer units.geojson
    python -m services.routing.importer units.csv --dry-run
    python -m services.routing.importer units.csv --db postgresql+psycopg://postgres@127.0.0.1:5432/cg_routing

Each feature (or CSV row) is a unit: code, name, level, parent_code, households, and for areas
a polygon (GeoJSON geometry; in CSV a `wkt` column or a `geometry` column holding GeoJSON).
Optional: name_en, kind, unit_type. Levels come from data/levels.json, so a city with more
grid levels adds them there. Every bad row is reported (invalid polygon, unknown parent,
duplicate code, wrong level, ...) and nothing is imported when any row is bad. Existing codes
are updated in place (their ids stay stable).
"""

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import shapely
import shapely.wkt
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from shared.config import get_settings
from shared.db import make_engine, session_factory, unit_of_work
from shared.ids import unit_id

from . import config, directory
from .models import Unit


@dataclass
class Report:
    total: int = 0
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_rows(path: Path, fmt: str | None = None) -> list[tuple[int, dict]]:
    """(row number, row) pairs; GeoJSON features are numbered from 1, CSV rows from 2 (after the header)."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "geojson")
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return [(i, dict(row)) for i, row in enumerate(csv.DictReader(f), start=2)]
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for i, feature in enumerate(doc.get("features", []), start=1):
        props = dict(feature.get("properties") or {})
        props["__geometry"] = feature.get("geometry")
        rows.append((i, props))
    return rows


def _geometry(row: dict) -> tuple[dict | None, str | None]:
    """(GeoJSON geometry, problem)."""
    try:
        if row.get("__geometry") is not None:
            geom = shape(row["__geometry"])
        elif (row.get("wkt") or "").strip():
            geom = shapely.wkt.loads(row["wkt"])
        elif (row.get("geometry") or "").strip():
            geom = shape(json.loads(row["geometry"]))
        else:
            return None, None
    except Exception:  # shapely and json raise many kinds for malformed input
        return None, "几何图形无法解析"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, f"几何图形必须是多边形，实际为 {geom.geom_type}"
    if geom.is_empty or not geom.is_valid:
        return None, f"多边形无效：{shapely.is_valid_reason(geom)}"
    return mapping(geom), None


def validate(session: Session, rows: list[tuple[int, dict]], progress: bool = False) -> tuple[list[dict], list[str]]:
    levels = config.get().levels
    areas, others = levels.areas, set(levels.units)
    pattern = re.compile(levels.code_pattern)
    existing = {u.code: u.level for u in session.scalars(select(Unit))}
    in_file: dict[str, str] = {}
    for _, row in rows:
        code = (row.get("code") or "").strip()
        if code and code not in in_file:
            in_file[code] = (row.get("level") or "").strip()
    seen: set[str] = set()
    clean, problems = [], []
    for n, row in tqdm(rows, desc="校验 validating", unit="行", disable=not progress):
        code = str(row.get("code") or "").strip()
        where = f"第{n}行 {code or '（无编码）'}"
        bad = []
        if not pattern.match(code):
            bad.append("编码缺失或格式不符")
        elif code in seen:
            bad.append("编码重复")
        seen.add(code)
        name = str(row.get("name") or "").strip()
        if not name or len(name) > 100:
            bad.append("名称缺失或超过100字")
        level = str(row.get("level") or "").strip()
        parent = str(row.get("parent_code") or "").strip() or None
        if level not in areas and level not in others:
            bad.append(f"未知层级 {level or '（空）'}")
        elif parent is None:
            if level != areas[0]:
                bad.append("缺少上级单位编码")
        else:
            parent_level = in_file.get(parent) or existing.get(parent)
            if parent_level is None:
                bad.append(f"上级单位不存在 {parent}")
            elif level in areas and areas.index(level) > 0 and parent_level != areas[areas.index(level) - 1]:
                bad.append(f"{level} 的上级应为 {areas[areas.index(level) - 1]}，实际为 {parent_level}")
            elif level in others and parent_level not in areas:
                bad.append("部门的上级必须是区域单位")
        try:
            households = int(row.get("households") or 0)
            if households < 0:
                raise ValueError
        except (TypeError, ValueError):
            bad.append("户数必须是非负整数")
            households = 0
        geometry, problem = _geometry(row)
        if problem:
            bad.append(problem)
        elif geometry is None and level == areas[-1]:
            bad.append("网格必须有多边形范围")
        if bad:
            problems.append(f"{where}：" + "；".join(bad))
            continue
        clean.append({"code": code, "name": name, "name_en": (row.get("name_en") or None), "level": level,
                      "parent_code": parent, "households": households, "kind": row.get("kind") or None,
                      "unit_type": row.get("unit_type") or None, "geometry": geometry})
    return clean, problems


def import_rows(session: Session, rows: list[tuple[int, dict]], progress: bool = False,
                dry_run: bool = False) -> Report:
    report = Report(total=len(rows))
    clean, report.problems = validate(session, rows, progress)
    if report.problems or dry_run:
        return report
    by_code = {u.code: u for u in session.scalars(select(Unit))}
    parents = {r["code"]: r["parent_code"] for r in clean}
    parents.update({c: None for c in by_code if c not in parents})
    codes_by_id = {u.id: u.code for u in by_code.values()}
    for u in by_code.values():
        if u.code not in {r["code"] for r in clean}:
            parents[u.code] = codes_by_id.get(u.parent_id)

    def chain(code: str) -> list[str]:
        out = []
        while code is not None and len(out) < 50:
            out.append(code)
            code = parents.get(code)
        return list(reversed(out))

    for r in tqdm(clean, desc="导入 importing", unit="行", disable=not progress):
        codes = chain(r["code"])
        values = dict(name=r["name"], name_en=r["name_en"], level=r["level"], kind=r["kind"],
                      unit_type=r["unit_type"], parent_id=unit_id(r["parent_code"]) if r["parent_code"] else None,
                      depth=len(codes) - 1, path="/" + "/".join(codes) + "/", households=r["households"],
                      geometry=json.dumps(r["geometry"]) if r["geometry"] else None)
        unit = by_code.get(r["code"])
        if unit is None:
            session.add(Unit(id=unit_id(r["code"]), code=r["code"], **values))
            report.created += 1
        else:
            for k, v in values.items():
                setattr(unit, k, v)
            if unit.parent_id and r["parent_code"] and by_code.get(r["parent_code"]):
                unit.parent_id = by_code[r["parent_code"]].id
            report.updated += 1
    directory.changed(session)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing.importer",
                                     description="导入组织架构与网格 import units from GeoJSON or CSV")
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=("geojson", "csv"))
    parser.add_argument("--db", help="database URL (default: routing's database from CG_* settings)")
    parser.add_argument("--dry-run", action="store_true", help="validate only")
    args = parser.parse_args(argv)
    engine = make_engine(args.db or get_settings().database_url("routing"))
    try:
        with unit_of_work(session_factory(engine)) as session:
            report = import_rows(session, read_rows(args.file, args.format), progress=True, dry_run=args.dry_run)
            if not report.ok:
                session.rollback()
    finally:
        engine.dispose()
    if not report.ok:
        sys.stderr.write(f"校验失败，未导入任何数据（{len(report.problems)} 行有误 / 共 {report.total} 行）：\n")
        for line in report.problems:
            sys.stderr.write(f"  {line}\n")
        return 1
    verb = "校验通过" if args.dry_run else f"已导入：新增 {report.created}，更新 {report.updated}"
    sys.stdout.write(f"{verb}（共 {report.total} 行）\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
