"""The recipient directory: who a user id is on each channel, and who supervises a unit.

Contact details are notify's own data: staff phones from the seed (the deployment's roster), a
resident's from her own PUT /me/contacts, and only the phone she verified at identity; an email
from the roster, or one its owner proved by the code mailed to it (email_checks.py). A phone is
always stored with its blind index (`set_phone`), which is how a delivery report naming only the
number finds its recipient.
"""

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.config import local_zone
from shared.db import utcnow
from shared.ids import unit_id
from shared.keys import BlindIndex, blind_index
from shared.phones import BadPhone, normalise
from shared.runtime import ServiceRuntime

from .config import Rules
from .models import Recipient, Unit

INDEX_KEY = "notify.index"
SMS_DAILY_LIMIT = 10  # SMS of one template a day to one number, unless the person chose another


def index_of(rt: ServiceRuntime) -> BlindIndex:
    """The deployment's blind index (CG_INDEX_KEY), read once per runtime."""
    found = rt.cache.get(INDEX_KEY)
    if found is None:
        found = rt.cache[INDEX_KEY] = blind_index(rt.settings)
    return found


def phone_index(index: BlindIndex, phone: str | None) -> str | None:
    """The keyed hash of a mobile number in E.164, as identity puts a verified phone in a token
    (`User.phone_index`); None for no number or one that is not a mobile number."""
    if not phone:
        return None
    try:
        return index(normalise(phone, mobile=True), "phone")
    except BadPhone:
        return None


def set_phone(who: Recipient, index: BlindIndex, phone: str | None) -> None:
    """The number (sealed at rest) and its blind index, always together."""
    who.phone, who.phone_index = phone or None, phone_index(index, phone)


def new_recipient(rules: Rules, user_id: str, role: str, unit_code: str | None) -> Recipient:
    """Someone with the default preferences: their role's channels, quiet 22:00–07:00 in the
    deployment's time zone, at most 10 SMS of one template a day; no contact details yet."""
    return Recipient(user_id=user_id, role=role, unit_id=unit_id(unit_code) if unit_code else None, phone=None,
                     phone_index=None, lang="zh", channels=json.dumps(rules.channels_for(role)), opt_outs="[]",
                     quiet_start="22:00", quiet_end="07:00", timezone=local_zone().key, sms_daily_limit=SMS_DAILY_LIMIT,
                     updated_at=utcnow())


def recipient_for(session: Session, rules: Rules, user: User) -> Recipient:
    """The user's directory entry; a user the directory has not seen (signed up after the seed)
    starts from the defaults."""
    who = session.get(Recipient, user.id)
    if who is None:
        who = new_recipient(rules, user.id, user.role, user.unit_code)
        session.add(who)
    return who


def staff_of(session: Session, unit_ids: list[str]) -> list[str]:
    if not unit_ids:
        return []
    rows = session.scalars(select(Recipient.user_id).where(Recipient.unit_id.in_(unit_ids),
                                                           Recipient.role != "resident"))
    return sorted(rows)


def supervisors_of(session: Session, rules: Rules, unit: str | None) -> list[str]:
    """The staff with a supervising role in the nearest unit above `unit` that has any."""
    seen = set()
    current = session.get(Unit, unit) if unit else None
    while current is not None and current.parent_id and current.parent_id not in seen:
        seen.add(current.parent_id)
        found = session.scalars(select(Recipient.user_id).where(
            Recipient.unit_id == current.parent_id, Recipient.role.in_(rules.supervisor_roles))).all()
        if found:
            return sorted(found)
        current = session.get(Unit, current.parent_id)
    return []


def user_changed(session: Session, rules: Rules, *, user_id: str, role: str, unit_codes: list[str],
                 active: bool) -> None:
    """identity's directory changed someone: their role and unit decide which unit messages reach
    them; a disabled user hears no more of any unit (their own messages stay in their inbox)."""
    unit_code = unit_codes[0] if unit_codes and active else None
    who = session.get(Recipient, user_id)
    if who is None:
        if active:
            session.add(new_recipient(rules, user_id, role, unit_code))
        return
    who.role, who.unit_id, who.updated_at = role, unit_id(unit_code) if unit_code else None, utcnow()
