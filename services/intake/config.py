"""Intake's configuration: the rules in data/policy.json, the shipped category catalogue in
data/catalogue.json and the shipped knowledge base in data/knowledge.json, as pydantic models.

Read once per process and validated when a runtime is built (SPEC.config), so a broken file, or a
catalogue naming a clock profile routing has no time limits for, stops the process at start-up
rather than failing the first case. A deployment points CG_INTAKE_DATA_DIR at its own copies.
"""

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared import config as shared_config
from shared import geo as shared_geo
from shared.auth import ROLES
from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH

from .schemas import PLATFORM_CODE, AnswerValue, AppealType, CatalogueDoc, Channel, KnowledgeDoc, Urgency
from .status import STATUSES

DATA_DIR = Path(__file__).resolve().parent / "data"


def data_dir() -> Path:
    return shared_config.data_dir("intake", DATA_DIR)


def _known_roles(roles: frozenset[str]) -> frozenset[str]:
    unknown = sorted(roles - set(ROLES))
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    return roles


def _known_statuses(statuses: frozenset[str]) -> frozenset[str]:
    unknown = sorted(statuses - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown statuses: {', '.join(unknown)}")
    return statuses


class Section(BaseModel):
    # A misspelt key in a deployment's file is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)
    comment: str | None = Field(None, alias="_comment", description="说明 a note for whoever edits the file")


class EvaluationRules(Section):
    window_days: int = Field(gt=0, description="办结后回访评价的期限（天）")
    # The only answer: a unit is never credited with a silent "satisfied".
    on_timeout: Literal["not_evaluated"] = Field(description="期限内未评价时的记录方式")
    scan_interval_seconds: float = Field(gt=0, description="检查回访期限的间隔（秒）")


class DuplicateRules(Section):
    cell_degrees: float = Field(gt=0, description="重复诉求索引的网格大小（度）")
    min_similarity: float = Field(ge=0, le=1, description="文字相似度下限")
    max_candidates: int = Field(gt=0, description="每次比较的候选诉求上限")
    max_offers: int = Field(gt=0, description="提供给居民的疑似重复诉求上限")


# The types an upload may have, by the extension its file is stored under (attachments.py): what a deployment
# accepts is chosen among these.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


class AttachmentRules(Section):
    max_bytes: int = Field(gt=0, description="单个附件大小上限（字节）")
    max_per_case: int = Field(gt=0, description="每件诉求的附件数上限")
    image_types: dict[str, Literal["JPEG", "PNG", "WEBP"]] = Field(
        description="接受的图片类型 → 实际格式 content type → the format its bytes must be")
    document_types: dict[str, str] = Field(
        description="接受的文档类型 → 文件头 content type → the bytes it must start with")
    thumbnail_px: int = Field(gt=0, description="缩略图最长边（像素）")

    @field_validator("image_types", "document_types")
    @classmethod
    def _storable(cls, value: dict[str, str]) -> dict[str, str]:
        # Any other type would pass the upload's type check and then fail its storing with a 500.
        unknown = sorted(set(value) - set(EXTENSIONS))
        if unknown:
            raise ValueError(f"content types intake cannot store: {unknown}; it stores {sorted(EXTENSIONS)}")
        return value


class RetentionRules(Section):
    personal_data_days: int = Field(180, gt=0, le=36500,
                                    description="诉求结束多少天后去除个人信息（电话、地址、文字回答）")
    unattached_upload_hours: float = Field(24, gt=0, le=24 * 365,
                                           description="上传后未用于任何诉求的附件保留多少小时")
    scan_interval_seconds: float = Field(3600, gt=0, description="检查的间隔（秒）")
    batch: int = Field(200, gt=0, le=10000, description="每轮处理的上限")


class Visibility(Section):
    identity_roles: frozenset[str] = Field(description="可见反映人身份（用户 id）的角色")
    phone_roles: frozenset[str] = Field(description="可见完整电话号码、可按号码查询来电人的角色")
    confidential_identity_roles: frozenset[str] = Field(description="保密诉求中仍可见反映人的角色")

    check_roles = field_validator("identity_roles", "phone_roles", "confidential_identity_roles")(_known_roles)


# Where this deployment takes cases: the shared model (shared/geo.py), which mediation's configuration
# holds too, so a point is inside or outside for both services by the same rule.
ServiceArea = shared_geo.ServiceArea


class Policy(Section):
    """data/policy.json: every figure in it is a deployment's choice, not a constant."""

    channels_by_role: dict[str, frozenset[Channel]] = Field(description="各角色可使用的受理渠道")
    urgency_keywords: dict[Urgency, tuple[str, ...]] = Field(description="把紧急程度提高到该级别的关键词")
    reopen_window_days: int = Field(gt=0, description="办结后可重启的期限（天）")
    max_reopens: int = Field(ge=0, description="可重启次数上限")
    evaluation: EvaluationRules = Field(description="回访评价 the callback evaluation")
    duplicates: DuplicateRules = Field(description="重复诉求查找 the duplicate lookup")
    attachments: AttachmentRules = Field(description="附件 uploads")
    visibility: Visibility = Field(description="谁能看到反映人 who sees the reporter")
    retention: RetentionRules = Field(RetentionRules(), description="个人信息保存期限 how long personal data is kept")
    withdrawable_statuses: frozenset[str] = Field(description="可撤回的状态")
    reopenable_statuses: frozenset[str] = Field(description="可重启的状态")
    evaluable_statuses: frozenset[str] = Field(description="可回访评价的状态")
    catalogue_editor_roles: frozenset[str] = Field(description="可发布类别目录的角色")
    merge_roles: frozenset[str] = Field(description="可合并重复诉求的角色")
    knowledge_editor_roles: frozenset[str] = Field(description="可新增、修改、停用知识库条目的角色")
    service_area: ServiceArea = Field(description="服务范围 where this deployment takes cases")
    # The organisation's unit codes as a resident may name one (表扬 a unit): the demo's are 15 digits
    # (6 admin + 3 street + 3 community + 3 grid, as Beijing's unit grids). A deployment with other codes
    # sets its own pattern; routing's levels.json `code_pattern` is the outer bound of what it stores.
    unit_code_pattern: str = Field(r"^[0-9]{15}$", min_length=1, max_length=200,
                                   description="单位编码格式（正则）the pattern of a unit code a resident may name")
    # Routing's configuration maps each of these names to its time limits (see routing's config).
    # A case keeps its profile, and routing the one a case requests, in CLOCK_PROFILE_MAX_LENGTH characters.
    clock_profiles: tuple[Annotated[str, StringConstraints(min_length=1, max_length=CLOCK_PROFILE_MAX_LENGTH)],
                          ...] = Field(min_length=1, description="类别目录可使用的办理时限方案名称")

    check_roles = field_validator("catalogue_editor_roles", "merge_roles", "knowledge_editor_roles")(_known_roles)
    check_statuses = field_validator("withdrawable_statuses", "reopenable_statuses", "evaluable_statuses")(
        _known_statuses)

    @field_validator("unit_code_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        re.compile(value)  # a broken pattern stops start-up, not the first praise
        return value

    @field_validator("channels_by_role")
    @classmethod
    def _channel_roles(cls, value: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        _known_roles(frozenset(value))
        return value


class PlatformCategory(Section):
    """What one of the platform's category codes is in our catalogue."""

    name: str = Field(min_length=1, max_length=100, description="平台的分类名称（便于核对）the platform's label")
    category: str = Field(min_length=1, max_length=64, description="本平台的类别编码（启用的小类）our leaf category")
    # The platform's classification is sometimes finer than ours (夜间 / 白天 noise): what it already says
    # answers the category's questions, so its orders are not refused for a question nobody there asked.
    answers: dict[str, AnswerValue] = Field({}, description="该分类已说明的类别补充问题的回答 answers it implies")


class HotlineImport(Section):
    """data/hotline_import.json: the 12345 platform's work-order import (imports.py)."""

    source: str = Field(pattern=r"^[0-9A-Za-z_-]{1,20}$", description="来源名称，随诉求保存（如 12345）the source")
    name: str = Field(min_length=1, max_length=100, description="平台名称 the platform's name")
    max_rows: int = Field(500, ge=1, le=500, description="每批最多工单数 rows in one batch")
    urgency: dict[str, Urgency] = Field(description="平台的紧急程度 → 本平台的紧急程度")
    appeal_types: dict[str, AppealType] = Field(description="平台的诉求类型 → 本平台的诉求类型")
    categories: dict[str, PlatformCategory] = Field(min_length=1, description="平台分类编码 → 本平台类别")

    @field_validator("categories")
    @classmethod
    def _codes(cls, value: dict[str, PlatformCategory]) -> dict[str, PlatformCategory]:
        bad = sorted(code for code in value if not re.fullmatch(PLATFORM_CODE, code))
        if bad:
            raise ValueError(f"platform category codes must match {PLATFORM_CODE}: {bad}")
        return value


class Config(Policy):
    """The rules and the shipped catalogue, checked against each other."""

    catalogue: CatalogueDoc = Field(description="随版本发布的类别目录（版本 1）the shipped catalogue")
    knowledge: KnowledgeDoc = Field(description="随版本发布的知识库（各条目的第 1 版）the shipped knowledge base")
    hotline_import: HotlineImport = Field(description="12345 平台工单导入 the hotline platform's import")

    @model_validator(mode="after")
    def _catalogue_uses_known_clock_profiles(self) -> "Config":
        unknown = self.catalogue.unknown_clock_profiles(self.clock_profiles)
        if unknown:
            listed = ", ".join(f"catalogue.{path} = {name!r}" for path, name in unknown)
            raise ValueError(f"clock profiles not in clock_profiles {list(self.clock_profiles)}: {listed}")
        return self

    @model_validator(mode="after")
    def _knowledge_ids_unique_and_categories_known(self) -> "Config":
        seen, codes = set(), set(self.catalogue.codes())
        for i, article in enumerate(self.knowledge.articles):
            if article.id in seen:
                raise ValueError(f"knowledge.articles.{i}.id: {article.id!r} appears twice")
            if article.category not in codes:
                raise ValueError(f"knowledge.articles.{i}.category: {article.category!r} is not in the catalogue")
            seen.add(article.id)
        return self

    @model_validator(mode="after")
    def _platform_codes_map_to_categories_that_take_their_orders(self) -> "Config":
        """Every platform code names an active leaf of the shipped catalogue, and its answers are answers
        that category takes, its required questions included: a mapping that could only ever produce row
        errors stops start-up instead. (A category a later published version retires refuses the rows then,
        as case.category_inactive.)"""
        from shared.errors import ApiError  # here: catalogue.py and submission.py read this module

        from .catalogue import build
        from .submission import check_answers

        nodes = build(self.catalogue, 1).nodes
        for code, entry in self.hotline_import.categories.items():
            where = f"hotline_import.categories.{code}"
            node = nodes.get(entry.category)
            if node is None or not node.leaf or not node.active:
                raise ValueError(f"{where}.category: {entry.category!r} is not an active leaf of the catalogue")
            try:
                check_answers(node, dict(entry.answers))
            except ApiError as exc:
                raise ValueError(f"{where}.answers: {exc.code} ({exc.field})") from None
        return self


def _read(name: str) -> dict:
    return shared_config.read_json(data_dir() / name)


def _read_or_shipped(name: str) -> dict:
    """A file a deployment's folder may leave out (added after deployments had their folders): the shipped
    one then."""
    own = data_dir() / name
    return shared_config.read_json(own if own.is_file() else DATA_DIR / name)


@cache
def get() -> Config:
    return Config.model_validate({**_read("policy.json"), "catalogue": _read("catalogue.json"),
                                  "knowledge": _read("knowledge.json"),
                                  "hotline_import": _read_or_shipped("hotline_import.json")})
