"""Request and response bodies of the selfgov API: its contract, every field described (Chinese first)."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.fields import Day, Flag, When

Level = Literal["building", "community", "street"]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- roster ------------------------------------------------------------------------------------

class MemberIn(In):
    name: str = Field(min_length=1, max_length=30, description="姓名 name")
    phone: str = Field(min_length=5, max_length=20, description="本人手机号（须是她在平台验证过的号码）her mobile")
    household: str = Field(min_length=1, max_length=60, description="户（门牌），如 7栋2单元501 the household")
    building: str | None = Field(None, max_length=40, description="楼栋，如 7栋（楼栋议事用）the building")
    representative: Flag = Field(False, description="是否居民代表 a residents' representative")


class MemberView(BaseModel):
    id: str = Field(description="名册编号 roster entry id")
    community_code: str = Field(description="社区编码 community code")
    name: str = Field(description="姓名（脱敏）name, masked")
    household: str = Field(description="户（脱敏）household, masked")
    building: str | None = Field(description="楼栋 building")
    representative: bool = Field(description="居民代表 representative")
    linked: bool = Field(description="本人是否已用该手机号登录过 whether she signed in with it")
    active: bool = Field(description="是否有效 active")
    registered_at: datetime = Field(description="登记时间 registered")


class MembershipView(BaseModel):
    member_id: str = Field(description="名册编号 roster entry id")
    community_code: str = Field(description="社区编码 community code")
    community_name: str = Field(description="社区名称 community")
    building: str | None = Field(description="楼栋 building")
    representative: bool = Field(description="居民代表 representative")


class CommunityView(BaseModel):
    code: str = Field(description="社区编码 community code")
    name: str = Field(description="社区名称 name")
    street_code: str | None = Field(description="所属街道编码 street")
    grids: list[dict] = Field(description="下辖网格（code、name）its grids")


# ---- matters -----------------------------------------------------------------------------------

class MatterIn(In):
    community_code: str = Field(max_length=32, description="议题所在社区编码 the community")
    level: Level = Field("community", description="议事层级：楼栋 building、社区 community、街道 street")
    building: str | None = Field(None, max_length=40, description="楼栋（楼栋议事必填）the building")
    title: str = Field(min_length=2, max_length=120, description="议题 title")
    description: Text = Field(description="议题说明 what is proposed and why")
    category: str | None = Field(None, max_length=64, description="类别（同诉求类别目录）category")


class TallyView(BaseModel):
    representatives: int = Field(description="附议的居民代表人数 seconding representatives")
    representatives_total: int = Field(description="居民代表总数 representatives on the roster")
    representatives_needed: int | None = Field(description="居民代表门槛人数（无代表时为空）threshold")
    households: int = Field(description="附议住户数 seconding households")
    households_needed: int = Field(description="住户门槛 household threshold")
    reached: bool = Field(description="是否达到任一门槛 either threshold reached")


class StageView(BaseModel):
    index: int = Field(description="阶段序号（0 起）stage index")
    code: str = Field(description="阶段编码 stage code")
    name: str = Field(description="阶段名称 stage name")
    body: str = Field(description="与会者 who meets")
    quorum_share: float = Field(description="法定到会比例 quorum share")
    majority_share: float = Field(description="赞成须超过到会人数的比例 majority share")


class MatterSummary(BaseModel):
    id: str = Field(description="议题编号 matter id")
    title: str = Field(description="议题 title")
    level: Level = Field(description="议事层级 level")
    community_code: str | None = Field(description="社区编码（街道议事为空）community")
    street_code: str | None = Field(description="街道编码 street")
    status: str = Field(description="状态 status")
    status_name: str = Field(description="状态名称 status in words")
    case_no: str | None = Field(description="来源诉求编号 the case it came from")
    created_at: datetime = Field(description="提出时间 raised")


class MatterView(MatterSummary):
    building: str | None = Field(description="楼栋 building")
    description: str = Field(description="议题说明（居民看到的已脱敏）description")
    category: str | None = Field(description="类别 category")
    source: str = Field(description="来源：case 诉求转入、resident 居民提出、staff 社区提出 source")
    case_id: str | None = Field(description="来源诉求 id the case id")
    stage: StageView | None = Field(description="当前议事阶段（列入议程后）the current stage")
    tally: TallyView = Field(description="附议情况 seconding so far")
    resolution_id: str | None = Field(description="决议编号 resolution id")
    resolution_text: str | None = Field(description="决议内容 resolution")
    notice_id: str | None = Field(description="决议公示的公开事项 the notice publishing it")
    publication_ends_at: datetime | None = Field(description="公示截止 publication ends")
    agenda_at: datetime | None = Field(description="列入议程时间 put on the agenda")
    closed_at: datetime | None = Field(description="结束时间 closed")
    close_reason: str | None = Field(description="结束原因 why it ended")
    capacity: str = Field(description="您的身份：manager 经办、reader 查看、member 本社区居民、raiser 提出人")


class SecondIn(In):
    member_id: str | None = Field(None, max_length=36, description="代为登记纸面附议的居民名册编号（仅社区工作人员）"
                                                                 "a paper signature recorded by staff")


class ReasonIn(In):
    reason: Text = Field(description="原因 reason")


class MeetingIn(In):
    starts_at: When = Field(description="开会时间（须带时区，须满足提前通知天数）when it starts")
    place: str = Field(min_length=1, max_length=200, description="地点 place")
    notice: Text = Field(description="会议通知正文 the notice")


class MeetingRecordIn(In):
    members: StrictInt | None = Field(None, ge=1, le=100000,
                                      description="应到人数（居民代表会议按名册自动计算）members")
    attended: StrictInt | None = Field(None, ge=0, le=100000, description="实到人数（居民代表会议按出席名单）attended")
    attendee_member_ids: list[Annotated[str, Field(max_length=36)]] = Field(
        default_factory=list, max_length=2000,
        description="出席的居民代表名册编号（居民代表会议）attending representatives")
    votes_for: StrictInt = Field(ge=0, le=100000, description="赞成票 for")
    votes_against: StrictInt = Field(ge=0, le=100000, description="反对票 against")
    votes_abstain: StrictInt = Field(0, ge=0, le=100000, description="弃权票 abstentions")
    record: Text = Field(description="会议记录 the record")
    supervisor_present: Flag = Field(description="监督机构是否到场监督 the supervising committee present")
    supervisor_note: str | None = Field(None, max_length=2000, description="监督意见 the supervisor's note")
    resolution_text: str | None = Field(None, max_length=2000, description="决议内容（最后阶段通过时必填）resolution")


class MeetingView(BaseModel):
    id: str = Field(description="会议编号 meeting id")
    matter_id: str = Field(description="议题编号 matter id")
    stage_code: str = Field(description="阶段编码 stage")
    stage_name: str = Field(description="阶段名称 stage name")
    starts_at: datetime = Field(description="开会时间 starts")
    place: str = Field(description="地点 place")
    notice: str = Field(description="会议通知 notice")
    status: str = Field(description="convened 已召集 / held 已召开")
    members: int | None = Field(description="应到 members")
    attended: int | None = Field(description="实到 attended")
    votes_for: int | None = Field(description="赞成 for")
    votes_against: int | None = Field(description="反对 against")
    votes_abstain: int | None = Field(description="弃权 abstentions")
    result: str | None = Field(description="passed 通过 / rejected 未通过 / no_quorum 未达法定人数")
    record: str | None = Field(description="会议记录（居民看到的已脱敏）record")
    supervisor_present: bool | None = Field(description="监督机构到场 supervisor present")
    supervisor_note: str | None = Field(description="监督意见 note")
    held_at: datetime | None = Field(description="登记时间 recorded")


class ObjectionIn(In):
    text: Text = Field(description="异议内容 the objection")


class ReplyIn(In):
    reply: Text = Field(description="答复 the answer")


class ObjectionView(BaseModel):
    id: str = Field(description="异议编号 objection id")
    text: str = Field(description="异议内容 text")
    at: datetime = Field(description="提出时间 raised")
    mine: bool = Field(description="是否本人提出 raised by you")
    reply: str | None = Field(description="社区答复 the answer")
    replied_at: datetime | None = Field(description="答复时间 answered")


class TaskIn(In):
    title: str = Field(min_length=1, max_length=200, description="任务 what to do")
    owner: str = Field(min_length=1, max_length=60, description="责任方 who carries it out")
    due_on: Day = Field(description="完成期限 due date")


class TasksIn(In):
    tasks: list[TaskIn] = Field(min_length=1, max_length=50, description="实施任务 tasks")


class TaskDoneIn(In):
    note: Text = Field(description="完成情况 what was done")


class TaskView(BaseModel):
    id: str = Field(description="任务编号 task id")
    title: str = Field(description="任务 task")
    owner: str = Field(description="责任方 owner")
    due_on: date = Field(description="完成期限 due")
    status: str = Field(description="open 进行中 / done 已完成")
    done_at: datetime | None = Field(description="完成时间 done")
    done_note: str | None = Field(description="完成情况 note")


class TimelineView(BaseModel):
    kind: str = Field(description="事项类型 kind")
    text: str = Field(description="内容 what happened")
    at: datetime = Field(description="时间 when")


class ResolutionView(BaseModel):
    id: str = Field(description="决议编号 resolution id")
    matter_id: str = Field(description="议题编号 matter id")
    title: str = Field(description="议题 title")
    text: str = Field(description="决议内容 text")
    adopted_at: datetime = Field(description="通过时间 adopted")
    notice_id: str | None = Field(description="公示 notice")


# ---- notices -----------------------------------------------------------------------------------

class NoticeIn(In):
    community_code: str = Field(max_length=32, description="社区编码 community")
    category: str = Field(max_length=32, description="公开类别（见 /notice-categories）category")
    title: str = Field(min_length=1, max_length=120, description="标题 title")
    body: str = Field(min_length=1, max_length=20000, description="正文 body")
    publish_from: When | None = Field(None, description="公开开始（默认现在）from")
    publish_until: When | None = Field(None, description="公开截止（默认按类别天数）until")


class CorrectionIn(In):
    title: str | None = Field(None, min_length=1, max_length=120, description="更正后的标题（不填沿用）title")
    body: str = Field(min_length=1, max_length=20000, description="更正后的正文 body")
    reason: Text = Field(description="更正原因 why")


class NoticeView(BaseModel):
    id: str = Field(description="公开事项（本版本）编号 notice version id")
    series_id: str = Field(description="同一事项各版本共用的编号 the notice across versions")
    version: int = Field(description="版本号（更正一次加一）version")
    community_code: str = Field(description="社区编码 community")
    category: str = Field(description="类别 category")
    category_name: str = Field(description="类别名称 category name")
    title: str = Field(description="标题 title")
    body: str = Field(description="正文 body")
    publish_from: datetime = Field(description="公开开始 from")
    publish_until: datetime = Field(description="公开截止 until")
    published_at: datetime = Field(description="发布时间 published")
    correction_reason: str | None = Field(description="更正原因 why corrected")
    superseded: bool = Field(description="是否已被更正（有更新版本）superseded")
    matter_id: str | None = Field(description="关联议题 the matter")


class ReadCount(BaseModel):
    notice_id: str = Field(description="版本编号 version id")
    version: int = Field(description="版本号 version")
    reads: int = Field(description="阅读人数 residents who read it")


class CategoryView(BaseModel):
    code: str = Field(description="类别编码 code")
    name: str = Field(description="名称 name")
    days: int = Field(description="默认公开天数 default days")


# ---- ratings -----------------------------------------------------------------------------------

class QuestionView(BaseModel):
    code: str = Field(description="题目编码 code")
    text: str = Field(description="题目 text")
    about: str = Field(description="community 评社区 / grid 评网格")
    weight: int = Field(description="权重 weight")


class RatingForm(BaseModel):
    period: str = Field(description="本期 the current period")
    scale_max: int = Field(description="满分（1 至满分）the best answer")
    questions: list[QuestionView] = Field(description="题目 questions")


class RatingIn(In):
    community_code: str = Field(max_length=32, description="评价的社区（须在其居民名册中）the community")
    grid_code: str | None = Field(None, max_length=32, description="评价的网格（可选；选了须答网格题）the grid")
    answers: dict[Annotated[str, Field(max_length=40)], StrictInt] = Field(
        max_length=50, description="题目编码 → 分数（1 至满分）question → score")


class RatingReceipt(BaseModel):
    period: str = Field(description="计入的期次 the period")
    community_code: str = Field(description="社区 community")
    accepted: bool = Field(description="已收到（结果匿名）received, anonymous")


class ScoreRow(BaseModel):
    unit_code: str = Field(description="单位（社区或网格）编码 unit code")
    unit_id: str = Field(description="单位 id（与派单服务相同）unit id")
    unit_name: str = Field(description="名称 name")
    level: str = Field(description="community 或 grid")
    period: str = Field(description="统计期 period")
    responses: int = Field(description="评价人数 responses")
    score: float | None = Field(description="得分 0–100（不足最少人数为空）score")
    by_question: dict[str, float | None] = Field(description="各题平均分 mean per question")


class OutcomeRow(BaseModel):
    area_code: str = Field(description="社区（街道议事为街道）编码 area")
    area_name: str = Field(description="名称 name")
    level: str | None = Field(description="层级 level")
    period: str = Field(description="统计期 period")
    raised: int = Field(description="提出议题 raised")
    declined: int = Field(description="不予立项 declined")
    withdrawn: int = Field(description="撤回 withdrawn")
    on_agenda: int = Field(description="列入议程 taken up")
    rejected: int = Field(description="否决 voted down")
    resolved: int = Field(description="形成决议 resolved")
    settled: int = Field(description="实施办结 settled")
    open: int = Field(description="进行中 open")
    stages: dict[str, dict[str, int]] = Field(description="各阶段会议结果计数 meetings per stage by result")
