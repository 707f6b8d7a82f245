"""Who may see and do what in notify: one policy, from the token's role and unit(s).

| what                                  | resident | other staff¹      | supervisor            | admin |
|---------------------------------------|----------|-------------------|-----------------------|-------|
| inbox: list, unread count, mark read  | own      | own               | own                   | own   |
| preferences, WeChat subscriptions     | own      | own               | own                   | own   |
| contacts: read (masked), apps         | own      | own               | own                   | own   |
| contacts: email (a code proves it)⁷   | own      | own               | own                   | own   |
| contacts: phone                       | verified² | 403 (roster's)³  | 403 (roster's)³       | 403³  |
| delivery records of a case            | 403      | 403               | her subtree⁴          | all   |
| delivery records of a dispute⁵        | 403      | 403               | none (empty list)     | all   |
| dead letters: list, requeue           | 403      | 403               | 403                   | all   |
| webhook subscriptions                 | 403      | 403               | 403                   | all   |
| a subscription's deliveries, re-send  | 403      | 403               | 403                   | all   |
| 12345 write-backs: log, re-send⁸      | 403      | 403               | 403                   | all   |
| a unit's digest                       | 403      | her own unit(s)   | her subtree           | all   |
| audit trail (shared/audit_api.py)     | 403      | 403               | her delivery scope⁶   | all   |

¹ operator, grid worker, community staff, street dispatcher, department handler, mediator.
² only the phone she verified at identity (its blind index is the token's `phone_index`), else 422
  notify.phone_not_verified; removing it is always allowed.
³ staff phones come from the roster (the seed) and identity's directory: 403 notify.phone_from_directory.
⁴ the records of a subject some staff member of her subtree was told about (or a unit of it, for a
  digest); a supervisor of the root unit sees every case. Residents' ids in them are shown to admins only
  (保密: staff see the matter, not the person).
⁵ 人民调解法: a dispute's record is the parties', its mediators' and its committee head's (mediation's
  access.py); a supervisor gets 404 from mediation, so notify must not tell her either that a dispute
  exists or who was told about it. Notify cannot apply mediation's policy itself: its events name
  the mediators assigned but not the committee head, nor when a party's account was linked or a
  mediator withdrawn, and no role mediation would admit (a party, a mediator) may read delivery
  records anyway. So they are the admins' alone (who run the channels), as is every subject that is
  neither a case nor a unit's digest (sign-in codes, email contact checks).
⁶ the entries about a message, case or unit whose delivery records she may read (`audit_scope`);
  entries about webhooks, contacts, codes and the rest: admins only.
⁷ a new email is only pending until the code mailed to it comes back (email_checks.py): the email
  channel uses a verified address only, whoever set it; one person's code proves nothing for another.

⁸ what was written back to the 12345 platform about an order, and how it went: the platform's business and
  the admins' who run the link (a supervisor follows the case itself, and its write-backs among its delivery
  records, GET /messages).

Out of scope is never a leak of existence: another person's inbox message is 404, delivery records
out of a supervisor's subtree are an empty list, as for a subject nobody was told about. Provider
callbacks are authenticated by the provider's credential (token, HMAC, signature), not by a user.
"""

from collections import defaultdict

from sqlalchemy import ColumnElement, Table, and_, exists, or_, select, true
from sqlalchemy.orm import Session, aliased

from shared.audit_api import about
from shared.auth import User
from shared.errors import ApiError
from shared.ids import unit_id
from shared.keys import BlindIndex

from .directory import phone_index
from .models import Message, Recipient, Unit

ADMINS = frozenset({"admin"})
DELIVERY_READERS = frozenset({"supervisor", "admin"})
# What a supervisor may follow the delivery of: cases (intake's and routing's events) and the daily
# digests of units (their subject is the unit). Disputes and everything else: admins only (⁵).
SUPERVISED_SUBJECTS = ("case", "unit")


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
    a role that may never read them. A supervisor: the cases staff of her subtree were told about
    (every case for one of the root unit) and her subtree's digests, never a dispute (⁵)."""
    if user.role not in DELIVERY_READERS:
        raise ApiError(403, "auth.forbidden")
    if user.role in ADMINS:
        return None
    kinds = Message.subject_kind.in_(SUPERVISED_SUBJECTS)
    units = subtree(session, user)
    if units is None:
        return kinds
    told = aliased(Message)
    handled = exists(select(told.id).join(Recipient, Recipient.user_id == told.recipient_id).where(
        told.subject_id == Message.subject_id, Recipient.role != "resident", Recipient.unit_id.in_(units)))
    return and_(kinds, or_(Message.subject_id.in_(units), handled))


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
    only (a hotline caller's, "caller:<case id>", too); staff recipients, webhook subscriptions and the
    12345 platform to every reader."""
    if user.role in ADMINS:
        return {m.id for m in rows}
    staff = set(session.scalars(select(Recipient.user_id).where(
        Recipient.user_id.in_({m.recipient_id for m in rows}), Recipient.role != "resident")))
    return {m.id for m in rows if m.channel in ("webhook", "platform") or m.recipient_id in staff}


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The entries of notify's audit trail a reader sees (⁶): admins all; a supervisor those about the
    messages, and the cases or units, whose delivery records she may read; anyone else 403."""
    if user.role in ADMINS:
        return true()
    if user.role != "supervisor":
        raise ApiError(403, "auth.forbidden")
    within = delivery_scope(session, user)
    if within is None:
        return true()
    about_a_message = about(table, "message", select(Message.id).where(within))
    about_its_subject = exists(select(Message.id).where(within, Message.subject_kind == table.c.subject_kind,
                                                        Message.subject_id == table.c.subject_id))
    return or_(about_a_message, about_its_subject)
