"""The endpoints of Open311 GeoReport v2 at /open311/v2, every one in `.json` and `.xml`, and mySociety's
`servicerequestupdates`. Each parses, calls one function of service_requests.py or views.py, renders.

Keys: an identity API key in the X-API-Key header (preferred: a URL is logged by proxies), or `api_key`
as the specification has it (the form of a POST, the query of a GET). Public (no key needed): discovery,
the service list and the service definitions. Limits (shared/ratelimit.py, CG_RATE_LIMITS overrides):
`intake.open311.address` 600/minute per client address on every endpoint; `intake.open311.read` 600/minute
per key on the reads; `intake.case.submit_key` 3000/hour per key and `intake.case.submit_key.address`
6000/hour per address on POST requests.
"""

from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.security import APIKeyHeader

from shared.auth import ApiClient
from shared.deps import English, SessionDep, Uow
from shared.errors import ApiError
from shared.ratelimit import LimiterDep, client_address

from .. import catalogue as cat
from ..api.deps import PhoneIndex
from . import access, config, render, service_requests, views
from .render import Fmt
from .schemas import (
    DiscoveryOut,
    ErrorOut,
    RequestCreatedOut,
    RequestUpdateOut,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
    TokenOut,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_FORM_FIELDS = 200


def per_address(request: Request, limiter: LimiterDep) -> None:
    limiter.hit("intake.open311.address", "600/minute", f"a:{client_address(request)}")


router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2（政府系统对接）"],
                   dependencies=[Depends(per_address)])

FormatPath = Annotated[Fmt, Path(alias="format", description="格式：json 或 xml the format: json or xml")]


# --------------------------------------------------------------------------- what every endpoint takes


def check_jurisdiction(value: str | None) -> None:
    """One jurisdiction is served: a client may name it (jurisdiction_id), and must name it rightly."""
    own = config.get().jurisdiction_id
    if value is not None and value != own:
        raise ApiError(400, "open311.jurisdiction_unknown", field="jurisdiction_id", detail=own)


def jurisdiction(jurisdiction_id: Annotated[str | None, Query(
        max_length=64, description="辖区编号（可省略；给出时须为本辖区，见 discovery）the jurisdiction, optional: "
                                   "when given, this one")] = None) -> None:
    check_jurisdiction(jurisdiction_id)


Jurisdiction = Depends(jurisdiction)
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey",
                       description="政府系统的 API 密钥（身份服务签发）a government system's API key, from identity")


def _verified(request: Request, secret: str) -> ApiClient:
    """The key as identity issued it (scopes, area), or 403: GeoReport v2's answer to a bad api_key."""
    try:
        client = request.app.state.verifier.api_client(secret)
    except ApiError:
        raise ApiError(403, "open311.api_key_invalid", field="api_key") from None
    request.state.principal = client  # the audit trail's actor: key:<id>
    report = getattr(request.app.state, "report_api_key_use", None)
    if report is not None:
        report(client.key_id)
    return client


def optional_key(request: Request, header: Annotated[str | None, Depends(_header)],
                 api_key: Annotated[str | None, Query(max_length=200, description="API 密钥（建议改用 X-API-Key "
                                                                                  "请求头）the key; the header is "
                                                                                  "better")] = None
                 ) -> ApiClient | None:
    secret = header or api_key
    return _verified(request, secret) if secret else None


OptionalKey = Annotated[ApiClient | None, Depends(optional_key)]


def reading_key(client: OptionalKey, limiter: LimiterDep) -> ApiClient:
    if client is None:
        raise ApiError(403, "open311.api_key_required", field="api_key")
    access.require(client, *access.READ)
    limiter.hit("intake.open311.read", "600/minute", f"k:{client.key_id}")
    return client


ReadingKey = Annotated[ApiClient, Depends(reading_key)]


def token_key(client: OptionalKey, limiter: LimiterDep) -> ApiClient:
    if client is None:
        raise ApiError(403, "open311.api_key_required", field="api_key")
    access.require(client, access.CREATE, access.READ_OWN)
    limiter.hit("intake.open311.read", "600/minute", f"k:{client.key_id}")
    return client


TokenKey = Annotated[ApiClient, Depends(token_key)]


async def form_body(request: Request) -> service_requests.Form:
    """The POST's body: application/x-www-form-urlencoded in UTF-8, as the specification posts it."""
    mime, _, params = request.headers.get("content-type", "").partition(";")
    charset = dict(p.strip().lower().partition("=")[::2] for p in params.split(";") if "=" in p).get("charset")
    if mime.strip().lower() != "application/x-www-form-urlencoded" or charset not in (None, "utf-8", "utf8"):
        raise ApiError(400, "open311.form_required", field="body")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict", max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "open311.form_required", field="body") from None
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        raise ApiError(400, "validation.bad_type", field="body")
    return service_requests.Form.of(pairs)


FormBody = Annotated[service_requests.Form, Depends(form_body)]


def creating_key(request: Request, form: FormBody, header: Annotated[str | None, Depends(_header)],
                 limiter: LimiterDep) -> ApiClient:
    check_jurisdiction(form.one("jurisdiction_id") or request.query_params.get("jurisdiction_id"))
    secret = header or form.one("api_key") or request.query_params.get("api_key")
    if not secret:
        raise ApiError(403, "open311.api_key_required", field="api_key")
    client = _verified(request, secret)
    access.require(client, access.CREATE)
    limiter.hit("intake.case.submit_key", "3000/hour", f"k:{client.key_id}")
    limiter.hit("intake.case.submit_key.address", "6000/hour", f"a:{client_address(request)}")
    return client


CreatingKey = Annotated[ApiClient, Depends(creating_key)]
Page = Annotated[int, Query(ge=1, le=10000, description="页码，从 1 起（扩展）the page, from 1 (an extension)")]


def page_size(size: Annotated[int | None, Query(alias="page_size", ge=1, le=1000, description=(
        "每页条数（扩展），默认 200，最多 1000（见 discovery 的 max_requests）the page size (an extension)"))] = None
              ) -> int:
    cfg = config.get()
    return min(size or cfg.page_size, cfg.max_page_size)


PageSize = Annotated[int, Depends(page_size)]
DateText = Annotated[str | None, Query(max_length=40, description="ISO 8601（W3C）带时区，如 2026-11-05T08:15:30+08:00 "
                                                                  "a W3C date-time with its offset")]


# --------------------------------------------------------------------------- documentation

XML = {"schema": {"type": "string"}}


def ok(model, description: str, xml_example: str, status: int = 200) -> dict:
    return {status: {"model": model, "description": description,
                     "content": {"text/xml": {**XML, "example": xml_example}}}}


REFUSALS = {
    400: "参数或请求体不合法（含 jurisdiction_id 不符）：错误列表 bad input, jurisdiction_id not this one",
    403: "缺少或无效的 api_key，或该密钥无此权限范围 a missing or invalid api_key, or one without the scope",
    404: "没有该服务、诉求或 token，或不在该密钥可读范围内 no such service, request or token within reach",
    409: "同一 Idempotency-Key 用于了不同内容 the Idempotency-Key was used for another request",
    429: "操作过于频繁（见 Retry-After）too many requests (see Retry-After)",
}


def refusals(*codes: int) -> dict:
    return {code: {"description": REFUSALS[code]} for code in codes}


# --------------------------------------------------------------------------- endpoints


@router.get("/discovery.{format}", response_model=None,
            summary="服务发现 service discovery",
            description="本接口的规范、地址、格式和联系方式；无需密钥（给出的密钥须有效）。The endpoint's "
                        "specification, URL, formats and contact; no key needed (one given must be valid).",
            responses={**ok(DiscoveryOut, "服务发现 the discovery document",
                            "<discovery><changeset/><contact/><key_service/><max_requests/><endpoints><endpoint>"
                            "<specification/><url/><changeset/><type/><formats><format>text/xml</format>"
                            "</formats></endpoint></endpoints></discovery>"), **refusals(400, 403, 429)},
            dependencies=[Jurisdiction, Depends(optional_key)])
def discovery(request: Request, fmt: FormatPath) -> Response:
    cfg = config.get()
    url = cfg.endpoint_url or str(request.base_url).rstrip("/") + router.prefix
    kind = cfg.endpoint_type or ("production" if request.app.state.settings.mode == "services" else "test")
    changeset = render.w3c(cfg.changeset)
    doc = {"changeset": changeset, "contact": cfg.contact, "key_service": cfg.key_service,
           "max_requests": cfg.max_page_size,
           "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": changeset, "type": kind,
                          "formats": [render.CONTENT_TYPES["xml"].split(";")[0],
                                      render.CONTENT_TYPES["json"].split(";")[0]]}]}
    return render.respond(fmt, "discovery", doc)


@router.get("/services.{format}", response_model=None,
            summary="服务列表：可提交的诉求类别 the service list: the categories a case is filed in",
            description="诉求类别目录中所有启用的末级类别；有补充问题的 metadata 为 true，其问题见服务定义。"
                        "无需密钥（给出的密钥须有效）；Accept-Language: en 时名称为英文。Every active leaf "
                        "category of intake's catalogue; metadata is true where it has questions. No key needed.",
            responses={**ok(list[ServiceOut], "服务列表 the services",
                            "<services><service><service_code>env.garbage</service_code><service_name>垃圾清运"
                            "</service_name><description>市容环境 / 垃圾清运</description><metadata>false"
                            "</metadata><type>realtime</type><keywords>Garbage collection</keywords><group>"
                            "市容环境</group></service></services>"), **refusals(400, 403, 429)},
            dependencies=[Jurisdiction])
def service_list(fmt: FormatPath, client: OptionalKey, session: SessionDep, english: English) -> Response:
    return render.respond(fmt, "services", views.services(cat.current(session), english))


@router.get("/services/{service_code}.{format}", response_model=None,
            summary="服务定义：类别的补充问题 a service definition: the category's questions",
            description="每个问题为一个 attribute：提交时写作 attribute[code]=值。是否题为 true/false 的 "
                        "singlevaluelist，选择题为 singlevaluelist，文字为 text，数字为 number。无需密钥。"
                        "Each question is an attribute, sent as attribute[code]=value. No key needed.",
            responses={**ok(ServiceDefinitionOut, "服务定义 the service definition",
                            "<service_definition><service_code>env.noise</service_code><attributes><attribute>"
                            "<variable>true</variable><code>time_of_day</code><datatype>singlevaluelist"
                            "</datatype><required>true</required><datatype_description/><order>1</order>"
                            "<description>噪声出现的时段</description><values><value><key>夜间</key><name>夜间"
                            "</name></value></values></attribute></attributes></service_definition>"),
                       **refusals(400, 403, 404, 429)},
            dependencies=[Jurisdiction])
def service_definition(service_code: Annotated[str, Path(max_length=64, description="服务代码 the service code")],
                       fmt: FormatPath, client: OptionalKey, session: SessionDep, english: English) -> Response:
    node = cat.current(session).nodes.get(service_code)
    if node is None or not node.leaf or not node.active:
        raise ApiError(404, "open311.service_not_found", field="service_code")
    return render.respond(fmt, "service_definition", views.definition(node, english))


FORM_FIELDS = {
    "api_key": "API 密钥（或 X-API-Key 请求头）the key, or the X-API-Key header",
    "jurisdiction_id": "辖区编号（可省略）the jurisdiction, optional",
    "service_code": "服务代码（必填）the service code, required",
    "lat": "纬度，WGS-84（与 long 一起，或给 address_string）latitude, WGS-84",
    "long": "经度，WGS-84 longitude, WGS-84",
    "address_string": "地址文字（最多 200 字；没有坐标时必填）the address, when there is no point",
    "address_id": "不使用 not used",
    "description": "问题描述（必填，最多 4000 字）the description, required",
    "attribute[code]": "补充问题的回答，code 见服务定义 an answer; the codes are in the service definition",
    "phone": "反映人电话（须同时给 consent）the requester's phone, with consent",
    "consent": "扩展：本人是否同意登记其电话（给 phone 时必填；false 则不保存号码）an extension: consent to keep "
               "the phone",
    "confidential": "扩展：保密 true/false an extension: confidential",
    "anonymous": "扩展：匿名 true/false（类别允许时）an extension: anonymous",
    "appeal_type": "扩展：诉求类型 咨询/求助/投诉/举报/建议/表扬，默认投诉 an extension: the appeal type",
    "coord_system": "扩展：坐标系 wgs84（默认）/gcj02/bd09 an extension: the point's coordinate system",
    "first_name": "不保存 not kept", "last_name": "不保存 not kept", "email": "不保存 not kept",
    "device_id": "不保存 not kept", "account_id": "不保存 not kept",
    "media_url": "不获取也不保存 neither fetched nor kept",
}
FORM_SCHEMA = {"type": "object", "required": ["service_code"],
               "properties": {name: {"type": "string", "description": text} for name, text in FORM_FIELDS.items()
                              if name != "attribute[code]"},
               "additionalProperties": {"type": "string", "description": FORM_FIELDS["attribute[code]"]}}


@router.post("/requests.{format}", response_model=None, status_code=201,
             summary="提交诉求（政府系统渠道 gov_api）file a service request",
             description="表单编码（application/x-www-form-urlencoded，UTF-8），须有权限范围 cases:create 的密钥。"
                         "诉求按受理服务的全部规则登记（类别与补充问题、坐标须在服务范围内、登记电话须有同意），"
                         "渠道为 gov_api，随后与其他诉求一样派单、通知。立即登记，返回 service_request_id，"
                         "从不返回 token。带 Idempotency-Key 头重试时返回同一诉求（200）。姓名、邮箱不保存，"
                         "media_url 不获取。A form-encoded POST with a key holding cases:create: filed at once "
                         "under every rule of intake, on the gov_api channel; routed and notified like any case.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": FORM_SCHEMA}}}},
             responses={**ok(list[RequestCreatedOut], "已登记 filed",
                             "<service_requests><request><service_request_id>…</service_request_id>"
                             "<service_notice>诉求编号 2026-11-000123</service_notice><account_id/></request>"
                             "</service_requests>", 201),
                        **ok(list[RequestCreatedOut], "同一 Idempotency-Key 的重试：原诉求 a retry: the case filed "
                                                      "before", "<service_requests>…</service_requests>"),
                        **refusals(400, 403, 409, 429)})
def create_request(fmt: FormatPath, form: FormBody, client: CreatingKey, uow: Uow, english: English,
                   index: PhoneIndex, idempotency_key: Annotated[str | None, Header(
                       alias="Idempotency-Key", max_length=100,
                       description="幂等键：重试时返回同一诉求；也可作 token 查询 GET tokens/{token} retries "
                                   "return the same case; also the token of GET tokens/{token}")] = None
                   ) -> Response:
    done = service_requests.file(uow.session, uow.emit, client, form, idempotency_key, index)
    headers = {"Idempotent-Replayed": "true"} if done.replayed else None
    return render.respond(fmt, "service_requests", [views.created(done.case, english)],
                          200 if done.replayed else 201, headers)


@router.get("/requests.{format}", response_model=None,
            summary="查询诉求 service requests",
            description="密钥可读的诉求，按提交时间从新到旧：cases:read 为本密钥提交的，cases:read_public 另含"
                        "密钥辖区（area_code）内的（纠纷除外）。只有公开信息：无反映人、电话、地址文字和附件，"
                        "文中电话、身份证号已脱敏；保密诉求只有类别、状态和时间。未给时间默认最近 90 天，"
                        "跨度最多 90 天；每页默认 200 条（page、page_size 扩展）。"
                        "给 service_request_id 时忽略其他条件。"
                        "The cases the key reads, newest first; public information only; the last 90 days unless "
                        "asked; service_request_id overrides the other filters.",
            responses={**ok(list[ServiceRequestOut], "诉求 the requests",
                            "<service_requests><request><service_request_id>…</service_request_id><status>open"
                            "</status><status_notes>已派单</status_notes><service_name>垃圾清运</service_name>"
                            "<service_code>env.garbage</service_code><description>…</description>"
                            "<agency_responsible>玉林北路社区第一网格</agency_responsible><service_notice>…"
                            "</service_notice><requested_datetime>2026-11-05T08:15:30+08:00</requested_datetime>"
                            "<updated_datetime>…</updated_datetime><expected_datetime/><address/><address_id/>"
                            "<zipcode/><lat>30.6283</lat><long>104.052115</long><media_url/></request>"
                            "</service_requests>"),
                       **refusals(400, 403, 429)},
            dependencies=[Jurisdiction])
def list_requests(fmt: FormatPath, client: ReadingKey, uow: Uow, english: English, size: PageSize, page: Page = 1,
                  service_request_id: Annotated[str | None, Query(max_length=4000, description=(
                      "诉求 id，逗号分隔（最多 100 个）ids, comma-delimited"))] = None,
                  service_code: Annotated[str | None, Query(max_length=2000, description=(
                      "服务代码，逗号分隔 service codes, comma-delimited"))] = None,
                  start_date: DateText = None, end_date: DateText = None,
                  status: Annotated[str | None, Query(max_length=20, description=(
                      "open、closed，或逗号分隔的两者 open, closed or both"))] = None) -> Response:
    start, end = service_requests.window(service_requests.when(start_date, "start_date"),
                                         service_requests.when(end_date, "end_date"),
                                         timedelta(days=config.get().window_days))
    codes = [c.strip() for c in service_code.split(",") if c.strip()] if service_code else None
    query = service_requests.Query(ids=service_requests.ids_of(service_request_id), codes=codes, start=start, end=end,
                           wanted=service_requests.wanted_statuses(status), page=page, page_size=size)
    found = service_requests.listed(uow.session, client, query)
    return _requests(fmt, uow, found, english)


@router.get("/requests/{service_request_id}.{format}", response_model=None,
            summary="查询一件诉求 one service request",
            description="与查询诉求相同的内容；不在密钥可读范围内与不存在一样返回 404。The same as in the list; "
                        "out of the key's reach is the same 404 as no such request.",
            responses={**ok(list[ServiceRequestOut], "诉求（一项的列表）the request, in a list of one",
                            "<service_requests><request>…</request></service_requests>"),
                       **refusals(400, 403, 404, 429)},
            dependencies=[Jurisdiction])
def get_request(service_request_id: Annotated[str, Path(max_length=64, description="诉求 id the case's id")],
                fmt: FormatPath, client: ReadingKey, uow: Uow, english: English) -> Response:
    return _requests(fmt, uow, [service_requests.one(uow.session, client, service_request_id)], english)


@router.get("/tokens/{token}.{format}", response_model=None,
            summary="由 token 查询诉求 id a service request id from a token",
            description="本接口立即登记，不返回 token；提交时带了 Idempotency-Key 的，"
                        "可用它作 token 查询所登记诉求的 id（如未收到应答时）。须有 cases:create 或 cases:read。"
                        "Requests are filed at once and no POST "
                        "answers with a token; the Idempotency-Key a POST carried serves as its token.",
            responses={**ok(list[TokenOut], "诉求 id the request's id",
                            "<service_requests><request><service_request_id>…</service_request_id><token>…</token>"
                            "</request></service_requests>"), **refusals(400, 403, 404, 429)},
            dependencies=[Jurisdiction])
def token(token: Annotated[str, Path(max_length=100, description="提交时的 Idempotency-Key the Idempotency-Key")],
          fmt: FormatPath, client: TokenKey, session: SessionDep) -> Response:
    case = service_requests.by_token(session, client, token)
    return render.respond(fmt, "service_requests", [{"service_request_id": case.id, "token": token}])


@router.get("/servicerequestupdates.{format}", response_model=None,
            summary="诉求进展（mySociety 扩展）service request updates (mySociety's extension)",
            description="密钥可读诉求的公开进度，按时间从旧到新；status 为 mySociety 的扩展状态（OPEN、INVESTIGATING、"
                        "ACTION_SCHEDULED、IN_PROGRESS、FIXED、NO_FURTHER_ACTION、CLOSED、CANCELLED、DUPLICATE）。"
                        "未给时间默认最近 24 小时，跨度最多 90 天。The public progress of the cases the key reads, "
                        "oldest first, with mySociety's extended statuses; the last 24 hours unless asked.",
            responses={**ok(list[RequestUpdateOut], "进展 the updates",
                            "<service_requests_updates><request_update><update_id>42</update_id>"
                            "<service_request_id>…</service_request_id><status>INVESTIGATING</status>"
                            "<updated_datetime>2026-11-05T09:00:00+08:00</updated_datetime><description>已派单："
                            "由玉林北路社区第一网格办理</description><media_url/></request_update>"
                            "</service_requests_updates>"), **refusals(400, 403, 429)},
            dependencies=[Jurisdiction])
def request_updates(fmt: FormatPath, client: ReadingKey, uow: Uow, english: English, size: PageSize,
                    page: Page = 1, start_date: DateText = None, end_date: DateText = None) -> Response:
    start, end = service_requests.window(service_requests.when(start_date, "start_date"),
                                         service_requests.when(end_date, "end_date"),
                                         timedelta(hours=config.get().updates_default_hours))
    found = service_requests.updates(uow.session, client, start, end, page, size)
    for case in {case.id: case for _, case, _ in found}.values():
        _record_read(uow, case)
    return render.respond(fmt, "service_requests_updates",
                          [views.update(entry, case, status, english) for entry, case, status in found])


# --------------------------------------------------------------------------- helpers


def _record_read(uow, case) -> None:
    """A confidential case read by a key is an audit entry, as when staff read one (ids only)."""
    if case.confidential:
        uow.audit("read.case", subject_kind="case", subject_id=case.id, detail={"via": "open311"})


def _requests(fmt: Fmt, uow, cases: list, english: bool) -> Response:
    catalogue = cat.current(uow.session)
    for case in cases:
        _record_read(uow, case)
    return render.respond(fmt, "service_requests", [views.request(c, catalogue, english) for c in cases])


ERROR_DOC = {"application/json": {"schema": {"type": "array", "items": ErrorOut.model_json_schema()}},
             "text/xml": {**XML, "example": "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>403"
                                            "</code><description>open311.api_key_invalid: Invalid api_key"
                                            "</description></error></errors>"}}
