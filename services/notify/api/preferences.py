from fastapi import APIRouter

from shared.deps import CurrentUser, SessionDep, Uow

from .. import preferences, views
from ..schemas import ContactsIn, ContactsOut, Preferences, WechatSubscriptionsIn
from .deps import IndexDep, Me

router = APIRouter(tags=["偏好 preferences"])


@router.get("/me/preferences", summary="我的通知偏好 my notification preferences")
def get_preferences(who: Me) -> Preferences:
    return views.preferences(who)


@router.put("/me/preferences",
            summary="修改通知偏好：渠道顺序、退订类别、免打扰时段、短信上限 change my preferences")
def put_preferences(body: Preferences, who: Me) -> Preferences:
    preferences.change_preferences(who, body)
    return views.preferences(who)


@router.get("/me/contacts", summary="我的联系方式（脱敏）my contact details, masked")
def get_contacts(who: Me) -> ContactsOut:
    return views.contacts(who)


@router.put("/me/contacts", summary="修改联系方式：只改提供的字段，空字符串表示删除 change my contact details",
            description="短信号码只能是本人在身份服务验证过的手机号（POST /identity/v1/me/phone），否则 422 "
                        "notify.phone_not_verified；工作人员的手机号由人员名册维护（403）。"
                        "The SMS phone must be the one verified at identity; staff phones come from the roster.",
            responses={403: {"description": "工作人员不能在此修改手机号 notify.phone_from_directory"},
                       422: {"description": "notify.phone_not_verified, notify.bad_phone, notify.bad_email, "
                                            "或字段校验错误 or a field's check"}})
def put_contacts(body: ContactsIn, who: Me, user: CurrentUser, uow: Uow, index: IndexDep) -> ContactsOut:
    changed = preferences.change_contacts(who, user, index, body)
    uow.audit("notify.contacts.changed", subject_kind="recipient", subject_id=user.id, detail={"fields": changed})
    return views.contacts(who)


@router.post("/me/wechat-subscriptions",
             summary="小程序订阅授权：用户再次点击订阅后恢复推送 the user subscribed (again) to templates")
def wechat_subscribed(body: WechatSubscriptionsIn, user: CurrentUser, session: SessionDep) -> dict:
    cleared = preferences.resume_wechat(session, user.id, body.template_ids)
    return {"resumed": sorted(set(body.template_ids)), "cleared_refusals": cleared}
