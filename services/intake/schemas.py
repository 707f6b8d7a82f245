"""Request and response bodies of intake's API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AppealType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]
Channel = Literal["mini_program", "app", "web", "hotline", "letter", "walk_in", "grid_patrol", "gov_api",
                  "mailbox"]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "category": "env.garbage",
        "appeal_type": "投诉",
        "description": "小区东门垃圾桶已经三天没有清运，气味很大，请尽快处理。",
        "lat": 30.6283,
        "lon": 104.052115,
        "address": "玉林北路 12 号东门",
        "channel": "mini_program",
    }]})

    category: str = Field(min_length=1, max_length=64, description="类别编码 category code from the catalogue")
    appeal_type: AppealType = Field("投诉", description="诉求类型")
    description: str = Field(min_length=1, max_length=4000, description="问题描述")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度 WGS-84")
    lon: float | None = Field(None, ge=-180, le=180, description="经度 WGS-84")
    address: str | None = Field(None, max_length=200, description="地址描述")
    channel: Channel = Field("mini_program", description="受理渠道")


class TimelineView(BaseModel):
    at: datetime
    kind: str
    text: str


class CaseView(BaseModel):
    id: str
    case_no: str
    status: str
    status_label: str
    appeal_type: str
    category: str
    category_name: str
    description: str
    urgency: str
    channel: str
    lat: float | None
    lon: float | None
    address: str | None
    unit_name: str | None
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineView] = []


class CasePage(BaseModel):
    items: list[CaseView]
    total: int
    page: int
    page_size: int
