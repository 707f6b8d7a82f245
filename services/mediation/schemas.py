"""Request and response bodies of the mediation API: its contract, every field described (Chinese first)."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from shared.errors import ApiError
from shared.fields import Flag, When
from shared.geo import CoordSystem
from shared.idcards import valid_id_number

from .config import Route

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
# What a link the parties click may hold: no white space of any width, control character, nor a character a URL
# never carries unescaped (a "<script>" in it is somebody's test, not a meeting).
_NOT_IN_LINK = re.compile(r"[\s\x00-\x1f\x7f-\x9f<>\"'`\\{}|^]")
# A host name of the DNS (its IDNA form), with at least one dot: a meeting is on somebody's domain.
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def meeting_link(value: str) -> bool:
    """An absolute https URL with a host (no user or password in it), as a meeting service gives one."""
    if _NOT_IN_LINK.search(value):
        return False
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").encode("idna").decode("ascii")
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except (ValueError, UnicodeError):
        return False
    return parts.scheme == "https" and bool(_HOST.match(host)) and parts.username is None and parts.password is None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(Strict):
    """A party as named by whoever registers her: name and phone. Her account is never named here: it is
    linked when she signs in with this phone verified by SMS, or by a mediator who saw her in person."""

    role: Literal["applicant", "respondent"] = Field("respondent", description="applicant 申请人；respondent 被申请人")
    name: str = Field(..., min_length=1, max_length=60, description="姓名 the party's name")
    phone: str | None = Field(None, max_length=20, description="联系电话（手机或座机）。当事人用经短信验证的本手机号"
                              "登录后即可查看本案并表态 phone, mobile or landline: the party signed in with this "
                              "mobile, verified by SMS, sees the dispute and answers for herself")
    id_number: str | None = Field(None, max_length=18, description="居民身份证号码 resident ID number")
    address: str | None = Field(None, max_length=200, description="住址 address")
    representative_name: str | None = Field(None, max_length=60, description="代理人或监护人")
    representative_phone: str | None = Field(None, max_length=20, description="代理人或监护人的电话")

    @field_validator("phone", "representative_phone")
    @classmethod
    def _phone(cls, v: str | None, info):
        if v is not None and not (_MOBILE.match(v) or _LANDLINE.match(v)):
            raise ApiError(422, "party.bad_phone", field=info.field_name)
        return v

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None):
        if v is not None and not valid_id_number(v.upper()):
            raise ApiError(422, "party.bad_id_number", field="id_number")
        return v.upper() if v else v


class DisputeCreate(Strict):
    dispute_type: str = Field(..., max_length=32, description="纠纷类型代码，见 GET /dispute-types")
    source: Literal["application", "committee"] = Field(
        "application", description="application 当事人申请调解；committee 调解委员会主动调解（仅调解员）")
    matter: str = Field(..., min_length=5, max_length=4000, description="纠纷事实")
    claims: str | None = Field(None, max_length=2000, description="当事人的请求")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("1e11"), description="争议金额（元）")
    people_involved: StrictInt = Field(2, ge=1, le=100000, description="涉及人数 people involved")
    # A point only means something with its coordinate system (the same rule as intake's cases, one
    # implementation: shared/geo.py): taken in the wrong one it lands ~360 m off, often in another community,
    # and the dispute would go to that community's committee.
    lat: float | None = Field(None, ge=-90, le=90,
                              description="纠纷发生地纬度，坐标系见 coord_system，用于确定社区调解委员会；须与 lon、"
                                          "coord_system 一起提供，且位于服务范围内（否则 422 "
                                          "dispute.outside_service_area）latitude, in coord_system")
    lon: float | None = Field(None, ge=-180, le=180, description="纠纷发生地经度，坐标系见 coord_system longitude")
    coord_system: CoordSystem | None = Field(
        None, description="坐标系，提供 lat/lon 时必填（缺少时 422 dispute.coord_system_required）。gcj02："
                          "小程序地图选点 wx.chooseLocation、<map> 组件、wx.getLocation({type: 'gcj02'})，"
                          "以及高德、腾讯地图；wgs84：GPS 原始坐标、wx.getLocation 默认值；bd09：百度地图。"
                          "存储时统一换算为 WGS-84。"
                          " The coordinate system of lat/lon, required with a point: gcj02 (wx.chooseLocation, <map>, "
                          "wx.getLocation({type: 'gcj02'}), Amap, Tencent Maps), wgs84 (GPS, wx.getLocation's "
                          "default), bd09 (Baidu Maps); stored as WGS-84.")
    committee_id: str | None = Field(None, max_length=36, description="指定调解委员会；不填则按类型和辖区确定。居民只能"
                                     "选择纠纷发生地的社区调解委员会或受理该类纠纷的专业调解委员会；调解员和委员会主任"
                                     "只能登记到本人所在或担任主任的委员会")
    requested_mediator_id: str | None = Field(None, max_length=64,
                                              description="当事人选择的调解员（须是受理本案的调解委员会的调解员）")
    privacy: Literal["public", "private"] = Field("private", description="调解是否公开 public or private sessions")
    parties: list[PartyIn] = Field(default_factory=list, max_length=50,
                                   description="当事人；居民本人申请时唯一的申请人即本人（手机号不填或填本人已验证的手机号），"
                                   "其账号即申请人的账号")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "dispute_type": "neighbour", "matter": "楼上住户夜间频繁拖动家具、装修噪声，多次沟通无果。",
        "claims": "请求对方晚十点后停止噪声作业并赔礼道歉", "lat": 30.625843, "lon": 104.054591,
        "coord_system": "gcj02",
        "parties": [{"role": "respondent", "name": "王某", "phone": "13900001111",
                     "address": "玉林北路 5 号 3 单元 502"}],
    }]})


class VerificationIn(Strict):
    method: Literal["id_card", "other_document"] = Field(
        ..., description="调解员当面核实身份的方式：id_card 居民身份证；other_document 其他有效身份证件")
    user_id: str | None = Field(None, max_length=64,
                                description="当事人当面出示的本人账号 id（关联后可在线查看和表态）")


class ConsentIn(Strict):
    consent: Flag = Field(..., description="true 同意调解；false 明确拒绝调解（JSON 布尔值；一经拒绝不可撤回）")
    reason: str | None = Field(None, max_length=500, description="拒绝或终止的理由 the reason of a refusal")
    privacy_request: Literal["public", "private"] | None = Field(None, description="要求公开或不公开调解")


class AssignIn(Strict):
    mediator_id: str | None = Field(None, description="当事人选定的调解员；不填则按类型、辖区和工作量自动指派")


class ObjectionIn(Strict):
    party_id: str | None = Field(None, description="由调解员代为登记时填写；当事人本人申请时不填")
    mediator_id: str = Field(..., description="申请回避的调解员 the mediator objected to")
    reason: str | None = Field(None, max_length=500, description="回避理由 the reason")


class InviteeIn(Strict):
    name: str = Field(..., min_length=1, max_length=60, description="受邀人姓名 the invitee's name")
    role_code: str = Field(..., max_length=32, description="relative 亲属、neighbour 邻居、expert 专家；四位一体："
                           "residents_committee, property_company, owners_committee, police_office")
    user_id: str | None = Field(None, max_length=64, description="受邀人的账号 id（有账号时会收到会议提醒）")


class SessionCreate(Strict):
    starts_at: When = Field(..., description="开始时间，须带时区，如 2026-03-02T09:00:00+08:00（2000 至 2100 年），"
                                             "不能早于当前时间（否则 422 session.in_the_past）；会议开始后才能记录笔录")
    place: str | None = Field(None, max_length=200, description="调解地点；与线上会议链接至少填一项")
    online_link: str | None = Field(None, max_length=300,
                                    description="线上会议链接：完整的 https 地址（含域名，不含空白和控制字符；否则 422 "
                                                "session.bad_link）the online meeting's https URL")
    kind: Literal["ordinary", "joint_meeting"] = Field(
        "ordinary", description="ordinary 普通调解会议；joint_meeting “四位一体”联席会议")
    privacy: Literal["public", "private"] = Field("private", description="是否公开进行 public or private")
    invitees: list[InviteeIn] = Field(default_factory=list, max_length=30,
                                      description="邀请参加的其他人员 other invitees")

    @field_validator("online_link")
    @classmethod
    def _link(cls, v: str | None):
        if v is not None and not meeting_link(v):
            raise ApiError(422, "session.bad_link", field="online_link")
        return v


class SessionRecordIn(Strict):
    attended_participant_ids: list[StrictInt] = Field(default_factory=list, max_length=500,
                                                description="出席人员（参会名单中的 id）")
    record: str = Field(..., min_length=5, max_length=20000, description="调解笔录")


class RiskIn(Strict):
    indicators: list[str] = Field(default_factory=list, max_length=20,
                                  description="风险指标代码，见 GET /risk-indicators")
    people_involved: StrictInt = Field(2, ge=1, le=100000, description="涉及人数 people involved")
    note: str | None = Field(None, max_length=1000, description="评估说明 a note")


class TermIn(Strict):
    party_id: str = Field(..., description="履行义务的当事人")
    obligation: str = Field(..., min_length=2, max_length=1000, description="履行内容 the obligation")
    due_at: When | None = Field(None, description="履行期限，须带时区（2000 至 2100 年）")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("1e11"), description="金额（元）amount in yuan")


class AgreementIn(Strict):
    facts: str = Field(..., min_length=5, max_length=4000, description="纠纷主要事实、争议事项")
    terms: list[TermIn] = Field(..., max_length=50, description="协议条款（至少一项）the terms, at least one")


class ConfirmIn(Strict):
    party_id: str | None = Field(None, description="调解员登记当面签字确认时填写；当事人本人在线确认时不填")


class TerminateIn(Strict):
    reason: str = Field(..., min_length=2, max_length=1000, description="终止调解的原因")
    routes: list[Route] | None = Field(None, max_length=3,
                                       description="告知当事人的其他途径，只能是人民调解法第二十六条所列的仲裁、行政、"
                                       "司法；不填则按纠纷类型默认 the routes told, of 仲裁, 行政, 司法")


class ExtensionIn(Strict):
    days: StrictInt = Field(..., ge=1, le=365, description="延长天数（不超过配置的上限）days to extend by")
    reason: str = Field(..., min_length=2, max_length=500, description="延期理由 the reason")


class ExtensionConsentIn(Strict):
    consent: Flag = Field(..., description="true 同意延期；false 不同意（JSON 布尔值）")
    party_id: str | None = Field(None, description="调解员代为登记当事人意见时填写")


class FollowupIn(Strict):
    result: Literal["performed", "partly", "not_performed"] = Field(
        ..., description="performed 已履行；partly 部分履行；not_performed 未履行")
    note: str | None = Field(None, max_length=2000, description="回访记录 a note")


class PartyView(BaseModel):
    id: str = Field(..., description="当事人 id")
    role: str = Field(..., description="applicant 申请人；respondent 被申请人")
    user_id: str | None = Field(..., description="当事人本人的账号 id（经验证关联；尚未关联时为空）")
    name: str = Field(..., description="姓名")
    phone: str | None = Field(..., description="联系电话；调解员以外的读者看到的是遮蔽后的号码")
    id_number: str | None = Field(..., description="身份证号码（调解员以外遮蔽）")
    address: str | None = Field(..., description="住址（调解员以外遮蔽）")
    representative_name: str | None = Field(..., description="代理人或监护人")
    representative_phone: str | None = Field(..., description="代理人或监护人的电话（调解员以外遮蔽）")
    verification_method: str | None = Field(..., description="身份如何核实：account 本人申请；intake 诉求转入；"
                                            "phone 短信验证的手机号；id_card / other_document 调解员当面核实")
    verified_at: datetime | None = Field(..., description="核实时间 when the party was identified")
    consent: str = Field(..., description="pending 待表态；given 同意调解；refused 拒绝调解")
    consent_at: datetime | None = Field(..., description="表态时间")
    privacy_request: str | None = Field(..., description="当事人要求公开（public）或不公开（private）调解")


class DisputeSummary(BaseModel):
    id: str = Field(..., description="调解案件 id")
    dispute_no: str = Field(..., description="调解案件编号，如 TJ-20260302-3FA9C1")
    dispute_type: str = Field(..., description="纠纷类型代码")
    type_name: str = Field(..., description="纠纷类型名称")
    status: str = Field(..., description="applied 已申请；accepted 调解中；refused 不予受理；succeeded 调解成功；"
                        "failed 调解终止；withdrawn 已撤回")
    status_label: str = Field(..., description="状态的中文说明")
    source: str = Field(..., description="intake 诉求转入；application 当事人申请；committee 主动调解")
    committee_id: str | None = Field(..., description="受理的调解委员会")
    risk_level: str = Field(..., description="风险等级：低、中、高、极高")
    applied_at: datetime = Field(..., description="申请时间")
    deadline: datetime | None = Field(..., description="调解期限（受理后）")
    closed_at: datetime | None = Field(..., description="结束时间")


class DisputeView(DisputeSummary):
    case_id: str | None = Field(..., description="来源诉求 id（由诉求转入时）the intake case")
    matter: str = Field(..., description="纠纷事实")
    claims: str | None = Field(..., description="当事人的请求")
    amount: Decimal | None = Field(..., description="争议金额（元）")
    people_involved: int = Field(..., description="涉及人数")
    privacy: str = Field(..., description="调解是否公开：public / private")
    committee_name: str | None = Field(..., description="调解委员会名称")
    mediators: list[dict] = Field(..., description="本案调解员：id、姓名、类别、是否当事人选定")
    parties: list[PartyView] = Field(..., description="当事人")
    routes: list[str] = Field(..., description="调解不成或未受理时告知的其他途径：仲裁、行政、司法"
                              "（人民调解法第二十六条）")
    routes_notice: str | None = Field(None, description="告知当事人的维权途径及其法律依据"
                                      "（调解终止、不予受理、撤回时）")
    close_reason: str | None = Field(..., description="结束原因")
    extensions: list[dict] = Field(..., description="延期申请及各方当事人的意见")
    viewer_capacity: str = Field(..., description="party 当事人 / mediator 调解员 / supervisor 委员会主任")


class AuditEntryView(BaseModel):
    at: datetime = Field(..., description="时间 when")
    user_id: str | None = Field(..., description="操作者 who (a user, key:<id>, or system)")
    role: str | None = Field(..., description="操作者角色 the actor's role")
    action: str = Field(..., description="动作：read.*（查阅）、write.*（操作）、mediation.*（事件）the action")
    allowed: bool | None = Field(..., description="查阅是否获准（事件为空）whether the read was allowed")
    capacity: str | None = Field(..., description="以何身份：party / mediator / supervisor the reader's capacity")
    request_id: str | None = Field(..., description="请求编号 the request id")
