"""A person's own preferences and contact details, and their WeChat subscriptions."""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.keys import BlindIndex
from shared.uow import Emit

from . import access, email_checks
from .directory import set_phone
from .email_checks import EmailChecks
from .models import Recipient, WechatRefusal
from .schemas import ContactsIn, Preferences


def change_preferences(who: Recipient, body: Preferences) -> None:
    who.channels, who.opt_outs = json.dumps(body.channels), json.dumps(sorted(set(body.opt_outs)))
    who.quiet_start, who.quiet_end, who.timezone = body.quiet_start, body.quiet_end, body.timezone
    who.lang, who.sms_daily_limit, who.updated_at = body.lang, body.sms_daily_limit, utcnow()


@dataclass(frozen=True)
class ContactChanges:
    fields: list[str]  # the fields changed at once (a new email is not: it awaits its code)
    email_code: str | None  # the id of the code mailed to a new email (its message's event id)


def change_contacts(session: Session, emit: Emit, who: Recipient, user: User, index: BlindIndex, body: ContactsIn,
                    checks: EmailChecks, now: datetime) -> ContactChanges:
    """Only the fields given change; an empty one removes that contact, at once. A phone only as
    the policy allows (access.check_contact_phone): her own verified phone, never a staff member's.
    An email only once proven (email_checks.py): a new one is kept pending and mailed a code."""
    given = sorted(body.model_fields_set)
    if "phone" in given:
        access.check_contact_phone(user, index, body.phone)
    changed, code = [], None
    for name in given:
        if name == "phone":
            set_phone(who, index, body.phone)
        elif name == "email" and body.email:
            code = checks.request(session, emit, who, body.email, now)
            continue
        elif name == "email":
            email_checks.remove(session, emit, who, now)
        else:
            setattr(who, name, getattr(body, name) or None)
        changed.append(name)
    who.updated_at = now
    return ContactChanges(changed, code)


def resume_wechat(session: Session, user_id: str, template_ids: list[str]) -> int:
    """wx.requestSubscribeMessage reports which templates the user accepted: a refusal (43101)
    recorded earlier must not outlive a new authorisation. Returns the refusals cleared."""
    return session.execute(delete(WechatRefusal).where(WechatRefusal.user_id == user_id,
                                                       WechatRefusal.template_id.in_(template_ids))).rowcount
