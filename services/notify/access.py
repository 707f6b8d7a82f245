"""Who may see and do what in notify: one policy, from the token's role and unit(s).

| what                                  | resident | other staff¹      | supervisor            | admin |
|---------------------------------------|----------|-------------------|-----------------------|-------|
| inbox: list, unread count, mark read  | own      | own               | own                   | own   |
| preferences, WeChat subscriptions     | own      | own               | own                   | own   |
| contacts: read (masked), email, apps  | own      | own               | own                   | own   |
| contacts: phone                       | verified² | 403 (roster's)³  | 403 (roster's)³       | 403³  |
| delivery records of a case or dispute | 403      | 403               | her subtree⁴          | all   |
| dead letters: list, requeue           | 403      | 403               | 403                   | all   |
| webhook subscriptions                 | 403      | 403               | 403                   | all   |
| a unit's digest                       | 403      | her own unit(s)   | her subtree           | all   |
| audit trail (shared/audit_api.py)     | 403      | 403               | all                   | all   |

¹ operator, grid worker, community staff, street dispatcher, department handler, mediator.
² only the phone she verified at identity (its blind index is the token's `phone_index`), else 422
  notify.phone_not_verified; removing it is always allowed.
³ staff phones come from the roster (the seed) and identity's directory: 403 notify.phone_from_directory.
⁴ the records of a subject some staff member of her subtree was told about (or a unit of it, for a
  digest); a supervisor of the root unit sees all. Residents' ids in them are shown to admins only
  (保密: staff see the matter, not the person).

Out of scope is never a leak of existence: another person's inbox message is 404, delivery records
out of a supervisor's subtree are an empty list, as for a subject nobody was told about. Provider
callbacks are authenticated by the provider's credential (token, HMAC, signature), not by a user.
"""

from collections import defaultdict

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, aliased

from shared.auth import User
from shared.errors import ApiError
from shared.ids import unit_id
from shared.keys import BlindIndex

from .directory import phone_index
from .models import Message, Recipient, Unit

ADMINS = frozenset({"admin"})
DELIVERY_READERS = frozenset({"supervisor", "admin"})


def require_admin(user: User) -> None:
    if user.role not in ADMINS:
        raise ApiError(403, "auth.forbidden")


def own_units(user: User) -> set[str]:
    """The ids of every unit of the user's token (staff imported with several units have several)."""
    codes = user.unit_codes or ((user.unit_code,) if user.unit_code else ())
    return {unit_id(code) for code in codes}


def subtree(session: Session, user: User) -> set[str] | None:
    """The ids of the user's units and every unit below them; None for the whole tree (an admin, or
    someone of the root unit)."""
    if user.role in ADMINS:
        return None
    mine = own_units(user)
    children: dict[str | None, list[str]] = defaultdict(list)
    for uid, parent in session.execute(select(Unit.id, Unit.parent_id)):
        if uid in mine and parent is None:
            return None
        children[parent].append(uid)
    found, stack = set(), list(mine)
    while stack:
        uid = stack.pop()
        if uid not in found:
            found.add(uid)
            stack.extend(children.get(uid, ()))
    return found


def delivery_scope(session: Session, user: User) -> ColumnElement[bool] | None:
    """The condition on Message rows a reader of delivery records is limited to (None: all); 403 for
    a role that may never read them."""
    if user.role not in DELIVERY_READERS:
        raise ApiError(403, "auth.forbidden")
    units = subtree(session, user)
    if units is None:
        return None
    told = aliased(Message)
    handled = exists(select(told.id).join(Recipient, Recipient.user_id == told.recipient_id).where(
        told.subject_id == Message.subject_id, Recipient.role != "resident", Recipient.unit_id.in_(units)))
    return or_(Message.subject_id.in_(units), handled)


def check_digest_reader(session: Session, user: User, unit: str) -> None:
    """A unit's digest: its own staff, the supervisors above it, admins."""
    if user.role == "supervisor":
        units = subtree(session, user)
        if units is None or unit in units:
            return
    elif user.role in ADMINS or unit in own_units(user):
        return
    raise ApiError(403, "auth.forbidden")


def inbox_message(session: Session, user: User, message_id: str) -> Message:
    """One of the caller's own inbox messages (anyone else's is 404)."""
    message = session.get(Message, message_id)
    if message is None or message.recipient_id != user.id or message.channel != "inbox":
        raise ApiError(404, "not_found", field="message_id")
    return message


def check_contact_phone(user: User, index: BlindIndex, phone: str | None) -> None:
    """Whether the caller may make `phone` her SMS contact (None or "": remove it)."""
    if user.is_staff:
        raise ApiError(403, "notify.phone_from_directory", field="phone")
    if not phone:
        return
    wanted = phone_index(index, phone)
    if wanted is None:
        raise ApiError(422, "notify.bad_phone", field="phone")
    if user.phone_index is None or wanted != user.phone_index:
        raise ApiError(422, "notify.phone_not_verified", field="phone")


def recipients_shown(session: Session, user: User, rows: list[Message]) -> set[str]:
    """保密: staff see the matter, not the person. The ids of the messages in `rows` whose recipient
    the reader may see: a resident's id (possibly a confidential requester's) is shown to admins
    only; staff recipients and webhook subscriptions to every reader."""
    if user.role in ADMINS:
        return {m.id for m in rows}
    staff = set(session.scalars(select(Recipient.user_id).where(
        Recipient.user_id.in_({m.recipient_id for m in rows}), Recipient.role != "resident")))
    return {m.id for m in rows if m.channel == "webhook" or m.recipient_id in staff}
