"""A person's own preferences and contact details, and their WeChat subscriptions."""

import json

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.keys import BlindIndex

from . import access
from .directory import set_phone
from .models import Recipient, WechatRefusal
from .schemas import ContactsIn, Preferences


def change_preferences(who: Recipient, body: Preferences) -> None:
    who.channels, who.opt_outs = json.dumps(body.channels), json.dumps(sorted(set(body.opt_outs)))
    who.quiet_start, who.quiet_end, who.timezone = body.quiet_start, body.quiet_end, body.timezone
    who.lang, who.sms_daily_limit, who.updated_at = body.lang, body.sms_daily_limit, utcnow()


def change_contacts(who: Recipient, user: User, index: BlindIndex, body: ContactsIn) -> list[str]:
    """Only the fields given change; an empty one removes that contact. A phone only as the policy
    allows (access.check_contact_phone): her own verified phone, never a staff member's. Returns the
    names of the fields given."""
    given = sorted(body.model_fields_set)
    if "phone" in given:
        access.check_contact_phone(user, index, body.phone)
    for name in given:
        if name == "phone":
            set_phone(who, index, body.phone)
        else:
            setattr(who, name, getattr(body, name) or None)
    who.updated_at = utcnow()
    return given


def resume_wechat(session: Session, user_id: str, template_ids: list[str]) -> int:
    """wx.requestSubscribeMessage reports which templates the user accepted: a refusal (43101)
    recorded earlier must not outlive a new authorisation. Returns the refusals cleared."""
    return session.execute(delete(WechatRefusal).where(WechatRefusal.user_id == user_id,
                                                       WechatRefusal.template_id.in_(template_ids))).rowcount
