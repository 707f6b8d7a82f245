"""Request and response bodies of intake's API (with Chinese examples for the OpenAPI docs)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AppealType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]
Channel = Literal["mini_program", "app", "web", "hotline", "letter", "walk_in", "grid_patrol", "gov_api",
                  "mailbox"]
Urgency = Literal["一般", "紧急", "特急"]
CoordSystem = Literal["wgs84", "gcj02", "bd09"]
Satisfaction = Literal["满意", "基本满意", "不满意"]
AnswerValue = str | int | float | bool


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "category": "env.garbage",
        "appeal_type": "投诉",
        "description": "小区东门垃圾桶已经三天没有清运，气味很大，请尽快处理。",
        "lat": 30.6283,
        "lon": 104.052115,
        "coord_system": "wgs84",
        "address": "玉林北路 12 号东门",
        "channel": "mini_program",
    }, {
        "category": "utility.water",
        "appeal_type": "求助",
        "description": "来电人反映芳草街 8 号楼从早上开始停水，家中有卧床老人。",
        "channel": "hotline",
        "caller_phone": "13812345678",
        "consent": True,
        "confidential": True,
    }]})

    category: str = Field(min_length=1, max_length=64, description="类别编码 category code from the catalogue")
    appeal_type: AppealType = Field("投诉", description="诉求类型 咨询/求助/投诉/举报/建议/表扬")
    description: str = Field(min_length=1, max_length=4000, description="问题描述（最多 4000 字）")
    lat: float | None = Field(None, ge=-90, le=90, description="纬度，坐标系见 coord_system")
    lon: float | None = Field(None, ge=-180, le=180, description="经度，坐标系见 coord_system")
    coord_system: CoordSystem = Field("wgs84", description="坐标系：wgs84（GPS）、gcj02（微信/高德）、bd09（百度）")
    address: str | None = Field(None, max_length=200, description="地址描述")
    channel: Channel = Field("mini_program", description="受理渠道")
    urgency: Urgency | None = Field(
        None, description="希望的紧急程度；居民最高只能选“紧急”，“特急”由系统或工作人员判定")
    anonymous: bool = Field(False, description="匿名反映（类别允许时）：办理方看不到反映人")
    confidential: bool = Field(False, description="保密：办理人员只看到事项，看不到反映人")
    answers: dict[str, AnswerValue] = Field({}, description="类别的补充问题的回答 key → value")
    attachment_ids: list[str] = Field([], max_length=9, description="先上传的附件 id")
    caller_phone: str | None = Field(None, max_length=30, description="来电号码（话务员代录时）")
    caller_user_id: str | None = Field(None, max_length=64, description="来电人的用户 id（已注册居民）")
    consent: bool | None = Field(None, description="来电人是否同意登记其信息（热线必填）")
    answer: str | None = Field(None, max_length=2000, description="话务员当场答复的内容（咨询直接办结）")
    knowledge_id: str | None = Field(None, max_length=40, description="答复所依据的知识库条目")
    handling: Literal["dispatch", "self"] = Field(
        "dispatch", description="网格员巡查上报：self 自办自结，dispatch 派单")
    result: str | None = Field(None, max_length=2000, description="自办自结的处理结果")


class TimelineView(BaseModel):
    at: datetime
    kind: str
    text: str
    public: bool = True


class AttachmentView(BaseModel):
    id: str
    content_type: str
    size: int
    filename: str | None = None
    has_thumbnail: bool = False


class DuplicateView(BaseModel):
    id: str
    case_no: str
    category: str
    status: str
    status_label: str
    description: str
    distance_m: float | None
    similarity: float
    interest_count: int
    created_at: datetime


class Reporter(BaseModel):
    user_id: str | None = None
    phone: str | None = Field(None, description="完整号码仅话务员和管理员可见，其他角色看到脱敏号码")
    anonymous: bool = False


class CaseView(BaseModel):
    id: str
    case_no: str
    status: str
    status_label: str
    appeal_type: str
    category: str
    category_name: str
    matter_class: str | None = None
    route: str = "dispatch"
    description: str
    urgency: str
    channel: str
    lat: float | None
    lon: float | None
    coord_system: str | None = None
    orig_lat: float | None = None
    orig_lon: float | None = None
    address: str | None
    unit_name: str | None
    confidential: bool = False
    answers: dict | None = None
    interest_count: int = 1
    parent_case_no: str | None = Field(None, description="已合并时：所并入的诉求编号；状态和结果随之")
    outcome: str | None = None
    result_text: str | None = None
    reporter: Reporter | None = Field(None, description="反映人；保密或匿名诉求对办理人员不显示")
    relation: Literal["reporter", "follower", "staff"] | None = None
    can: dict[str, bool] = Field({}, description="当前用户可执行的操作")
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineView] = []
    attachments: list[AttachmentView] = []
    possible_duplicates: list[DuplicateView] = Field([], description="提交时发现的疑似重复诉求，可改为“它也影响我”")


class CasePage(BaseModel):
    items: list[CaseView]
    total: int
    page: int
    page_size: int


class DuplicateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "category": "env.garbage", "description": "东门垃圾桶好几天没人清运", "lat": 30.6283, "lon": 104.052115}]})
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    coord_system: CoordSystem = "wgs84"


class SupplementBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "text": "今天早上垃圾已经堆到路边了，补充两张照片。", "attachment_ids": []}]})
    text: str = Field(min_length=1, max_length=2000, description="补充说明")
    attachment_ids: list[str] = Field([], max_length=9)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "问题已自行解决"}]})
    reason: str | None = Field(None, max_length=500, description="原因")


class ReopenBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "reason_code": "not_solved", "reason": "垃圾桶只清了一次，第二天又满了"}]})
    reason_code: Literal["not_solved", "not_contacted", "bad_attitude", "other"] = "not_solved"
    reason: str | None = Field(None, max_length=500)


class EvaluationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "contacted": True, "solved": True, "satisfaction": "满意", "comment": "处理很及时，谢谢网格员"}]})
    contacted: bool = Field(description="办理单位是否联系过您")
    solved: bool = Field(description="问题是否解决")
    satisfaction: Satisfaction = Field(description="满意程度")
    comment: str | None = Field(None, max_length=500, description="评价意见")


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"parent_case_id": "…"}]})
    parent_case_id: str = Field(min_length=1, max_length=36, description="并入的主诉求 id")


class UrgencyBody(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"urgency": "特急", "reason": "有老人被困"}]})
    urgency: Urgency
    reason: str | None = Field(None, max_length=200)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"text": "来电人情绪激动，注意沟通方式"}]})
    text: str = Field(min_length=1, max_length=2000)


class PhoneLookup(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "138 1234 5678"}]})
    phone: str = Field(min_length=3, max_length=30, description="来电号码")


class SuggestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "description": "楼下烧烤店油烟太大，窗户都不敢开"}]})
    description: str = Field(min_length=1, max_length=4000)


class Suggestion(BaseModel):
    code: str
    name: str
    name_en: str
    score: float


class SuggestView(BaseModel):
    suggestions: list[Suggestion]
    urgency: str = Field(description="按类别和关键词建议的紧急程度")
