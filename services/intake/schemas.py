"""Request and response bodies of intake's API (with Chinese examples for the OpenAPI docs).

The catalogue document is here too: it is the body of PUT /catalogue and the shape of the
shipped data/catalogue.json (read by config.py).
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, WithJsonSchema

from shared.events.intake import CLOCK_PROFILE_MAX_LENGTH
from shared.fields import Flag, Meaningful, When
from shared.geo import CoordSystem

AppealType = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]
Channel = Literal["mini_program", "app", "web", "hotline", "letter", "walk_in", "grid_patrol", "gov_api",
                  "mailbox"]
Urgency = Literal["一般", "紧急", "特急"]
Satisfaction = Literal["满意", "基本满意", "不满意"]
# A number answer is finite: JSON's Infinity and NaN (which Python's parser accepts) are refused.
AnswerValue = str | int | Annotated[float, AllowInfNan(False)] | bool


# A point is only meaningful with its coordinate system: the same numbers in GCJ-02 and WGS-84 are
# about 360 m apart in Chengdu, enough to land in another grid. So the client says which it sent,
# and the docs say which WeChat call gives which (geo.point checks it and the service area).
COORD_SYSTEM = (
    "坐标系，提供 lat/lon 时必填（缺少时 422 case.coord_system_required）。"
    "gcj02：国测局坐标——小程序地图选点 wx.chooseLocation、<map> 组件、wx.getLocation({type: 'gcj02'})，"
    "以及高德、腾讯地图；wgs84：GPS 原始坐标——wx.getLocation 不指定 type 时的默认值、手机 GPS；"
    "bd09：百度地图。坐标系填错，位置会偏差数百米。"
    " The coordinate system of lat/lon, required with a point: gcj02 from wx.chooseLocation, the <map> "
    "component and wx.getLocation({type: 'gcj02'}) (also Amap, Tencent Maps); wgs84 from wx.getLocation's "
    "default type and GPS; bd09 from Baidu Maps.")
LAT = ("纬度，坐标系见 coord_system；须与 lon、coord_system 一起提供，且位于服务范围内"
       "（否则 422 case.outside_service_area）latitude, in coord_system")
LON = "经度，坐标系见 coord_system longitude, in coord_system"


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "category": "env.garbage",
        "appeal_type": "投诉",
        "description": "小区东门垃圾桶已经三天没有清运，气味很大，请尽快处理。",
        "lat": 30.625843,
        "lon": 104.054591,
        "coord_system": "gcj02",
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
    description: Meaningful = Field(min_length=1, max_length=4000, description="问题描述（最多 4000 字）")
    lat: float | None = Field(None, ge=-90, le=90, description=LAT)
    lon: float | None = Field(None, ge=-180, le=180, description=LON)
    coord_system: CoordSystem | None = Field(None, description=COORD_SYSTEM)
    address: str | None = Field(None, max_length=200, description="地址描述")
    channel: Channel = Field("mini_program", description="受理渠道")
    urgency: Urgency | None = Field(
        None, description="紧急程度。工作人员登记时即为该诉求的紧急程度；居民填写的是希望的紧急程度：高于系统判定"
                          "（类别默认值及关键词，如“燃气泄漏”为特急）时记为请求（requested_urgency），由工作人员"
                          "研判后调整，不直接改变办理时限。Staff set it; a resident's is a request staff decide on.")
    anonymous: Flag = Field(False, description="匿名反映（类别允许时）：办理方看不到反映人")
    confidential: Flag = Field(False, description="保密：办理人员只看到事项，看不到反映人")
    answers: dict[str, AnswerValue] = Field({}, description="类别的补充问题的回答 key → value")
    attachment_ids: list[str] = Field([], max_length=9, description="先上传的附件 id")
    praised_unit_code: str | None = Field(
        None, max_length=32,
        description="表扬的单位编码（仅诉求类型为表扬时可填，如办理过您诉求的单位；默认为 15 位数字）。表扬计入该单位"
                    "的记录；不填时按地点和类别确定单位 the code of the unit praised (表扬 only; 15 digits by "
                    "default): the praise goes to that unit's record, else to the unit the place and category give")
    caller_phone: str | None = Field(
        None, max_length=30, description="来电人、来信人或来访人的电话（工作人员代为登记时；热线必填）。"
                                         "诉求归属于这个号码：以它为已验证手机号的居民看到它为“代您登记”；"
                                         "本人不同意登记时不保存号码")
    consent: Flag | None = Field(None, description="本人是否同意登记其电话（填写 caller_phone 时必填）；"
                                                   "false 时不保存号码")
    answer: Meaningful | None = Field(None, max_length=2000, description="话务员当场答复的内容（咨询直接办结）")
    knowledge_id: str | None = Field(
        None, max_length=40, description="答复所依据的知识库条目 id（须为现行、未停用的条目，且须同时填写 answer）"
                                         "the knowledge base entry the answer comes from: an existing, current one")
    handling: Literal["dispatch", "self"] = Field(
        "dispatch", description="网格员巡查上报：self 自办自结，dispatch 派单")
    result: Meaningful | None = Field(None, max_length=2000, description="自办自结的处理结果")


class TimelineView(BaseModel):
    at: datetime = Field(description="时间 when it happened")
    kind: str = Field(description="类型 what happened, e.g. submitted, dispatched, supplemented")
    text: str = Field(description="说明 the text shown to this reader")
    public: bool = Field(True, description="居民可见；false 为仅工作人员可见的内部记录 internal note")


class AttachmentView(BaseModel):
    id: str = Field(description="附件 id attachment id")
    content_type: str = Field(description="文件类型 MIME type")
    size: int = Field(description="大小（字节）size in bytes")
    filename: str | None = Field(None, description="原文件名 original file name")
    has_thumbnail: bool = Field(False, description="是否有缩略图 whether a thumbnail exists")


class DuplicateView(BaseModel):
    id: str = Field(description="诉求 id case id")
    case_no: str = Field(description="诉求编号 case number")
    category: str = Field(description="类别编码 category code")
    status: str = Field(description="状态 status code")
    status_label: str = Field(description="状态名称 status as words")
    description: str = Field(description="问题描述（前 200 字）the first 200 characters of the description")
    distance_m: float | None = Field(description="距离（米）distance in metres")
    similarity: float = Field(description="文字相似度 0–1 text similarity")
    interest_count: int = Field(description="受影响人数 residents affected (the reporter and those who joined)")
    created_at: datetime = Field(description="提交时间 submitted at")


class Reporter(BaseModel):
    user_id: str | None = Field(None, description="反映人的用户 id，仅有权查看身份的角色可见")
    phone: str | None = Field(None, description="完整号码仅话务员和管理员可见，其他角色看到脱敏号码")
    name: str | None = Field(None, description="诉求人姓名（12345 平台工单带来的，本人同意登记时才保存）：有权查看"
                                               "身份的角色看到全名，其他办理人员和本人看到脱敏姓名（张**）the "
                                               "requester's name from the platform, full to the identity roles, masked "
                                               "to others")
    anonymous: bool = Field(False, description="匿名反映 anonymous report")


class ExternalOrder(BaseModel):
    """The other platform's order a case came from (the 12345 platform's import)."""

    source: str = Field(description="来源平台（12345 为市 12345 热线平台）the platform")
    order_no: str = Field(description="平台工单编号 the platform's order number")
    received_at: datetime | None = Field(None, description="平台受理时间，仅工作人员可见 when the platform received it")
    deadline: datetime | None = Field(
        None, description="平台的办理时限，仅工作人员可见；本平台的办理时限以派单服务的时限为准 the platform's "
                          "deadline (for staff; routing's clocks decide ours)")
    result_deadline: datetime | None = Field(
        None, description="本平台当前主办工单的办结时限（派单服务给出），仅工作人员可见 routing's result deadline")
    deadline_earlier: bool | None = Field(
        None, description="true：平台时限早于本平台的办结时限，请留意（仅工作人员可见；两者都有时才判断） the "
                          "platform's deadline is earlier than routing's: a warning for staff")


class CaseView(BaseModel):
    id: str = Field(description="诉求 id case id")
    case_no: str = Field(description="诉求编号（年-月-序号）case number")
    status: str = Field(description="状态 status code; a merged case shows its parent's")
    status_label: str = Field(description="状态名称 status as words")
    appeal_type: str = Field(description="诉求类型 咨询/求助/投诉/举报/建议/表扬")
    category: str = Field(description="类别编码 category code")
    category_name: str = Field(description="类别名称 category name")
    matter_class: str | None = Field(None, description="三事分类 大事/小事/私事")
    route: str = Field("dispatch", description="去向：dispatch 派单，mediation 人民调解，consultation 居民议事，"
                                               "direct 当场办结")
    description: str = Field(description="问题描述 description")
    urgency: str = Field(description="紧急程度 一般/紧急/特急")
    requested_urgency: str | None = Field(
        None, description="反映人希望的紧急程度，待工作人员研判（调整或维持紧急程度后清除）；仅反映人和工作人员可见 "
                          "the urgency the requester asked for, until staff decide")
    channel: str = Field(description="受理渠道 channel")
    lat: float | None = Field(description="纬度（WGS-84）latitude")
    lon: float | None = Field(description="经度（WGS-84）longitude")
    coord_system: str | None = Field(None, description="提交时的坐标系 coordinate system as given")
    orig_lat: float | None = Field(None, description="提交时的纬度 latitude as given")
    orig_lon: float | None = Field(None, description="提交时的经度 longitude as given")
    address: str | None = Field(description="地址描述，仅反映人和工作人员可见 address")
    unit_name: str | None = Field(description="办理单位 the unit handling it")
    confidential: bool = Field(False, description="保密诉求 confidential")
    answers: dict | None = Field(None, description="类别补充问题的回答，仅反映人和工作人员可见")
    interest_count: int = Field(1, description="受影响人数 residents affected")
    parent_case_no: str | None = Field(None, description="已合并时：所并入的诉求编号；状态和结果随之")
    outcome: str | None = Field(None, description="办理结果 outcome")
    result_text: str | None = Field(None, description="办理情况说明，或对建议、私事的答复 what the unit did, or its "
                                                      "answer to a suggestion or private matter")
    praised_unit_code: str | None = Field(None, description="表扬的单位编码 the code of the unit praised")
    external: ExternalOrder | None = Field(
        None, description="来自其他平台的工单（12345 平台导入）：工单编号对反映人和工作人员可见，时限仅工作人员可见 "
                          "the platform's order the case came from")
    reporter: Reporter | None = Field(None, description="反映人；保密或匿名诉求对办理人员不显示")
    relation: Literal["reporter", "filed_for_you", "follower", "staff"] | None = Field(
        None, description="当前用户与诉求的关系：reporter 本人反映；filed_for_you 工作人员以您已验证的手机号"
                          "代为登记（您可补充、评价、重启，撤回须经登记渠道）；follower 关注者；staff 工作人员")
    can: dict[str, bool] = Field({}, description="当前用户可执行的操作")
    created_at: datetime = Field(description="提交时间 submitted at")
    updated_at: datetime = Field(description="更新时间 last changed at")
    timeline: list[TimelineView] = Field([], description="进度 the timeline this reader may see")
    attachments: list[AttachmentView] = Field([], description="附件，仅反映人和工作人员可见")
    result_attachments: list[AttachmentView] = Field(
        [], description="办结照片（办理人员办结时上传），仅反映人和工作人员可见；下载同附件 "
                        "the handler's photos of the result, for the requester and staff; downloaded as attachments")
    possible_duplicates: list[DuplicateView] = Field([], description="提交时发现的疑似重复诉求，可改为“它也影响我”")


class CasePage(BaseModel):
    items: list[CaseView] = Field(description="本页诉求 the cases of this page")
    total: int = Field(description="总数 how many cases match")
    page: int = Field(description="页码 page number, from 1")
    page_size: int = Field(description="每页条数 page size")


class DuplicateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "category": "env.garbage", "description": "东门垃圾桶好几天没人清运", "lat": 30.625843, "lon": 104.054591,
        "coord_system": "gcj02"}]})
    category: str = Field(min_length=1, max_length=64, description="类别编码 category code")
    description: Meaningful = Field(min_length=1, max_length=4000, description="问题描述 description")
    lat: float = Field(ge=-90, le=90, description=LAT)
    lon: float = Field(ge=-180, le=180, description=LON)
    coord_system: CoordSystem | None = Field(None, description=COORD_SYSTEM)


# ---------------------------------------------------------------- the 12345 platform's work orders

# A platform's order number and category code: letters, digits and a few separators, so neither can carry
# anything but an identifier into a case, a log line or a work order.
ORDER_NO = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$"
PLATFORM_CODE = r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,31}$"


class HotlineOrder(BaseModel):
    """One work order of the 12345 platform, as it sends it (imports.py turns it into a case)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "order_no": "GD20261214000123", "channel": "电话", "received_at": "2026-11-28T09:12:00+08:00",
        "requester_name": "张三", "requester_phone": "13812345678", "consent": True, "confidential": False,
        "appeal_type": "投诉", "category_code": "010101", "address": "玉林北路 12 号东门",
        "lat": 30.6283, "lon": 104.052115, "coord_system": "wgs84",
        "description": "来电人反映小区东门垃圾桶三天没有清运，气味很大。", "urgency": "普通",
        "deadline": "2026-12-19T18:00:00+08:00"}]})

    order_no: str = Field(pattern=ORDER_NO, max_length=64,
                          description="平台工单编号（同一编号只建一件诉求）the order number")
    channel: str = Field(min_length=1, max_length=20, description="平台受理渠道：电话、网站、微信、APP 等 the "
                                                                 "platform's channel")
    received_at: When = Field(description="平台受理时间（带时区，2000—2100 年，不得晚于当前时间）when the platform "
                                          "received it: not later than now")
    requester_name: str | None = Field(None, min_length=1, max_length=50,
                                       description="诉求人姓名；本人同意登记（consent）时才保存，加密存储 the name")
    requester_phone: str | None = Field(None, min_length=3, max_length=30,
                                        description="诉求人电话（热线工单必填）；本人同意登记时才保存 the phone")
    consent: bool = Field(description="诉求人是否同意登记其姓名和电话（平台记录的同意，必填）；false 时两者都不保存 "
                                      "whether the requester consented to her name and phone being kept")
    confidential: bool = Field(False, description="保密：办理人员只看到事项，看不到诉求人 confidential")
    appeal_type: str = Field(min_length=1, max_length=20, description="平台的诉求类型（见配置 appeal_types，如 投诉、"
                                                                     "咨询）the platform's appeal type")
    category_code: str = Field(pattern=PLATFORM_CODE, max_length=32,
                               description="平台分类编码（见配置 categories；未配置的编码该行报错）the platform's "
                                           "category")
    address: str | None = Field(None, max_length=200, description="地址描述（加密存储）the address")
    lat: float | None = Field(None, ge=-90, le=90, description=LAT)
    lon: float | None = Field(None, ge=-180, le=180, description=LON)
    coord_system: CoordSystem | None = Field(None, description=COORD_SYSTEM)
    description: Meaningful = Field(min_length=1, max_length=4000,
                                    description="诉求内容（最多 4000 字）the description")
    urgency: str | None = Field(None, min_length=1, max_length=10,
                                description="平台的紧急程度（见配置 urgency，如 普通、紧急、特急）the platform's "
                                            "urgency")
    deadline: When | None = Field(
        None, description="平台的办理时限（带时区，2000—2100 年，不得早于受理时间）：保存并向工作人员显示，本平台的时限"
                          "仍由派单服务决定 the platform's deadline, not before received_at, shown to staff; routing's "
                          "clocks decide ours")


# The batch takes any JSON value as a row and checks each on its own (imports.py): one malformed row is that
# row's error, never the batch's. The document still shows what a row is.
OrderRow = Annotated[Any, WithJsonSchema(HotlineOrder.model_json_schema(ref_template="#/components/schemas/{model}"))]


class HotlineBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "orders": HotlineOrder.model_config["json_schema_extra"]["examples"]}]})
    orders: list[OrderRow] = Field(min_length=1, max_length=500, description="工单，每批最多 500 条（见配置 max_rows）"
                                                                           "the orders, at most 500")


class RowError(BaseModel):
    code: str = Field(description="稳定的错误代码 a stable code, e.g. hotline.category_unmapped")
    message: str = Field(description="中文说明（Accept-Language: en 时为英文）the message")
    field: str | None = Field(None, description="该行出错的字段 the row's field at fault")


class ImportedRow(BaseModel):
    index: int = Field(description="该行在 orders 中的位置（从 0 起）the row's position in orders")
    order_no: str | None = Field(None, description="平台工单编号（该行的编号不合法时为空）the order number")
    result: Literal["created", "already", "error"] = Field(
        description="created 已建诉求；already 此前已导入（返回当时建的诉求，未作任何改动）；error 未导入，见 error "
                    "created, already imported (nothing changed), or refused")
    case_id: str | None = Field(None, description="诉求 id case id")
    case_no: str | None = Field(None, description="诉求编号 case number")
    error: RowError | None = Field(None, description="未导入的原因 why the row was refused")


class ImportResult(BaseModel):
    source: str = Field(description="来源平台 the platform")
    total: int = Field(description="本批工单数 rows in the batch")
    created: int = Field(description="新建诉求数 cases created")
    already: int = Field(description="此前已导入的工单数 orders imported before")
    errors: int = Field(description="未导入的工单数 rows refused")
    rows: list[ImportedRow] = Field(description="逐行结果，顺序同 orders the result of each row, in order")


class ImportedOrderView(BaseModel):
    """What the importing key reads back of an order it imported: its case's progress, no person."""

    source: str = Field(description="来源平台 the platform")
    order_no: str = Field(description="平台工单编号 the order number")
    case_id: str = Field(description="诉求 id case id")
    case_no: str = Field(description="诉求编号 case number")
    status: str = Field(description="状态 status code")
    status_label: str = Field(description="状态名称 status as words")
    unit_name: str | None = Field(None, description="办理单位 the unit handling it")
    outcome: str | None = Field(None, description="办理结果 outcome")
    created_at: datetime = Field(description="导入时间 imported at")
    updated_at: datetime = Field(description="更新时间 last changed at")


class SupplementBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "text": "今天早上垃圾已经堆到路边了，补充两张照片。", "attachment_ids": []}]})
    text: Meaningful = Field(min_length=1, max_length=2000, description="补充说明")
    attachment_ids: list[str] = Field([], max_length=9, description="先上传的附件 id")


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "问题已自行解决"}]})
    reason: Meaningful | None = Field(None, max_length=500, description="原因")


class ReopenBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "reason_code": "not_solved", "reason": "垃圾桶只清了一次，第二天又满了"}]})
    reason_code: Literal["not_solved", "not_contacted", "bad_attitude", "other"] = Field(
        "not_solved", description="重启原因：未解决、未联系、态度差、其他")
    reason: Meaningful | None = Field(None, max_length=500, description="原因说明 reason in words")


class EvaluationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "contacted": True, "solved": True, "satisfaction": "满意", "comment": "处理很及时，谢谢网格员"}]})
    contacted: Flag = Field(description="办理单位是否联系过您")
    solved: Flag = Field(description="问题是否解决")
    satisfaction: Satisfaction = Field(description="满意程度")
    comment: Meaningful | None = Field(None, max_length=500, description="评价意见")


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"parent_case_id": "…"}]})
    parent_case_id: str = Field(min_length=1, max_length=36, description="并入的主诉求 id")


class UrgencyBody(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"urgency": "特急", "reason": "有老人被困"}]})
    urgency: Urgency = Field(description="紧急程度 一般/紧急/特急")
    reason: Meaningful | None = Field(None, max_length=200, description="调整原因 reason")


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"text": "来电人情绪激动，注意沟通方式"}]})
    text: Meaningful = Field(min_length=1, max_length=2000, description="备注内容（居民不可见）internal note")


class PhoneLookup(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "138 1234 5678"}]})
    phone: str = Field(min_length=3, max_length=30, description="来电号码")


class SuggestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "description": "楼下烧烤店油烟太大，窗户都不敢开"}]})
    description: Meaningful = Field(min_length=1, max_length=4000, description="问题描述 description")


class Suggestion(BaseModel):
    code: str = Field(description="类别编码 category code")
    name: str = Field(description="类别名称 category name")
    name_en: str = Field(description="英文名称 English name")
    score: float = Field(description="可能性 0–1 probability")


class SuggestView(BaseModel):
    suggestions: list[Suggestion] = Field(description="最可能的三个类别 the three most likely categories")
    urgency: str = Field(description="按类别和关键词建议的紧急程度")


# ---------------------------------------------------------------- the hotline's knowledge base

KNOWLEDGE_ID = r"^kb-[a-z0-9][a-z0-9-]{0,36}$"
Keyword = Annotated[Meaningful, Field(min_length=1, max_length=20)]


class KnowledgeContent(BaseModel):
    """What one version of a knowledge base entry says."""

    model_config = ConfigDict(extra="forbid")
    title: Meaningful = Field(min_length=1, max_length=60, description="标题 title")
    category: str = Field(min_length=1, max_length=64, description="类别编码（须在当前类别目录中）category code")
    keywords: list[Keyword] = Field([], max_length=20, description="关键词，检索时权重高于正文 keywords")
    answer: Meaningful = Field(min_length=1, max_length=2000, description="答复口径：话务员当场答复的内容 the answer")


class KnowledgeArticle(KnowledgeContent):
    """An entry of the shipped data/knowledge.json: version 1 of that entry."""

    id: str = Field(pattern=KNOWLEDGE_ID, max_length=40, description="条目 id entry id")


class KnowledgeDoc(BaseModel):
    """data/knowledge.json: the knowledge base as shipped (each entry's version 1)."""

    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(None, alias="_comment", description="说明 a note for whoever edits the file")
    articles: list[KnowledgeArticle] = Field(description="条目 the entries")


class KnowledgeCreate(KnowledgeContent):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "独生子女父母奖励", "category": "consult.policy", "keywords": ["独生子女", "奖励", "退休"],
        "answer": "符合条件的独生子女父母退休时，持身份证、独生子女父母光荣证到户籍所在社区申请，审核后一次性发放。",
        "note": "新增条目"}]})
    note: Meaningful | None = Field(None, max_length=200, description="本版说明 what changed and why")


class KnowledgeUpdate(KnowledgeCreate):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "base_version": 1, "title": "社保卡补办", "category": "consult.policy", "keywords": ["社保卡", "补办", "挂失"],
        "answer": "先拨打 12333 或在电子社保卡小程序挂失，再持身份证到任一社保卡服务网点补办。",
        "note": "合作银行网点不再补办"}]})
    base_version: int = Field(ge=1, le=1_000_000, description="编辑所基于的版本号；期间他人已修改则返回 409 "
                                                              "the version the edit started from")


class KnowledgeRetire(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "政策已废止"}]})
    reason: Meaningful | None = Field(None, max_length=200, description="停用原因 why")


class KnowledgeHit(BaseModel):
    id: str = Field(description="条目 id entry id")
    version: int = Field(description="现行版本号 current version")
    title: str = Field(description="标题 title")
    category: str = Field(description="类别编码 category code")
    answer: str = Field(description="答复口径 the answer")
    score: float = Field(description="匹配度 how well it matches the query")


class KnowledgeVersionInfo(BaseModel):
    version: int = Field(description="版本号 version")
    note: str | None = Field(None, description="本版说明 what changed")
    created_by: str | None = Field(None, description="编辑人 user id；随系统发布的第 1 版为空 who wrote it")
    created_at: datetime | None = Field(None, description="编辑时间 when")


class KnowledgeView(KnowledgeContent):
    id: str = Field(description="条目 id entry id")
    version: int = Field(description="版本号 version")
    current: bool = Field(True, description="是否为现行版本 whether this is the current version")
    retired: bool = Field(False, description="已停用：不再出现在检索中，也不能再被引用 retired")
    retired_at: datetime | None = Field(None, description="停用时间 retired at")


class KnowledgeEntryView(KnowledgeView):
    versions: list[KnowledgeVersionInfo] = Field([], description="全部版本，新的在前 every version, newest first")


# ---------------------------------------------------------------- the category catalogue

CODE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
MatterClass = Literal["大事", "小事", "私事"]
Route = Literal["dispatch", "mediation", "consultation"]


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="问题键 key of the answer")
    label: str = Field(min_length=1, max_length=60, description="问题 the question")
    label_en: str = Field(min_length=1, max_length=80, description="英文问题 the question in English")
    type: Literal["text", "number", "bool", "choice"] = Field(description="回答类型 answer type")
    required: bool = Field(False, description="必答 required")
    choices: list[str] | None = Field(None, description="选项（choice 类型必填）choices")


class DuplicateRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    radius_m: int = Field(ge=0, le=5000, description="重复诉求查找半径（米）")
    window_days: int = Field(ge=0, le=365, description="重复诉求查找时间窗（天）")


class Node(BaseModel):
    """A category; what it does not say it inherits from its parent (the root from `defaults`)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN, max_length=64, description="类别编码（不可删除）category code")
    name: str = Field(min_length=1, max_length=40, description="类别名称 name")
    name_en: str = Field(min_length=1, max_length=80, description="英文名称 English name")
    class_: MatterClass | None = Field(None, alias="class", description="三事分类 大事/小事/私事")
    urgency: Urgency | None = Field(None, description="默认紧急程度 default urgency")
    clock_profile: str | None = Field(None, max_length=CLOCK_PROFILE_MAX_LENGTH,
                                      description="办理时限方案，须为配置 clock_profiles 之一")
    route: Route | None = Field(None, description="去向：dispatch 派单，mediation 人民调解，"
                                                  "consultation 居民议事（小事）")
    dispute_type: str | None = Field(None, max_length=40, description="纠纷类型（转调解时）dispute type")
    anonymous_allowed: bool | None = Field(None, description="允许匿名反映 anonymous reports allowed")
    duplicate: DuplicateRule | None = Field(None, description="重复诉求查找规则 duplicate lookup")
    questions: list[Question] | None = Field(None, description="补充问题 extra questions")
    active: bool = Field(True, description="启用；停用的编码保留但不能再选 in use")
    children: list["Node"] = Field([], description="小类 sub-categories")


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    class_: MatterClass = Field("小事", alias="class", description="三事分类 大事/小事/私事")
    urgency: Urgency = Field("一般", description="默认紧急程度 default urgency")
    clock_profile: str = Field("general", max_length=CLOCK_PROFILE_MAX_LENGTH,
                               description="办理时限方案，须为配置 clock_profiles 之一")
    route: Route = Field("dispatch", description="去向 route")
    anonymous_allowed: bool = Field(True, description="允许匿名反映 anonymous reports allowed")
    duplicate: DuplicateRule = Field(DuplicateRule(radius_m=200, window_days=7),
                                     description="重复诉求查找规则 duplicate lookup")
    questions: list[Question] = Field([], description="补充问题 extra questions")


class CatalogueDoc(BaseModel):
    """The whole category tree, as published (PUT /catalogue) and as shipped (data/catalogue.json)."""

    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, description="版本号（发布时由系统编号）version")
    note: str | None = Field(None, max_length=200, description="版本说明 what changed")
    defaults: Defaults = Field(Defaults(), description="根的默认值 what the root categories inherit")
    categories: list[Node] = Field(min_length=1, description="类别树 the tree")

    def clock_profiles(self) -> Iterator[tuple[str, str]]:
        """(field path, clock profile) for every clock profile the document names."""
        yield "defaults.clock_profile", self.defaults.clock_profile

        def walk(nodes: list[Node], path: str) -> Iterator[tuple[str, str]]:
            for i, node in enumerate(nodes):
                if node.clock_profile is not None:
                    yield f"{path}.{i}.clock_profile", node.clock_profile
                yield from walk(node.children, f"{path}.{i}.children")

        yield from walk(self.categories, "categories")

    def codes(self) -> Iterator[str]:
        """Every category code of the tree."""
        def walk(nodes: list[Node]) -> Iterator[str]:
            for node in nodes:
                yield node.code
                yield from walk(node.children)

        yield from walk(self.categories)

    def unknown_clock_profiles(self, known: tuple[str, ...]) -> list[tuple[str, str]]:
        """Routing sets a case's time limits by its clock profile: a name it does not know has none."""
        return [(path, name) for path, name in self.clock_profiles() if name not in known]


# --------------------------------------------------------------------------- reports (报表)


class ReportCounts(BaseModel):
    received: int = Field(description="受理件数（合并的重复诉求只计主诉求）cases received")
    finished: int = Field(description="已结束 finished (closed, answered, withdrawn…)")
    resolved: int = Field(description="已办结 resolved by the unit")
    resolved_on_time: int = Field(description="按期办结 resolved before the result deadline")
    open: int = Field(description="仍在办理 still open")
    open_overdue: int = Field(description="超期未办结（现在）open past the result deadline now")
    reopened: int = Field(description="曾因不满意重启 reopened after an unsatisfied evaluation")
    self_resolved: int = Field(description="网格员自办自结 handled on the spot by the grid worker")
    interest: int = Field(description="关注人数（反映人及“它也影响我”）people waiting on these cases")
    evaluated: int = Field(description="已评价 evaluated by the requester")
    solved: int = Field(description="评价为已解决 rated solved")
    satisfied: int = Field(description="满意或基本满意 rated satisfied")


class ReportRates(BaseModel):
    completion: float | None = Field(description="办结率 % resolved / received；无数据为 null")
    on_time: float | None = Field(description="按期办结率 % on time / resolved")
    solved: float | None = Field(description="解决率 % solved / evaluated")
    satisfaction: float | None = Field(description="满意率 % satisfied / evaluated")


class SummaryRow(BaseModel):
    key: str | None = Field(description="分组键：街道或社区编码、类别、诉求类型、渠道或三事分类；null 为未定位 "
                                        "the group")
    counts: ReportCounts
    rates: ReportRates


class SummaryReport(BaseModel):
    period: str = Field(description="统计期 the period")
    group_by: str = Field(description="分组方式 grouped by")
    rows: list[SummaryRow] = Field(description="每组一行，按受理件数降序 one row per group")


class RepeatView(BaseModel):
    kind: Literal["place", "requester"] = Field(description="同一地点同类诉求 place，或同一反映人同类诉求 requester")
    category: str = Field(description="类别编码 category")
    count: int = Field(description="窗口内的次数 requests in the run")
    first_at: str = Field(description="首次受理时间 first")
    last_at: str = Field(description="最近受理时间 last")
    case_ids: list[str] = Field(description="诉求 id（按时间）the cases' ids")
    case_nos: list[str] = Field(description="诉求编号（按时间）；不含反映人信息 the case numbers, never the requester")


class UnresolvedView(BaseModel):
    case_id: str
    case_no: str = Field(description="诉求编号")
    category: str = Field(description="类别编码")
    status: str = Field(description="状态")
    status_label: str = Field(description="状态名称")
    urgency: str = Field(description="紧急程度")
    unit_name: str | None = Field(description="当前承办单位")
    created_at: str = Field(description="受理时间（当地时间）")
    age_days: int = Field(description="已过天数 days since received")
    interest_count: int = Field(description="关注人数 people waiting on it")
    reopen_count: int = Field(description="重启次数 times reopened")
    overdue: bool = Field(description="是否已超过办结时限 past its result deadline")
