"""Routing's configuration: the JSON files of data/ as typed models, read and validated once.

CG_ROUTING_DATA_DIR points at another folder holding the same files (a deployment's own).
`get()` is called when a runtime is built (ServiceSpec.config), so a broken file stops the
process at start-up instead of failing the first case that needs it.
"""

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared import config as shared_config
from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH, Urgency
from shared.fields import Meaningful

DEFAULT_DIR = Path(__file__).resolve().parent / "data"
MATTER_CLASSES = ("大事", "小事", "私事")
REASON_MAX_LENGTH = 500  # a rule's reason, as every reason a request body takes (schemas.py)
# resident_rating: 居民直评, the score residents gave the community or grid (selfgov.ratings.scored)
RATES = ("response", "resolution", "satisfaction", "completion", "on_time_completion", "whistle_report",
         "resident_rating")


def data_dir() -> Path:
    return shared_config.data_dir("routing", DEFAULT_DIR)


class Data(BaseModel):
    """A configuration file: unknown keys are refused (a typo must not pass silently), except the
    comments, written as keys starting with "_"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
        return value


# ----------------------------------------------------------------------------- clocks


class Duration(Data):
    """A span of time: whole working days on the official calendar, or wall-clock time."""

    working_days: float | None = Field(None, gt=0)
    days: float = Field(0, ge=0)
    hours: float = Field(0, ge=0)
    minutes: float = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> "Duration":
        wall = self.days or self.hours or self.minutes
        if (self.working_days is None) == (not wall):
            raise ValueError("give either working_days or days/hours/minutes")
        return self

    @property
    def in_working_time(self) -> bool:
        return self.working_days is not None

    @property
    def seconds(self) -> float:
        return self.days * 86400 + self.hours * 3600 + self.minutes * 60


class ExtensionCap(Data):
    """延期 per work order: approved extensions beyond `max_count` of them or `max_working_days` in
    all need the district level (an admin, or a supervisor of the root unit)."""

    max_count: int = Field(ge=0)
    max_working_days: int = Field(ge=0)


class Profile(Data):
    name: str
    # How strict the profile is, as the urgency it answers: the stricter of the urgency's and the
    # category's profile applies.
    urgency: str
    sign: Duration
    contact: Duration
    result: Duration


# A case may request any profile name routing knows, and its work orders keep the name they are timed by.
ProfileName = Annotated[str, StringConstraints(min_length=1, max_length=CLOCK_PROFILE_MAX_LENGTH)]


class Clocks(Data):
    version: int = 1
    note: str | None = None
    warn_ratio: float = Field(gt=0, lt=1)
    urgencies: list[str] = Field(min_length=1)  # least strict first; each names its own profile
    profiles: dict[ProfileName, Profile]
    # Profile names intake's catalogue sends → routing's profiles.
    requested_profiles: dict[ProfileName, str] = {}
    # Category code or prefix pattern ("utility.*") → profile, when intake requests none it knows.
    categories: dict[str, str] = {}
    return_window: Duration
    whistle_report: Duration
    max_dispatches: int = Field(ge=1)
    # How long the supervisors have to name an owner (指定) once the last allowed dispatch was
    # returned; past it the case is on the overdue list and `designation_overdue` is emitted.
    designation: Duration
    extensions: ExtensionCap
    # The one clock of the appeals that are not work to be scored (建议 answered, 私事 guided).
    answers: dict[Literal["suggestion", "guidance"], Duration]
    scan_interval_seconds: float = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> "Clocks":
        problems = []
        for urgency in get_args(Urgency):
            if urgency not in self.urgencies:
                problems.append(f"urgencies: {urgency} is missing")
        for urgency in self.urgencies:
            if urgency not in self.profiles or self.profiles[urgency].urgency != urgency:
                problems.append(f"urgencies: {urgency} needs a profile of that name and urgency")
        for name, profile in self.profiles.items():
            if profile.urgency not in self.urgencies:
                problems.append(f"profiles.{name}.urgency: {profile.urgency} is not one of urgencies")
        for where, mapping in (("requested_profiles", self.requested_profiles), ("categories", self.categories)):
            for key, profile in mapping.items():
                if profile not in self.profiles:
                    problems.append(f"{where}.{key}: no profile {profile}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def known_profile_names(self) -> frozenset[str]:
        """Every profile name a case may request (intake's catalogue names and routing's own)."""
        return frozenset(self.requested_profiles) | frozenset(self.profiles)

    def requested(self, name: str | None) -> str | None:
        """Routing's profile for a requested name; None for no name or a name nobody configured."""
        if not name:
            return None
        return name if name in self.profiles else self.requested_profiles.get(name)

    def for_category(self, category: str) -> str | None:
        """The category's profile from `categories`: the exact code, else the longest prefix pattern."""
        if category in self.categories:
            return self.categories[category]
        prefixes = [p for p in self.categories if p.endswith(".*") and category.startswith(p[:-1])]
        return self.categories[max(prefixes, key=len)] if prefixes else None

    def for_urgency(self, urgency: str) -> str:
        return urgency if urgency in self.urgencies else self.urgencies[0]

    def strictness(self, profile: str) -> int:
        return self.urgencies.index(self.profiles[profile].urgency)


# ----------------------------------------------------------------------------- the organisation


class Level(Data):
    level: str = Field(min_length=1)
    name: str
    handler_role: str  # who takes the work that lands on a unit of this level


class Levels(Data):
    version: int = 1
    note: str | None = None
    area_levels: list[Level] = Field(min_length=1)  # coarse to fine
    unit_levels: list[Level] = []
    code_pattern: str
    # The level whose supervisors designate (指定) an owner after the last allowed dispatch: a 大事
    # returned by its departments and its street goes up to it, never down to a community or grid.
    designating_level: str

    @field_validator("code_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value

    @model_validator(mode="after")
    def _unique(self) -> "Levels":
        names = [lv.level for lv in self.area_levels + self.unit_levels]
        if len(names) != len(set(names)):
            raise ValueError("a level is listed twice")
        if self.designating_level not in self.areas:
            raise ValueError(f"designating_level: {self.designating_level} is not one of area_levels")
        return self

    @property
    def areas(self) -> list[str]:
        return [lv.level for lv in self.area_levels]

    @property
    def units(self) -> list[str]:
        return [lv.level for lv in self.unit_levels]

    def _find(self, level: str) -> Level | None:
        return next((lv for lv in self.area_levels + self.unit_levels if lv.level == level), None)

    def handler_role(self, level: str) -> str | None:
        found = self._find(level)
        return found.handler_role if found else None

    def name(self, level: str) -> str:
        found = self._find(level)
        return found.name if found else level


class DemoUnitTypes(Data):
    note: str | None = None
    unit_types: dict[str, str]  # unit code → type, for the demo departments


# ----------------------------------------------------------------------------- scores, ledger, calendar


class Scoring(Data):
    version: int = 1
    note: str | None = None
    weights: dict[Literal[RATES], float]
    satisfied_values: list[str] = Field(min_length=1)
    # A unit with fewer scored (lead, counted) work orders in the period is listed but not ranked:
    # a rate over a handful of orders, or a composite from whistle reports alone, ranks nothing.
    min_scored_orders: int = Field(ge=0)


# The largest ledger export a deployment may configure: the bound the API documents for `limit`.
LEDGER_CEILING = 1_000_000


class Ledger(Data):
    note: str | None = None
    default_rows: int = Field(ge=1)
    max_rows: int = Field(ge=1, le=LEDGER_CEILING)

    @model_validator(mode="after")
    def _ordered(self) -> "Ledger":
        if self.default_rows > self.max_rows:
            raise ValueError("default_rows is above max_rows")
        return self


class Calendar(Data):
    holidays: list[date] = []
    workdays: list[date] = []
    uncovered_years: Literal["weekdays", "error"] = "weekdays"
    fixed_holidays: list[Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]] = []


# ----------------------------------------------------------------------------- the responsibility list

# The shape of a responsibility list document (data/responsibility.json, and each version published
# through the API). Extra keys are ignored as they always were; responsibility.problems() adds the
# checks that need the directory (units that exist, known levels) and names every problem in Chinese.

# Why a unit acts: quoted in the rule text of every work order the rule dispatches, on its timeline and
# in the ledger, so it says something and stays the length of a reason typed anywhere else.
Reason = Annotated[Meaningful, StringConstraints(max_length=REASON_MAX_LENGTH)]


class Target(BaseModel):
    """Who a rule sends the work to: one unit, a type of unit near the case, or the area's unit of a level."""

    model_config = ConfigDict(frozen=True)

    unit_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    unit_type: Annotated[str, StringConstraints(max_length=40)] | None = None
    level: Annotated[str, StringConstraints(max_length=20)] | None = None


class Rule(Target):
    # Work orders keep it as rule_id "rule:<id>" in 64 characters (models.WorkOrder.rule_id).
    id: Annotated[str, StringConstraints(min_length=1, max_length=48)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)]  # a code, a prefix ("env.*") or "*"
    area: Annotated[str, StringConstraints(max_length=32)] | None = "*"  # a unit code holding the case, or "*"
    reason: Reason
    assist: list[Target] = []


class MatterClass(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: Literal["department", "area"]
    level: str = "grid"  # target "area": the unit of this level where the case is
    fallback_level: str = "street"  # target "department" with no department in the rules
    guidance: bool = False  # 私事: the unit guides the requester rather than doing the work
    reason: Annotated[str, StringConstraints(max_length=REASON_MAX_LENGTH)] = ""


class ResponsibilityList(BaseModel):
    model_config = ConfigDict(frozen=True)

    rules: list[Rule]
    matter_classes: dict[Literal[MATTER_CLASSES], MatterClass] = {}
    fallback_unit_code: str | None = None


# ----------------------------------------------------------------------------- all of it


class RoutingConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    clocks: Clocks
    levels: Levels
    scoring: Scoring
    ledger: Ledger
    calendar: Calendar
    demo_unit_types: DemoUnitTypes
    responsibility: ResponsibilityList  # the shipped list, version 1 of a new deployment


def _read(directory: Path, name: str) -> Any:
    return shared_config.read_json(directory / f"{name}.json")


@lru_cache(maxsize=4)
def load(directory: Path) -> RoutingConfig:
    return RoutingConfig(**{name: _read(directory, name) for name in RoutingConfig.model_fields})


def get() -> RoutingConfig:
    """The configuration of the data folder in use, read once per folder."""
    return load(data_dir())


def default_document() -> dict:
    """The shipped responsibility list as written (stored verbatim as the first version)."""
    return _read(data_dir(), "responsibility")
