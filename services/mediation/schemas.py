"""Request and response bodies of the mediation API."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.errors import ApiError

Route = Literal["诉讼", "仲裁", "行政处理", "信访"]
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def valid_id_number(value: str) -> bool:
    """Resident ID (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(Strict):
    role: Literal["applicant", "respondent"] = "respondent"
    user_id: str | None = Field(None, max_length=64, description="当事人的账号 id；没有账号时登记姓名和电话")
    name: str = Field(..., min_length=1, max_length=60)
    phone: str | None = Field(None, max_length=20)
    id_number: str | None = Field(None, max_length=18)
    address: str | None = Field(None, max_length=200)
    representative_name: str | None = Field(None, max_length=60, description="代理人或监护人")
    representative_phone: str | None = Field(None, max_length=20)

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
    people_involved: int = Field(2, ge=1, le=100000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    committee_id: str | None = Field(None, description="指定调解委员会；不填则按类型和辖区确定")
    requested_mediator_id: str | None = Field(None, description="当事人选择的调解员")
    privacy: Literal["public", "private"] = "private"
    parties: list[PartyIn] = Field(default_factory=list, max_length=50,
                                   description="当事人；居民本人申请时本人自动登记为申请人")

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "dispute_type": "neighbour", "matter": "楼上住户夜间频繁拖动家具、装修噪声，多次沟通无果。",
        "claims": "请求对方晚十点后停止噪声作业并赔礼道歉", "lat": 30.6283, "lon": 104.052115,
        "parties": [{"role": "respondent", "name": "王某", "phone": "13900001111",
                     "address": "玉林北路 5 号 3 单元 502"}],
    }]})


class ConsentIn(Strict):
    consent: bool = Field(..., description="true 同意调解；false 明确拒绝调解")
    reason: str | None = Field(None, max_length=500)
    privacy_request: Literal["public", "private"] | None = Field(None, description="要求公开或不公开调解")


class AssignIn(Strict):
    mediator_id: str | None = Field(None, description="当事人选定的调解员；不填则按类型、辖区和工作量自动指派")


class ObjectionIn(Strict):
    party_id: str | None = Field(None, description="由调解员代为登记时填写；当事人本人申请时不填")
    mediator_id: str
    reason: str | None = Field(None, max_length=500)


class InviteeIn(Strict):
    name: str = Field(..., min_length=1, max_length=60)
    role_code: str = Field(..., max_length=32, description="relative 亲属、neighbour 邻居、expert 专家；四位一体："
                           "residents_committee, property_company, owners_committee, police_office")
    user_id: str | None = Field(None, max_length=64)


class SessionCreate(Strict):
    starts_at: AwareDatetime = Field(..., description="开始时间，须带时区，如 2026-03-02T09:00:00+08:00")
    place: str | None = Field(None, max_length=200)
    online_link: str | None = Field(None, max_length=300, pattern=r"^https://")
    kind: Literal["ordinary", "joint_meeting"] = "ordinary"
    privacy: Literal["public", "private"] = "private"
    invitees: list[InviteeIn] = Field(default_factory=list, max_length=30)


class SessionRecordIn(Strict):
    attended_participant_ids: list[int] = Field(default_factory=list)
    record: str = Field(..., min_length=5, max_length=20000, description="调解笔录")


class RiskIn(Strict):
    indicators: list[str] = Field(default_factory=list, max_length=20)
    people_involved: int = Field(2, ge=1, le=100000)
    note: str | None = Field(None, max_length=1000)


class TermIn(Strict):
    party_id: str = Field(..., description="履行义务的当事人")
    obligation: str = Field(..., min_length=2, max_length=1000)
    due_at: AwareDatetime | None = Field(None, description="履行期限，须带时区")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("1e11"))


class AgreementIn(Strict):
    facts: str = Field(..., min_length=5, max_length=4000, description="纠纷主要事实、争议事项")
    terms: list[TermIn] = Field(..., max_length=50)


class ConfirmIn(Strict):
    party_id: str | None = Field(None, description="调解员登记当面签字确认时填写；当事人本人在线确认时不填")


class TerminateIn(Strict):
    reason: str = Field(..., min_length=2, max_length=1000, description="终止调解的原因")
    routes: list[Route] | None = Field(None, description="告知当事人的其他途径；不填则按纠纷类型默认")


class ExtensionIn(Strict):
    days: int = Field(..., ge=1, le=365)
    reason: str = Field(..., min_length=2, max_length=500)


class ExtensionConsentIn(Strict):
    consent: bool
    party_id: str | None = Field(None, description="调解员代为登记当事人意见时填写")


class FollowupIn(Strict):
    result: Literal["performed", "partly", "not_performed"]
    note: str | None = Field(None, max_length=2000)


class PartyView(BaseModel):
    id: str
    role: str
    user_id: str | None
    name: str
    phone: str | None
    id_number: str | None
    address: str | None
    representative_name: str | None
    representative_phone: str | None
    consent: str
    consent_at: datetime | None
    privacy_request: str | None


class DisputeSummary(BaseModel):
    id: str
    dispute_no: str
    dispute_type: str
    type_name: str
    status: str
    status_label: str
    source: str
    committee_id: str | None
    risk_level: str
    applied_at: datetime
    deadline: datetime | None
    closed_at: datetime | None


class DisputeView(DisputeSummary):
    case_id: str | None
    matter: str
    claims: str | None
    amount: Decimal | None
    people_involved: int
    privacy: str
    committee_name: str | None
    mediators: list[dict]
    parties: list[PartyView]
    routes: list[str]
    close_reason: str | None
    extensions: list[dict]
    viewer_capacity: str = Field(..., description="party 当事人 / mediator 调解员 / supervisor 委员会主任")
