"""Who may see and do what in notify.

Everyone reads and changes only their own inbox, preferences and contacts (the queries filter
by the caller). Delivery states are for staff, with a resident's identity for admins only; the
dead-letter queue and webhook subscriptions are for admins; a unit's digest for its own staff,
supervisors and admins.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.errors import ApiError
from shared.ids import unit_id

from .models import Message, Recipient


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise ApiError(403, "auth.forbidden")


def check_digest_reader(user: User, unit: str) -> None:
    own = unit_id(user.unit_code) if user.unit_code else None
    if own != unit and user.role not in ("supervisor", "admin"):
        raise ApiError(403, "auth.forbidden")


def inbox_message(session: Session, user: User, message_id: str) -> Message:
    """One of the caller's own inbox messages (anyone else's is 404)."""
    message = session.get(Message, message_id)
    if message is None or message.recipient_id != user.id or message.channel != "inbox":
        raise ApiError(404, "not_found", field="message_id")
    return message


def recipients_shown(session: Session, user: User, rows: list[Message]) -> set[str]:
    """保密: staff see the matter, not the person. The ids of the messages in `rows` whose recipient
    the reader may see: a resident's id (possibly a confidential requester's) is shown to admins
    only; staff recipients and webhook subscriptions to every staff member."""
    if user.role == "admin":
        return {m.id for m in rows}
    staff = set(session.scalars(select(Recipient.user_id).where(
        Recipient.user_id.in_({m.recipient_id for m in rows}), Recipient.role != "resident")))
    return {m.id for m in rows if m.channel == "webhook" or m.recipient_id in staff}
