"""Mediation's configuration: the files of data/ as typed models, read once and validated at start-up.

A deployment points CG_MEDIATION_DATA_DIR at its own copies (same file names, same shape); a file
that does not fit stops the process when its runtime is built (SPEC.config), not at the first case.
"""

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from shared import config as shared_config
from shared.geo import ServiceArea

DATA = Path(__file__).resolve().parent / "data"

# The routes left to the parties when mediation does not happen or fails: what 人民调解法 第二十六条 names
# ("告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利"; 第三条第三项 the same for every dispute).
# 信访 is not among them.
Route = Literal["仲裁", "行政", "司法"]
LAW_ROUTES: tuple[Route, ...] = ("仲裁", "行政", "司法")
Level = Literal["低", "中", "高", "极高"]
LEVELS: tuple[Level, ...] = ("低", "中", "高", "极高")


class Data(BaseModel):
    # An unknown key is a typo that would otherwise be silently ignored; "_comment" is for the people editing.
    model_config = ConfigDict(extra="forbid", frozen=True)
    comment: str | None = Field(None, alias="_comment")


class Procedure(Data):
    """data/procedure.json: the time limits of a mediation, its reminders, and what the parties are told."""

    term_days: PositiveInt = Field(description="调解期限（天），受理时起算 the term from acceptance")
    max_extension_days: PositiveInt = Field(description="一次延期最多几天 the longest extension")
    court_confirmation_days: PositiveInt = Field(description="司法确认申请期限（天）the court-confirmation window")
    court_reminder_days_before: NonNegativeInt = Field(description="司法确认期限届满前几天提醒 reminder lead")
    performance_followup_days_after_due: NonNegativeInt = Field(
        description="履行期限届满后几天回访（未约定期限的条款自协议生效起算）follow-up after a term's due date "
                    "(a term without one: after the agreement took effect)")
    performance_recheck_days: PositiveInt = Field(
        7, description="回访发现未履行或部分履行时，几天后再次回访（督促履行）"
                       "the next follow-up of a term not (fully) performed")
    scan_interval_seconds: PositiveFloat = Field(description="后台扫描间隔（秒）the clock scanner's interval")
    session_reminder_hours: PositiveFloat = Field(24, description="调解会议前几小时提醒 session reminder lead")
    default_routes: list[Route] = Field(min_length=1, description="调解不成时告知的其他途径 routes by default")
    routes_by_type: dict[str, list[Route]] = Field(default_factory=dict, description="按纠纷类型的其他途径")
    joint_meeting_roles: dict[str, str] = Field(description="“四位一体”联席会议必须到场的四方 code → 名称")
    police_liaison_unit_code: str = Field(description="民转刑预警通报的公安联络单位 the police liaison unit")
    retention_days: PositiveInt = Field(1095, description="案件结束多少天后匿名化当事人个人信息（卷宗本身保留）"
                                        "days after a dispute closed before its parties' personal data is removed")
    # The deployment's service area, the shared model (shared/geo.py) intake's policy.json holds too: a point
    # of an application outside it is refused (422 dispute.outside_service_area), never given to a committee
    # by a guess. The shipped one is the demo district's outline, the same as intake's.
    service_area: ServiceArea = Field(description="服务范围：纠纷发生地须在其中 where this deployment takes points")


class DisputeType(Data):
    code: str
    name: str
    name_en: str
    # A specialised committee's specialty that takes this type (物业, 劳资); None: the community committee.
    committee_specialty: str | None = None


class Indicator(Data):
    label: str
    label_en: str
    weight: int


class RiskRules(Data):
    """data/risk.json: indicator weights, the thresholds of each level, and when a warning is raised."""

    indicators: dict[str, Indicator]
    people_involved_thresholds: list[tuple[int, int]] = Field(description="[至少人数, 加分] at least, extra")
    levels: list[tuple[Level, int]] = Field(description="[等级, 最低分] level, lowest score")
    force_extreme: list[str] = Field(default_factory=list, description="任一即为极高 any of these is 极高")
    raise_at: list[Level] = Field(description="发出民转刑预警的等级 levels that raise a warning")

    @model_validator(mode="after")
    def _known_indicators(self) -> "RiskRules":
        unknown = set(self.force_extreme) - set(self.indicators)
        if unknown:
            raise ValueError(f"force_extreme names unknown indicators: {sorted(unknown)}")
        return self


class CommunityCommittee(Data):
    code: str
    name: str
    community_code: str
    supervisor_id: str | None = None  # 委员会主任: sees every dispute of the committee


class SpecialisedCommittee(Data):
    code: str
    name: str
    specialty: str
    types: list[str] = Field(default_factory=list)
    supervisor_id: str | None = None


class Committees(Data):
    """data/committees.json: a community committee per community, and the street's specialised ones."""

    street_code: str
    community: list[CommunityCommittee]
    specialised: list[SpecialisedCommittee] = Field(default_factory=list)


class MediatorEntry(Data):
    """One mediator of data/mediators.json; `id` is their user id."""

    id: str
    name: str
    kind: str
    committee: str  # the committee's code
    expertise: list[str] = Field(default_factory=list)
    area_code: str | None = None
    max_load: NonNegativeInt = 10
    active: bool = True


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    procedure: Procedure
    dispute_types: dict[str, DisputeType]
    risk: RiskRules
    committees: Committees
    mediators: list[MediatorEntry]

    @field_validator("dispute_types", mode="before")
    @classmethod
    def _by_code(cls, value):
        if isinstance(value, list):  # the file is a list; the service looks types up by code
            codes = [t.get("code") if isinstance(t, dict) else None for t in value]
            if len(set(codes)) != len(codes):
                raise ValueError("dispute type codes must be unique")
            return dict(zip(codes, value, strict=True))
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> "Config":
        unknown_types = set(self.procedure.routes_by_type) - set(self.dispute_types)
        if unknown_types:
            raise ValueError(f"procedure.routes_by_type names unknown dispute types: {sorted(unknown_types)}")
        codes = {c.code for c in self.committees.community} | {c.code for c in self.committees.specialised}
        orphans = {m.id for m in self.mediators if m.committee not in codes}
        if orphans:
            raise ValueError(f"mediators of no committee in committees.json: {sorted(orphans)}")
        return self

    def routes_for(self, dispute_type: str) -> list[str]:
        """The routes left to the parties when mediation does not happen or fails (仲裁, 行政, 司法: 第二十六条)."""
        return list(self.procedure.routes_by_type.get(dispute_type, self.procedure.default_routes))

    def type_name(self, code: str) -> str:
        """The type's Chinese name; a type since removed from the configuration keeps its code on old records."""
        known = self.dispute_types.get(code)
        return known.name if known else code


def data_dir() -> Path:
    return shared_config.data_dir("mediation", DATA)


def _read(directory: Path, name: str):
    return shared_config.read_json(directory / name)


def load(directory: Path) -> Config:
    return Config(procedure=_read(directory, "procedure.json"), dispute_types=_read(directory, "dispute_types.json"),
                  risk=_read(directory, "risk.json"), committees=_read(directory, "committees.json"),
                  mediators=_read(directory, "mediators.json"))


@cache
def get() -> Config:
    """The configuration, read from the data folder on first use (SPEC.config: when a runtime is built)."""
    return load(data_dir())
