"""The grid service's configuration: the files of data/ as typed models, read once and validated at start-up.

A deployment points CG_GRID_DATA_DIR at its own copies (same names, same shape); a file that does not fit
stops the process when its runtime is built (SPEC.config), not at the first patrol.
"""

from datetime import time
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from shared import config as shared_config
from shared.geo import ServiceArea

DATA = Path(__file__).resolve().parent / "data"


class Data(BaseModel):
    # An unknown key is a typo that would otherwise be silently ignored; "_comment" is for the people editing.
    model_config = ConfigDict(extra="forbid", frozen=True)
    comment: str | None = Field(None, alias="_comment")


class PatrolRule(Data):
    """data/patrol.json: 一日双巡 and how the day is checked."""

    per_day: PositiveInt = Field(description="每个网格每天应完成的巡查次数 patrols per grid per day")
    per_grid: dict[str, PositiveInt] = Field(default_factory=dict, description="按网格代码另设的次数 overrides")
    min_minutes: int = Field(ge=0, description="一次巡查至少多少分钟才计入 the shortest patrol that counts")
    check_at: time = Field(description="每天几点（本地时间）检查是否达标 when the day is checked, local time")
    max_points_per_request: PositiveInt = 2000
    max_open_hours: PositiveInt = Field(12, description="巡查开始后多少小时内须结束 the longest patrol")
    scan_interval_seconds: PositiveFloat = 60
    service_area: ServiceArea

    def required(self, grid_code: str) -> int:
        return self.per_grid.get(grid_code, self.per_day)


class Category(Data):
    code: str
    name: str
    name_en: str
    list: Literal["special", "care"]
    department_type: str
    visit_every_days: PositiveInt | None = None


class Categories(Data):
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "Categories":
        codes = [c.code for c in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("category codes must be unique")
        return self


class Departments(Data):
    types: dict[str, str]


class RegisterRules(Data):
    import_max_bytes: PositiveInt
    import_max_rows: PositiveInt
    import_max_unpacked_bytes: PositiveInt
    help_category: str
    ledger_max_rows: PositiveInt


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    patrol: PatrolRule
    categories: Categories
    departments: Departments
    rules: RegisterRules

    def category(self, code: str | None) -> Category | None:
        return next((c for c in self.categories.categories if c.code == code), None)

    def categories_of_department(self, unit_codes: tuple[str, ...]) -> frozenset[str]:
        """The categories a department (any of its units) is responsible for."""
        types = {self.departments.types.get(code) for code in unit_codes} - {None}
        return frozenset(c.code for c in self.categories.categories if c.department_type in types)


def data_dir() -> Path:
    return shared_config.data_dir("grid", DATA)


def load(directory: Path) -> Config:
    read = shared_config.read_json
    return Config(patrol=read(directory / "patrol.json"), categories=read(directory / "categories.json"),
                  departments=read(directory / "departments.json"), rules=read(directory / "register.json"))


@cache
def get() -> Config:
    """The configuration, read from the data folder on first use (SPEC.config: when a runtime is built)."""
    return load(data_dir())
