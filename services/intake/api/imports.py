"""The 12345 platform's work orders: the batch import and reading back an imported order, for the platform's
identity API key (X-API-Key, scope `hotline:import`; a person's token opens nothing here). Staff find the
same cases in their scope with GET /cases?external_no=."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from shared.auth import ApiClient, CurrentApiClient
from shared.deps import English, SessionDep, Uow
from shared.ratelimit import LimiterDep, client_address

from .. import access, imports
from ..schemas import ORDER_NO, HotlineBatch, ImportedOrderView, ImportResult
from .deps import PhoneIndex

router = APIRouter(tags=["12345 平台工单 hotline platform"])

KEY_ANSWERS = {
    403: {"description": "该密钥没有 hotline:import 权限范围 the key lacks the hotline:import scope"},
}


def importing_key(request: Request, client: CurrentApiClient, limiter: LimiterDep) -> ApiClient:
    """The platform's key, allowed to import, within its limits (per key, and per address above it)."""
    access.require_import(client)
    limiter.hit("intake.hotline.import", "600/hour", f"k:{client.key_id}")
    limiter.hit("intake.hotline.import.address", "1200/hour", f"a:{client_address(request)}")
    return client


def reading_key(client: CurrentApiClient, limiter: LimiterDep) -> ApiClient:
    access.require_import(client)
    limiter.hit("intake.hotline.read", "600/minute", f"k:{client.key_id}")
    return client


ImportingKey = Annotated[ApiClient, Depends(importing_key)]
ReadingKey = Annotated[ApiClient, Depends(reading_key)]


@router.post("/hotline/orders/import", response_model=ImportResult,
             summary="导入 12345 平台工单（批量）import a batch of the 12345 platform's work orders",
             description="需要 API 密钥（X-API-Key）及 hotline:import 权限范围。每批最多 500 条、请求体不超过 "
                         "8 MB。每条工单按本平台的受理规则登记为热线诉求（类别对照见配置 hotline_import.json，"
                         "坐标须注明坐标系并在服务范围内，电话须有本人同意）：逐行返回 created（新建）、already"
                         "（此前已导入，返回当时的诉求，不作任何改动）或 error（错误代码、说明、字段）。有错的行"
                         "不影响其他行；同一工单编号只建一件诉求，整批重发不会重复登记。平台的办理时限只作提示，"
                         "本平台的时限以派单服务为准。"
                         " Each row becomes a hotline case under every rule of a submission; the answer says for each "
                         "row created, already (imported before: its case, nothing changed) or error (code, message, "
                         "field). A bad row never blocks the others; re-sending a batch creates nothing twice.",
             responses=KEY_ANSWERS)
def import_orders(body: HotlineBatch, client: ImportingKey, uow: Uow, english: English,
                  index: PhoneIndex) -> ImportResult:
    result = imports.import_batch(uow.session, uow.emit, client, body.orders, index, english)
    # The batch as one entry besides each case's own (its intake.case.submitted): counts and the refused
    # rows' positions and codes; order numbers are identifiers, never personal data.
    uow.audit("intake.hotline.imported", subject_kind="import", detail={
        "source": result.source, "total": result.total, "created": result.created, "already": result.already,
        "errors": [{"index": r.index, "order_no": r.order_no, "code": r.error.code}
                   for r in result.rows if r.error is not None]})
    return result


@router.get("/hotline/orders/{order_no}", response_model=ImportedOrderView,
            summary="查询本密钥导入的工单的办理情况 an order this key imported, and its case's progress",
            description="只能查询本密钥导入的工单（其他返回 404）；只含诉求编号、状态、办理单位和结果，不含个人信息。"
                        " Only orders this key imported (else 404); status, unit and outcome, never a person.",
            responses={**KEY_ANSWERS, 404: {"description": "本密钥未导入该工单 no such order imported by this key"}})
def imported_order(order_no: Annotated[str, Path(pattern=ORDER_NO, max_length=64, description="平台工单编号")],
                   client: ReadingKey, session: SessionDep, english: English) -> ImportedOrderView:
    return ImportedOrderView(**imports.order_view(imports.imported_order(session, client, order_no), english))
