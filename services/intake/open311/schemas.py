"""The answers of the Open311 endpoint as the OpenAPI document shows them (JSON; the XML has the same
elements, named and nested as GeoReport v2 says). views.py builds them as dicts in this order; a test holds
the two together."""

from typing import Literal

from pydantic import BaseModel, Field

from .statuses import EXTENDED


class EndpointOut(BaseModel):
    specification: str = Field(description="规范 the specification's URL")
    url: str = Field(description="接口地址（其下为 services.json 等）the endpoint's URL")
    changeset: str = Field(description="接口变更时间 when it last changed")
    type: Literal["production", "test"] = Field(description="生产或测试 production or test")
    formats: list[str] = Field(description="支持的格式 the content types served")


class DiscoveryOut(BaseModel):
    changeset: str = Field(description="服务发现的变更时间 when this changed")
    contact: str = Field(description="联系方式 who to contact")
    key_service: str = Field(description="如何申请 API 密钥 how to get an api_key")
    max_requests: int = Field(description="每次最多返回的诉求条数（mySociety 扩展）the most requests one answer holds")
    endpoints: list[EndpointOut] = Field(description="接口 the endpoints")


class ServiceOut(BaseModel):
    service_code: str = Field(description="服务代码（诉求类别编码）the category's code")
    service_name: str = Field(description="名称（Accept-Language: en 时为英文）the category's name")
    description: str = Field(description="类别路径 the category's place in the catalogue")
    metadata: bool = Field(description="是否有补充问题（见服务定义）whether it has questions (a service definition)")
    type: Literal["realtime"] = Field(description="realtime：提交即返回 service_request_id filed at once")
    keywords: str | None = Field(description="关键词：另一语言的名称 the name in the other language")
    group: str | None = Field(description="大类 the top-level category")


class ValueOut(BaseModel):
    key: str = Field(description="提交时使用的值 the value to send")
    name: str = Field(description="显示名称 what it reads as")


class AttributeOut(BaseModel):
    variable: bool = Field(description="须由提交方填写 an input")
    code: str = Field(description="提交时为 attribute[code] the name to send, as attribute[code]")
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"] = Field(
        description="类型（是否题为 true/false 的 singlevaluelist）the datatype (a yes/no question is a "
                    "singlevaluelist of true and false)")
    required: bool = Field(description="必答 required")
    datatype_description: str | None = Field(description="类型说明 what the value must be")
    order: int = Field(description="顺序，从 1 起 the order, from 1")
    description: str = Field(description="问题 the question")
    values: list[ValueOut] | None = Field(None, description="可选值（列表类型）the choices of a list")


class ServiceDefinitionOut(BaseModel):
    service_code: str = Field(description="服务代码 the service's code")
    attributes: list[AttributeOut] = Field(description="补充问题 the category's questions")


class RequestCreatedOut(BaseModel):
    service_request_id: str = Field(description="诉求 id（与 /intake/v1/cases/{id} 相同）the case's id")
    service_notice: str = Field(description="诉求编号与去向 the case's number and where it goes")
    account_id: None = Field(description="不使用 not used")


class ServiceRequestOut(BaseModel):
    service_request_id: str = Field(description="诉求 id the case's id")
    status: Literal["open", "closed"] = Field(description="open 或 closed（扩展状态见 servicerequestupdates）")
    status_notes: str | None = Field(description="状态说明及办理结果（脱敏；保密诉求和纠纷仅状态）the status in "
                                                 "words and the result, masked; of a confidential case or a "
                                                 "dispute the status only")
    service_name: str = Field(description="类别名称 the category's name")
    service_code: str = Field(description="类别编码 the category's code")
    description: str | None = Field(description="问题描述（电话、身份证号已脱敏；保密诉求和纠纷为空）the "
                                                "description, phones and ID numbers masked; empty for a "
                                                "confidential case or a dispute")
    agency_responsible: str | None = Field(description="承办单位 the unit handling it")
    service_notice: str | None = Field(description="诉求编号与去向 the case's number and where it goes")
    requested_datetime: str = Field(description="提交时间（ISO 8601，带时区）filed at")
    updated_datetime: str = Field(description="最近更新时间 last changed at")
    expected_datetime: None = Field(description="不提供（时限由派单服务计算）not given")
    address: None = Field(description="不提供：地址文字是个人信息 never: the address text is personal data")
    address_id: None = Field(description="不使用 not used")
    zipcode: None = Field(description="不使用 not used")
    lat: float | None = Field(description="纬度 WGS-84（保密诉求和纠纷为空）latitude, WGS-84")
    long: float | None = Field(description="经度 WGS-84 longitude, WGS-84")
    media_url: None = Field(description="不提供：附件不对外 never: files are not shared")


class TokenOut(BaseModel):
    service_request_id: str = Field(description="诉求 id the case's id")
    token: str = Field(description="token：提交时所带的 Idempotency-Key the Idempotency-Key of the POST")


class RequestUpdateOut(BaseModel):
    update_id: str = Field(description="进展编号（递增）the update's id")
    service_request_id: str = Field(description="诉求 id the case's id")
    status: str = Field(description="mySociety 扩展状态之一：" + "、".join(EXTENDED) + " an extended status",
                        json_schema_extra={"enum": list(EXTENDED)})
    updated_datetime: str = Field(description="时间（ISO 8601，带时区）when")
    description: str = Field(description="进展（居民可见的公开进度，脱敏）the public progress, masked")
    media_url: None = Field(description="不提供 never")


class ErrorOut(BaseModel):
    code: int = Field(description="HTTP 状态码 the HTTP status")
    description: str = Field(description="稳定的错误代码、说明（Accept-Language: en 时为英文）和字段 the stable code, "
                                         "a message and the field")
