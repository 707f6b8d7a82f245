"""Request and response bodies of routing's API: what a client may send and what it reads, each field described."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.events.routing import Outcome
from shared.fields import Flag, Meaningful


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactBody(Strict):
    note: Meaningful | None = Field(None, max_length=500,
                             description="联系情况（不含个人信息）How the contact went, no personal data")


class ResolveBody(Strict):
    outcome: Outcome = Field(description="办理结果：解决到位/解释到位/帮扶到位/依法处理 The outcome code")
    result_text: Meaningful = Field(min_length=2, max_length=4000, description="办理情况说明 What was done")
    # Ids of uploads, not addresses: an address could point anywhere and the requester could never open it;
    # an upload is checked, stripped of EXIF/GPS, and shown to the case's requester by intake. Their form is
    # checked by workflow.photo_ids (422 workorder.photo_invalid naming the item), whose files by intake.
    photo_ids: list[Annotated[str, Field(max_length=45, json_schema_extra={"format": "uuid"})]] = Field(
        default=[], max_length=9,
        description="办结照片：先以本人账号上传到 POST /intake/v1/attachments，再填写返回的附件 id（最多 9 张）。"
                    "诉求服务将其作为该诉求的办结照片，反映人可查看；不是本人上传或已被使用的附件不会被采用 "
                    "result photos: upload each to POST /intake/v1/attachments yourself, then give the ids (at most "
                    "9); intake shows them to the requester. Ids of others' uploads, or of files already used, are "
                    "not taken")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "解决到位", "result_text": "已协调环卫公司清运，并增加清运频次。",
         "photo_ids": ["3f1c9a52-7d4e-4b8a-9f0e-2c6d1b7a5e10"]}]})


class AnswerBody(Strict):
    answer_text: Meaningful = Field(min_length=2, max_length=4000,
                             description="答复内容：对建议的答复，或对私事的引导 The answer to the suggestion, or the "
                                         "guidance given on a private matter")
    adopted: Flag | None = Field(None, description="建议是否采纳（仅建议类；私事引导不填）Whether the suggestion is "
                                                   "adopted (suggestions only; leave out for guidance)")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"answer_text": "感谢建议，已在小区增设分类垃圾桶。", "adopted": True}]})


class VerifyBody(Strict):
    passed: Flag = Field(description="核查是否通过，不通过则退回办理 Whether the result holds, else back to handling")
    note: Meaningful | None = Field(None, max_length=500, description="核查意见 The verifier's note")


class ReturnBody(Strict):
    reason: Meaningful = Field(min_length=2, max_length=500, description="退单理由 Why it is not this unit's")
    legal_basis: Meaningful = Field(min_length=2, max_length=500, description="法律/职责依据 The legal or listed basis")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "该路段属市政道路，不属本网格职责", "legal_basis": "《城市道路管理条例》第六条"}]})


class ExtensionBody(Strict):
    working_days: int = Field(strict=True, ge=1, le=30, description="申请延长的工作日数 Working days asked for")
    reason: Meaningful = Field(min_length=2, max_length=500, description="延期理由 Why more time is needed")


class DecisionBody(Strict):
    approve: Flag = Field(description="是否批准 Approve (true) or reject (false)")
    note: Meaningful | None = Field(None, max_length=500, description="审批意见 The supervisor's note")


class WhistleBody(Strict):
    department_codes: list[Annotated[str, Field(max_length=32)]] = Field(
        min_length=1, max_length=10, description="被吹哨的职能部门或公共服务企业编码 Codes of the departments called")
    note: Meaningful | None = Field(None, max_length=500, description="吹哨说明 What they are needed for")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"department_codes": ["510107900001000"], "note": "占道经营需执法部门到场"}]})


class NoteBody(Strict):
    note: Meaningful = Field(min_length=2, max_length=500,
                             description="督办意见 The supervision note, sent to the handler")


class ReasonBody(Strict):
    reason: Meaningful = Field(min_length=2, max_length=500, description="不计入考核的原因 Why it is not scored")


class UnitBody(Strict):
    unit_code: str = Field(min_length=1, max_length=32, description="承办单位编码 The code of the unit that takes it")
    reason: Meaningful = Field(min_length=2, max_length=500, description="改派或指定的理由 Why this unit")


class DutyBody(Strict):
    on_duty: Flag = Field(description="是否在岗（在岗才会分到新工单）On duty: only staff on duty get new work")


class ListBody(Strict):
    document: dict = Field(description="职责清单文档（rules、matter_classes、fallback_unit_code）The list document")
    note: Meaningful | None = Field(None, max_length=500, description="版本说明 What changed in this version")


# --------------------------------------------------------------------------- scores (考核)


class ScoreCounts(BaseModel):
    dispatched: int = Field(description="计分工单数（主办、未撤销/退回/改派、未剔除）scored orders")
    responded: int = Field(description="签收和首次联系均按时 signed and contacted in time")
    response_decided: int = Field(description="响应是否按时已有结论的工单（响应率的分母；时限未到的不计）"
                                              "orders whose response is decided: the response rate's denominator")
    evaluated: int = Field(description="已回访评价 evaluated")
    solved: int = Field(description="评价为已解决 rated solved")
    satisfied: int = Field(description="满意或基本满意 rated satisfied")
    completed: int = Field(description="已办结 resolved")
    on_time: int = Field(description="按期办结 resolved in time")
    contact_denied: int = Field(description="诉求人回访称无人联系 the requester said nobody contacted her")
    whistle_calls: int = Field(description="吹哨被召次数（部门）whistle calls")
    whistle_on_time: int = Field(description="按时报到次数 reported in time")
    rating_responses: int = Field(description="居民直评的答卷数（本统计期）residents' ratings counted")


class ScoreRecord(BaseModel):
    praise: int = Field(description="收到表扬 praise received")
    suggestions: int = Field(description="建议 suggestions")
    suggestions_answered: int = Field(description="已答复的建议 answered")
    suggestions_adopted: int = Field(description="采纳的建议 adopted")
    adoption_rate: float | None = Field(description="采纳率 % adopted / answered；无数据为 null")


class ScoreRates(BaseModel):
    response: float | None = Field(description="响应率 %")
    resolution: float | None = Field(description="解决率 %")
    satisfaction: float | None = Field(description="满意率 %")
    completion: float | None = Field(description="办结率 %")
    on_time_completion: float | None = Field(description="按期办结率 %")
    whistle_report: float | None = Field(description="报到及时率 %（部门）")
    resident_rating: float | None = Field(description="居民直评得分 0–100（社区、网格及其街道）residents' rating")


class GridWork(BaseModel):
    patrols: int = Field(description="巡查次数 patrols")
    patrols_counted: int = Field(description="计入一日双巡的巡查 patrols that count towards the daily rule")
    distance_km: float = Field(description="巡查里程（公里）distance")
    findings: int = Field(description="巡查发现并上报的诉求 findings")
    self_resolved: int = Field(description="自办自结 settled on the spot")


class ScoreRow(BaseModel):
    key: str | None = Field(description="分组键：单位 id 或类别编码 the group's key")
    code: str | None = Field(description="单位编码或类别编码 the unit's or category's code")
    name: str = Field(description="名称 the name")
    counts: ScoreCounts
    record: ScoreRecord = Field(description="记录在案、不计入综合得分 counted beside the rates, never in the composite")
    grid_work: GridWork | None = Field(description="网格工作量（网格、社区、街道；部门为 null），不计入综合得分 "
                                                   "the grid's work, never in the composite")
    rates: ScoreRates = Field(description="各项比率；分母为 0 时为 null the rates, null without data")
    composite: float | None = Field(description="综合得分（按 scoring.json 权重，null 的比率不计权重）the composite")
    rank: int | None = Field(None, description="排名（仅排名接口；未达最少计分工单数为 null）the rank")
    ranked: bool | None = Field(None, description="是否参与排名（仅排名接口）whether ranked")


class ScoresView(BaseModel):
    period: str = Field(description="统计期 the period")
    group_by: str = Field(description="分组方式 grouped by")
    rows: list[ScoreRow]


class RankingView(BaseModel):
    period: str = Field(description="统计期 the period")
    level: str = Field(description="排名层级：街道或部门 the level ranked")
    min_scored_orders: int = Field(description="参与排名的最少计分工单数 the fewest scored orders a ranked unit has")
    rows: list[ScoreRow]


# --------------------------------------------------------------------------- work orders (工单)

STATUS = ("工单状态 the status: dispatched 待签收 / signed 已签收 / in_progress 办理中 / resolved 已办结 / "
          "verified 已核查 / closed 已结案 / returned 已退单 / reassigned 已改派 / cancelled 已撤销")


class OrderSummary(BaseModel):
    id: str = Field(description="工单编号 the work order's id")
    case_id: str = Field(description="诉求编号 the case's id")
    case_no: str = Field(description="诉求受理号 the case's number")
    external_no: str | None = Field(description="12345 平台工单编号（平台转来的诉求）the platform's order number")
    status: str = Field(description=STATUS)
    category: str = Field(description="诉求类别编码 the category's code")
    urgency: str = Field(description="紧急程度 the urgency")
    unit_name: str = Field(description="承办单位名称 the unit handling it")
    rule: str = Field(description="派单依据 why this unit (the responsibility rule)")
    role: str = Field(description="lead 主办 / assist 协办 leading or assisting")
    sign_deadline: datetime | None = Field(description="签收时限 when it must be signed for")
    result_deadline: datetime | None = Field(description="办结时限 when the result is due")
    created_at: datetime = Field(description="派单时间 when it was dispatched")
    whistled: bool = Field(description="因本单位被吹哨而列出，尚待报到 listed because one of my units was "
                                       "whistled for it and must still report")


class MyWorkOrders(BaseModel):
    items: list[OrderSummary] = Field(description="本页工单：未办结的在前，各按派单时间从新到旧 this page: open "
                                                  "orders first, each newest first")
    total: int = Field(description="符合条件的工单总数 how many orders match")
    page: int = Field(description="页码 page number, from 1")
    page_size: int = Field(description="每页条数 page size")


class OrderDeadlines(BaseModel):
    sign: datetime | None = Field(description="签收时限 when it must be signed for")
    contact: datetime | None = Field(description="首次联系时限 when the requester must first be contacted")
    result: datetime | None = Field(description="办结时限（延期批准后为新时限）when the result is due")
    # Named `return` in the answer: a Python keyword, hence the alias.
    return_: datetime | None = Field(alias="return", description="退单时限：此前可退单 until when it may be returned")


class OrderLate(BaseModel):
    sign: bool | None = Field(description="签收是否超时；尚未签收为 null signed late")
    contact: bool | None = Field(description="首次联系是否超时；尚未联系为 null contacted late")
    result: bool | None = Field(description="办结是否超时；尚未办结为 null resolved late")


class OrderEvaluation(BaseModel):
    evaluated: bool | None = Field(description="反映人是否已评价（回访）；尚无结果为 null whether the requester "
                                               "answered the callback")
    solved: bool | None = Field(description="反映人认为是否解决 solved, in the requester's words")
    satisfaction: str | None = Field(description="满意度：满意 / 基本满意 / 不满意 the requester's satisfaction")
    contact_denied: bool | None = Field(description="反映人称无人联系过她（计入响应率）the requester said nobody "
                                                    "contacted her (counts against the response rate)")


class TimelineItem(BaseModel):
    seq: int = Field(description="诉求的事件序号 the case's event counter at this change")
    kind: str = Field(description="事件类型，如 dispatched 派单、signed 签收、contacted 联系、resolved 办结、"
                                  "returned 退单、reassigned 改派、extended 延期、escalated 吹哨、reported 报到、"
                                  "closed 结案、evaluated 评价 what happened")
    status: str = Field(description="此后的工单状态 the order's status after it (" + STATUS + ")")
    actor_id: str | None = Field(description="操作人；系统操作或保密诉求的反映人为 null who acted")
    at: datetime = Field(description="发生时间 when")
    detail: dict[str, Any] | None = Field(description="详情，随事件类型而定（如派单依据、退单理由和法律依据、"
                                                      "延期天数；电话和身份证号码对无需知悉者已脱敏）what it said, "
                                                      "by kind")


class OrderClock(BaseModel):
    kind: str = Field(description="时限：sign 签收 / contact 首次联系 / result 办结（建议、私事只有答复时限）/ "
                                  "designate 待指定 / report 报到（吹哨）which clock")
    started_at: datetime = Field(description="起算时间 when it started")
    warn_at: datetime = Field(description="预警时间 when it warns")
    deadline: datetime = Field(description="时限 when it is due")
    working_time: bool = Field(description="是否按工作日计算 counted in working time")
    warned: bool = Field(description="是否已预警 warned")
    overdue: bool = Field(description="是否已超时 overdue")
    stopped_at: datetime | None = Field(description="停止计时时间（完成或撤销）when it stopped")


class OrderWhistle(BaseModel):
    id: int = Field(description="吹哨编号 the whistle's id")
    department_unit_id: str = Field(description="被吹哨部门 id the department's unit id")
    department_code: str = Field(description="被吹哨部门编码 the department's code")
    department_name: str = Field(description="被吹哨部门名称 the department's name")
    called_at: datetime = Field(description="吹哨时间 when it was whistled for")
    deadline: datetime = Field(description="报到时限 when it must report")
    reported_at: datetime | None = Field(description="报到时间；尚未报到为 null when it reported")
    late: bool | None = Field(description="报到是否超时；尚未报到为 null reported late")


class OrderExtension(BaseModel):
    id: int = Field(description="延期申请编号 the request's id")
    working_days: int = Field(description="申请延长的工作日数 working days asked for")
    reason: str = Field(description="延期理由（电话和身份证号码对无需知悉者已脱敏）why")
    status: str = Field(description="审批状态：pending 待审批 / approved 已批准 / rejected 已驳回 the decision")
    requested_by: str = Field(description="申请人 who asked")
    decided_by: str | None = Field(description="审批人；待审批为 null who decided")
    new_deadline: datetime | None = Field(description="批准后的办结时限 the result deadline once approved")


class WorkOrderView(BaseModel):
    """A work order as its reader may see it: the answer of every step taken on it."""

    id: str = Field(description="工单编号 the work order's id")
    case_id: str = Field(description="诉求编号 the case's id")
    case_no: str = Field(description="诉求受理号 the case's number")
    external_no: str | None = Field(description="政务服务便民热线（12345）平台的工单编号（平台转来的诉求）the "
                                                "platform's order number")
    status: str = Field(description=STATUS)
    role: str = Field(description="主办或协办：lead 主办 / assist 协办 leading or assisting")
    lead_id: str | None = Field(description="协办工单所协助的主办工单 the lead order of an assisting order")
    category: str = Field(description="诉求类别编码 the category's code")
    urgency: str = Field(description="紧急程度 the urgency")
    clock_profile: str | None = Field(description="时限方案（clocks.json 中的名称）the clock profile")
    unit_id: str = Field(description="承办单位 id the unit's id")
    unit_code: str = Field(description="承办单位编码 the unit's code")
    unit_name: str = Field(description="承办单位名称 the unit's name")
    assignee_id: str | None = Field(description="承办人（网格员、经办人）；派给单位时为 null the person it is "
                                                "assigned to")
    confidential: bool = Field(description="保密诉求：承办人看不到反映人 a confidential case")
    requester_id: str | None = Field(description="反映人；保密诉求、协办单位和无需回访者看到 null the requester, "
                                                 "shown only to who calls her back")
    rule: str = Field(description="派单依据 why this unit (the responsibility rule)")
    rule_id: str | None = Field(description="职责清单规则编号 the responsibility rule's id")
    rule_version: int | None = Field(description="职责清单版本 the responsibility list's version")
    dispatch_no: int = Field(description="该诉求的第几次派单（首次为 1）which dispatch of the case")
    designated: bool = Field(description="是否由督办员指定承办 named by a supervisor (指定)")
    seq: int = Field(description="诉求的事件序号（最近一次变更）the case's event counter at the last change")
    created_at: datetime = Field(description="派单时间 when it was dispatched")
    signed_at: datetime | None = Field(description="签收时间 when it was signed for")
    contacted_at: datetime | None = Field(description="首次联系时间 when the requester was first contacted")
    resolved_at: datetime | None = Field(description="办结时间 when the result was reported")
    closed_at: datetime | None = Field(description="结案时间 when it was closed")
    deadlines: OrderDeadlines = Field(description="各项时限 the deadlines")
    late: OrderLate = Field(description="各环节是否超时 what was late")
    outcome: str | None = Field(description="办理结果：解决到位 / 解释到位 / 帮扶到位 / 依法处理 the outcome code")
    result_text: str | None = Field(description="办理情况说明（电话和身份证号码对无需知悉者已脱敏）what was done")
    photo_ids: list[str] = Field(description="办结照片（诉求服务的附件 id）the result photos' ids")
    evaluation: OrderEvaluation = Field(description="反映人的评价（回访）the requester's evaluation")
    kind: str = Field(description="工单类型：work 办理（计入三率）/ praise 表扬（无时限）/ suggestion 建议"
                                  "（答复，采纳或不采纳）/ guidance 私事引导 what the order is for")
    adopted: bool | None = Field(description="建议是否采纳；不是建议或尚未答复为 null a suggestion adopted")
    excluded: bool = Field(description="是否不计入考核 left out of the scores")
    exclusion_reason: str | None = Field(description="不计入考核的理由 why it is left out")


class WorkOrderDetail(WorkOrderView):
    """A work order read on its own: with its timeline, clocks, whistles and extensions."""

    timeline: list[TimelineItem] = Field(description="时间线（按发生先后）the timeline, oldest first")
    clocks: list[OrderClock] = Field(description="计时 the clocks")
    whistles: list[OrderWhistle] = Field(description="吹哨报到 the departments whistled for")
    extensions: list[OrderExtension] = Field(description="延期申请 the extension requests")
