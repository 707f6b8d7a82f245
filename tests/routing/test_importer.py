"""Directory import from GeoJSON and CSV: all rows valid or nothing imported, every bad row reported."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from services.routing import config
from services.routing.locator import Locator
from services.routing.models import Unit

ROOT = Path(__file__).resolve().parents[2]
SQUARE = "POLYGON((104.070 30.640, 104.072 30.640, 104.072 30.642, 104.070 30.642, 104.070 30.640))"
BOWTIE = "POLYGON((104.07 30.64, 104.072 30.642, 104.072 30.64, 104.07 30.642, 104.07 30.64))"


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "services.routing.importer", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def count(h) -> int:
    with h.rt.uow() as s:
        return s.scalar(select(func.count()).select_from(Unit))


def test_a_csv_with_bad_rows_reports_each_and_imports_nothing(h, tmp_path):
    before = count(h)
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,level,parent_code,households,wkt\n"
        "510107001003000,玉林西路社区,community,510107001000000,900,\n"  # fine
        "510107001003001,西路第一网格,grid,510107001003000,300," + f'"{SQUARE}"\n'  # fine
        "510107001003002,西路第二网格,grid,510107001003000,300," + f'"{BOWTIE}"\n'  # self-intersecting
        "510107001003003,西路第三网格,grid,510107009999000,300," + f'"{SQUARE}"\n'  # unknown parent
        "510107001003001,重复网格,grid,510107001003000,300," + f'"{SQUARE}"\n'  # duplicate code
        "510107001003004,无范围网格,grid,510107001003000,abc,\n",  # no polygon, bad households
        encoding="utf-8")
    out = run(str(path), "--db", str(h.rt.engine.url))
    assert out.returncode == 1
    assert "未导入任何数据" in out.stderr
    lines = [ln.strip() for ln in out.stderr.splitlines() if ln.strip().startswith("第")]
    assert [ln.split("：")[0] for ln in lines] == ["第4行 510107001003002", "第5行 510107001003003",
                                                   "第6行 510107001003001", "第7行 510107001003004"]
    assert "多边形无效" in lines[0] and "上级单位不存在" in lines[1] and "编码重复" in lines[2]
    assert "户数" in lines[3] and "网格必须有多边形范围" in lines[3]
    assert count(h) == before


def test_a_valid_geojson_imports_and_the_new_grid_is_located(h, tmp_path):
    path = tmp_path / "units.geojson"
    square = [[104.070, 30.640], [104.072, 30.640], [104.072, 30.642], [104.070, 30.642], [104.070, 30.640]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {
            "code": "510107001003000", "name": "玉林西路社区", "level": "community",
            "parent_code": "510107001000000", "households": 900}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]}, "properties": {
            "code": "510107001003001", "name": "西路第一网格", "level": "grid", "parent_code": "510107001003000",
            "households": 300}},
    ]}, ensure_ascii=False), encoding="utf-8")
    assert run(str(path), "--db", str(h.rt.engine.url), "--dry-run").returncode == 0
    out = run(str(path), "--db", str(h.rt.engine.url))
    assert out.returncode == 0, out.stderr
    assert "新增 2" in out.stdout
    with h.rt.uow() as s:
        grid = s.scalars(select(Unit).where(Unit.code == "510107001003001")).one()
        assert grid.depth == 3
        assert grid.path == "/510107000000000/510107001000000/510107001003000/510107001003001/"
        assert Locator.load(s).locate(104.071, 30.641)[0].code == "510107001003001"
    # A second run updates in place.
    assert "更新 2" in run(str(path), "--db", str(h.rt.engine.url)).stdout


def test_the_depth_is_configuration(h, tmp_path):
    """A city with a fifth level (sub-grids) adds it to levels.json; the importer follows."""
    cfg = tmp_path / "cfg"
    shutil.copytree(config.DEFAULT_DIR, cfg)
    levels = json.loads((cfg / "levels.json").read_text(encoding="utf-8"))
    levels["area_levels"].append({"level": "subgrid", "name": "微网格", "handler_role": "grid_worker"})
    (cfg / "levels.json").write_text(json.dumps(levels, ensure_ascii=False), encoding="utf-8")
    path = tmp_path / "sub.csv"
    sub = "POLYGON((104.0505 30.6270, 104.0510 30.6270, 104.0510 30.6275, 104.0505 30.6275, 104.0505 30.6270))"
    path.write_text(f'code,name,level,parent_code,households,wkt\n510107001001001001,第一微网格,subgrid,'
                    f'510107001001001,40,"{sub}"\n', encoding="utf-8")
    import os

    env = {**os.environ, "CG_ROUTING_DATA_DIR": str(cfg)}
    out = run(str(path), "--db", str(h.rt.engine.url), env=env)
    assert out.returncode == 0, out.stderr
    # Without the fifth level the same file is refused.
    again = run(str(path), "--db", str(h.rt.engine.url))
    assert again.returncode == 1 and "未知层级 subgrid" in again.stderr
