"""The Open311 endpoint's settings: data/open311.json beside this file, or a deployment's own copy of the
same name in CG_INTAKE_DATA_DIR. Read once per process and validated when intake's runtime is built
(services/intake/service.py → SPEC.config), so a broken file stops start-up."""

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared import config as shared_config

from .. import config as intake_config

SHIPPED = Path(__file__).resolve().parent / "data" / "open311.json"


class Open311Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    comment: str | None = Field(None, alias="_comment", description="说明 a note for whoever edits the file")
    jurisdiction_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$",
                                 description="辖区编号：客户端可带 jurisdiction_id，须与之相同 the jurisdiction served")
    contact: str = Field(min_length=1, max_length=500, description="服务发现中的联系方式 discovery's contact")
    key_service: str = Field(min_length=1, max_length=500, description="如何申请 API 密钥 how to get a key")
    changeset: AwareDatetime = Field(description="接口最近一次变更的时间 when the endpoint last changed")
    endpoint_url: str | None = Field(None, max_length=300, description="对外地址（反向代理之后）；空则取请求地址 "
                                                                       "the public URL; else the request's own")
    endpoint_type: Literal["production", "test"] | None = Field(
        None, description="服务发现中的类型；空则服务模式为 production、嵌入式为 test")
    page_size: int = Field(200, ge=1, le=1000, description="每次最多返回的诉求或进展条数（默认）the default page")
    max_page_size: int = Field(1000, ge=1, le=1000, description="page_size 参数的上限 the largest page")
    window_days: int = Field(90, ge=1, le=366, description="查询的默认和最大时间跨度（天）the date window")
    updates_default_hours: int = Field(24, ge=1, le=24 * 90, description="进展查询未给时间时的默认跨度（小时）")
    max_ids: int = Field(100, ge=1, le=1000, description="service_request_id 列表的上限 ids in one query")

    @model_validator(mode="after")
    def _pages(self) -> "Open311Config":
        if self.page_size > self.max_page_size:
            raise ValueError("page_size must not exceed max_page_size")
        return self


@cache
def get() -> Open311Config:
    own = intake_config.data_dir() / "open311.json"
    return Open311Config.model_validate(shared_config.read_json(own if own.is_file() else SHIPPED))
