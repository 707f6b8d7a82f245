"""Self-governance's configuration: the files of data/ as typed models, read once and validated at start-up.

A deployment points CG_SELFGOV_DATA_DIR at its own copies (same file names, same shape); a file that does
not fit stops the process when its runtime is built (SPEC.config), not at the first proposal.
"""

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from shared import config as shared_config
from shared.messaging.topology import TOPOLOGY

DATA = Path(__file__).resolve().parent / "data"

Level = Literal["building", "community", "street"]
LEVELS: dict[str, tuple[str, str]] = {"building": ("楼栋议事", "Building"), "community": ("社区议事", "Community"),
                                      "street": ("街道议事", "Street")}
PeriodKind = Literal["month", "quarter", "half", "year"]


class Data(BaseModel):
    # An unknown key is a typo that would otherwise be silently ignored; "_comment" is for the people editing.
    model_config = ConfigDict(extra="forbid", frozen=True)
    comment: str | None = Field(None, alias="_comment")


class Seconding(Data):
    representative_share: float = Field(gt=0, le=1, description="附议门槛：居民代表的比例 share of representatives")
    households: PositiveInt = Field(description="附议门槛：户数 households")


class Stage(Data):
    code: str
    name: str
    name_en: str
    body: str = Field(description="与会者 who meets")
    # representatives: the roster's active representatives are the members (the quorum's base); given: the
    # committee says how many members the body has (两委委员, 党员 are not on the residents' roster).
    members_from: Literal["representatives", "given"]
    quorum_share: float = Field(gt=0, le=1, description="到会人数须达到应到人数的比例 quorum")
    majority_share: float = Field(ge=0.5, lt=1, description="赞成票须超过到会人数的比例 majority (strictly more)")


class CaseMatters(Data):
    routes: list[str] = Field(description="intake 的分流去向：这些去向的诉求转为议题"
                                          "（intake 目录决定哪些“小事”类别去居民议事）")

    @model_validator(mode="after")
    def _delivered(self) -> "CaseMatters":
        # The broker delivers selfgov the submitted cases of the routes its queue binds to (the topology's
        # one table): a route configured here but not bound there would never arrive, silently.
        for route in self.routes:
            if not any(q.service == "selfgov" for q in TOPOLOGY.route(f"intake.case.submitted.v1.app.{route}")):
                raise ValueError(f"route {route}: selfgov's queue is not bound to the cases of this route "
                                 "(shared/messaging/topology.py)")
        return self


class Consultation(Data):
    """data/consultation.json: seconding thresholds, the stages, notice, publication, which cases become matters."""

    seconding: Seconding
    supervising_body: str
    stages: list[Stage] = Field(min_length=1)
    notice_days_before: NonNegativeInt
    publication_days: PositiveInt
    case_matters: CaseMatters
    levels_by_category: dict[str, Level] = Field(default_factory=dict)
    default_level: Level = "community"

    @model_validator(mode="after")
    def _unique_stages(self) -> "Consultation":
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise ValueError("stage codes must be unique")
        return self

    def stage(self, index: int) -> Stage:
        return self.stages[index]

    def level_for(self, category: str) -> str:
        """The level a case's category is consulted at: the longest configured prefix, else the default."""
        found = [p for p in self.levels_by_category if category.startswith(p)]
        return self.levels_by_category[max(found, key=len)] if found else self.default_level


class Category(Data):
    code: str
    name: str
    name_en: str
    days: PositiveInt


class Notices(Data):
    categories: list[Category] = Field(min_length=1)
    resolution_category: str

    @model_validator(mode="after")
    def _known(self) -> "Notices":
        if self.resolution_category not in {c.code for c in self.categories}:
            raise ValueError("resolution_category names no category")
        return self

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


class Question(Data):
    code: str
    text: str
    text_en: str
    about: Literal["community", "grid"]
    weight: PositiveInt


class Rating(Data):
    period: PeriodKind
    scale_max: int = Field(ge=2, le=10)
    questions: list[Question] = Field(min_length=1)
    min_responses: PositiveInt = 1
    # Ratings are counted in batches of at least this many per community (or all of them once the period is
    # over), shuffled: a batch's answers cannot be told apart by order, transaction or day (ratings.release).
    release_batch: PositiveInt = 5

    @model_validator(mode="after")
    def _unique(self) -> "Rating":
        codes = [q.code for q in self.questions]
        if len(set(codes)) != len(codes):
            raise ValueError("question codes must be unique")
        return self


class Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    consultation: Consultation
    notices: Notices
    rating: Rating


def data_dir() -> Path:
    return shared_config.data_dir("selfgov", DATA)


def load(directory: Path) -> Config:
    def read(name: str):
        return shared_config.read_json(directory / name)

    return Config(consultation=read("consultation.json"), notices=read("notices.json"), rating=read("rating.json"))


@cache
def get() -> Config:
    """The configuration, read from the data folder on first use (SPEC.config: when a runtime is built)."""
    return load(data_dir())
