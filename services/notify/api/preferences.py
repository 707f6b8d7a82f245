from fastapi import APIRouter

from shared.db import utcnow
from shared.deps import CurrentUser, SessionDep, Uow

from .. import email_checks, preferences, views
from ..schemas import ContactsIn, ContactsOut, EmailCodeIn, Preferences, WechatSubscriptionsIn
from .deps import EmailChecksDep, IndexDep, Me

router = APIRouter(tags=["偏好 preferences"])


@router.get("/me/preferences", summary="我的通知偏好 my notification preferences")
def get_preferences(who: Me) -> Preferences:
    return views.preferences(who)


@router.put("/me/preferences",
            summary="修改通知偏好：渠道顺序、退订类别、免打扰时段、短信上限 change my preferences")
def put_preferences(body: Preferences, who: Me) -> Preferences:
    preferences.change_preferences(who, body)
    return views.preferences(who)


@router.get("/me/contacts", summary="我的联系方式（脱敏）my contact details, masked",
            description="邮箱分两项：email 为已验证、邮件通知所用的地址，email_pending 为已发送验证码、尚待验证的地址。"
                        "email is the verified address notifications go to; email_pending the one awaiting its code.")
def get_contacts(who: Me, session: SessionDep) -> ContactsOut:
    return views.contacts(who, email_checks.pending(session, who.user_id))


@router.put("/me/contacts", summary="修改联系方式：只改提供的字段，空字符串表示删除 change my contact details",
            description="短信号码只能是本人在身份服务验证过的手机号（POST /identity/v1/me/phone），否则 422 "
                        "notify.phone_not_verified；工作人员的手机号由人员名册维护（403）。"
                        "新邮箱不会立即启用：系统向该地址发送6位验证码（15分钟内有效，错误5次作废），"
                        "提交验证码（POST /me/contacts/email/verify）后才用于发送通知，此前仍使用原已验证的邮箱；"
                        "再次提交同一邮箱即重新发送验证码。每人每小时、每个邮箱每天发送验证码的次数有上限（429）。"
                        "空字符串立即删除邮箱（含待验证的）。"
                        "The SMS phone must be the one verified at identity; staff phones come from the roster. "
                        "A new email is not used at once: a 6-digit code (valid 15 minutes, 5 tries) is mailed to "
                        "it, and only once that code comes back (POST /me/contacts/email/verify) do notifications "
                        "go there; until then the email verified before stays in use. Setting it again mails a new "
                        "code; codes per person an hour and per address a day are limited (429). An empty string "
                        "removes the email, pending or verified, at once.",
            responses={403: {"description": "工作人员不能在此修改手机号 notify.phone_from_directory"},
                       422: {"description": "notify.phone_not_verified, notify.bad_phone, notify.bad_email, "
                                            "未开通邮件通知 notify.email_unavailable, "
                                            "或字段校验错误 or a field's check"},
                       429: {"description": "验证码发送过于频繁（每人、每个邮箱）rate.limited; "
                                            "Retry-After says when a code may be asked for again"}})
def put_contacts(body: ContactsIn, who: Me, user: CurrentUser, uow: Uow, index: IndexDep,
                 checks: EmailChecksDep) -> ContactsOut:
    changes = preferences.change_contacts(uow.session, uow.emit, who, user, index, body, checks, utcnow())
    # Field names and ids only: never an address, never a code.
    if changes.fields:
        uow.audit("notify.contacts.changed", subject_kind="recipient", subject_id=user.id,
                  detail={"fields": changes.fields})
    if changes.email_code is not None:
        uow.audit("notify.contacts.email_requested", subject_kind="recipient", subject_id=user.id,
                  detail={"event_id": changes.email_code})
    return views.contacts(who, email_checks.pending(uow.session, who.user_id))


@router.post("/me/contacts/email/verify", dependencies=[email_checks.verify_limit()],
             summary="提交邮件中的验证码，启用待验证的邮箱 verify the pending email with the code mailed to it",
             description="验证码正确即启用该邮箱（邮件通知只发往已验证的邮箱），并作废待验证状态。每次提交计入尝试次数，"
                         "错误5次验证码作废，过期（15分钟）须重新提交邮箱获取新的验证码。每人每小时的尝试次数另有上限。"
                         "The right code makes the pending address the email notifications go to. Every try counts: "
                         "5 wrong tries burn the code, and an expired one (15 minutes) needs a new code (set the "
                         "email again); tries per person an hour are limited.",
             responses={422: {"description": "验证码不正确 notify.email_code_wrong；已过期 notify.email_code_expired；"
                                             "错误次数过多已作废 notify.email_code_used_up；没有待验证的邮箱 "
                                             "notify.email_code_missing；或字段校验错误 or a field's check"},
                        429: {"description": "尝试过于频繁 rate.limited; Retry-After"}})
def verify_email(body: EmailCodeIn, who: Me, user: CurrentUser, uow: Uow, checks: EmailChecksDep) -> ContactsOut:
    verdict = checks.verify(uow.session, who, body.code, utcnow())
    if verdict.outcome == "verified":
        uow.audit("notify.contacts.email_verified", subject_kind="recipient", subject_id=user.id,
                  detail={"attempts": verdict.attempts})
    else:
        uow.audit("notify.contacts.email_code_refused", subject_kind="recipient", subject_id=user.id,
                  detail={"reason": verdict.outcome, "attempts": verdict.attempts})
    verdict.raise_if_refused()
    return views.contacts(who, email_checks.pending(uow.session, who.user_id))


@router.post("/me/wechat-subscriptions",
             summary="小程序订阅授权：用户再次点击订阅后恢复推送 the user subscribed (again) to templates")
def wechat_subscribed(body: WechatSubscriptionsIn, user: CurrentUser, session: SessionDep) -> dict:
    cleared = preferences.resume_wechat(session, user.id, body.template_ids)
    return {"resumed": sorted(set(body.template_ids)), "cleared_refusals": cleared}
