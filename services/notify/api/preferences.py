from fastapi import APIRouter

from shared.deps import CurrentUser, SessionDep

from .. import preferences, views
from ..schemas import ContactsIn, ContactsOut, Preferences, WechatSubscriptionsIn
from .deps import Me

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


@router.put("/me/contacts", summary="修改联系方式：只改提供的字段，空字符串表示删除 change my contact details")
def put_contacts(body: ContactsIn, who: Me) -> ContactsOut:
    preferences.change_contacts(who, body)
    return views.contacts(who)


@router.post("/me/wechat-subscriptions",
             summary="小程序订阅授权：用户再次点击订阅后恢复推送 the user subscribed (again) to templates")
def wechat_subscribed(body: WechatSubscriptionsIn, user: CurrentUser, session: SessionDep) -> dict:
    cleared = preferences.resume_wechat(session, user.id, body.template_ids)
    return {"resumed": sorted(set(body.template_ids)), "cleared_refusals": cleared}
