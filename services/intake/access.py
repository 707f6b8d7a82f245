"""Who may see and do what: one policy, from the token's role and all of its units, applied in the
queries (lists, lookups) and to single cases (reads, every change, files).

- resident: those she reported; those staff filed for her by phone (the caller's phone is her
  verified one, never an anonymous report: relation `filed_for_you`); those she joined.
- operator: those she filed; other callers' cases only through the hotline lookup by phone (audited).
- grid_worker, department_handler: those a work order of which (lead or assisting) is or was held
  at or below one of her units.
- community_staff, street_dispatcher, supervisor: the same, and those located in her area (the
  path routing gave of the finest unit whose area holds the case's point: its street, or its
  community or grid when the map has them).
- admin: all. mediator: none (disputes are mediation's).

Staff also reach the cases they filed themselves. Out of scope is "not found" (404), never a hint
that the case exists; a role that may never do a thing is refused (403). The rules of each change
(who may withdraw, reopen, evaluate ...) sit with the change itself; `abilities` tells a reader in
advance which of them they may use.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, and_, false, func, literal, or_, select, true
from sqlalchemy.orm import Session

from shared import phones
from shared.audit_api import about
from shared.auth import ApiClient, User
from shared.db import utcnow
from shared.errors import ApiError
from shared.ids import unit_id

from . import config
from .models import Attachment, Case, CaseUnit, Evaluation, Follower
from .status import FINISHED, STATUSES

# Staff who see cases by the units that hold or held their work orders.
UNIT_ROLES = frozenset({"grid_worker", "community_staff", "street_dispatcher", "department_handler", "supervisor"})
# ... and also by where the case is (the street routing located it in).
AREA_ROLES = frozenset({"community_staff", "street_dispatcher", "supervisor"})


class CaseAccess(NamedTuple):
    case: Case
    relation: str  # reporter, filed_for_you, follower (它也影响我) or staff


# The requester's relations: she filed it herself, or staff filed it for her by her phone. Both read
# it as hers (her own material, her address, her files) and are called back about it; see
# `abilities` for what only the one who filed it herself may do.
REQUESTER = frozenset({"reporter", "filed_for_you"})


def _codes(user: User) -> tuple[str, ...]:
    """All of a user's units: staff imported with several have each in the token."""
    codes = [*user.unit_codes, *([user.unit_code] if user.unit_code else [])]
    # Unit codes are digits; anything else in a token matches nothing rather than a pattern.
    return tuple(dict.fromkeys(c for c in codes if c and c.isalnum()))


def _on_path(column, codes: tuple[str, ...]) -> ColumnElement[bool]:
    """A path ("/district/street/community/grid/") passes through one of these units."""
    return or_(*[column.contains(f"/{code}/", autoescape=True) for code in codes])


def is_reporter(case: Case, user: User) -> bool:
    """Whether she filed it herself (signed in, not on someone's behalf)."""
    return case.reporter_id is not None and case.reporter_id == user.id


def filed_for(case: Case, user: User) -> bool:
    """Whether staff filed it for her: on someone's behalf (no reporter account), under the caller's
    phone, and that phone is her own verified one. Never an anonymous report (it keeps no index)."""
    return (user.role == "resident" and user.phone_index is not None and case.reporter_id is None
            and not case.anonymous and case.reporter_phone_index is not None
            and case.reporter_phone_index == user.phone_index)


def is_requester(case: Case, user: User) -> bool:
    """Whose matter it is: who filed it, or the caller it was filed for."""
    return is_reporter(case, user) or filed_for(case, user)


def _requested_by(user: User) -> ColumnElement[bool]:
    own = Case.reporter_id == user.id
    if user.role != "resident" or not user.phone_index:
        return own
    return or_(own, and_(Case.reporter_id.is_(None), Case.reporter_phone_index == user.phone_index,
                         Case.anonymous.is_(False)))


def staff_scope(user: User) -> ColumnElement[bool]:
    """The cases a staff member reaches, as a condition on Case."""
    if user.role == "admin":
        return true()
    if user.role == "operator":
        return Case.created_by_id == user.id
    if user.role not in UNIT_ROLES:
        return false()  # a mediator: intake's cases are none of hers
    reach = [Case.created_by_id == user.id]
    codes = _codes(user)
    if codes:
        held = select(CaseUnit.case_id).where(or_(_on_path(CaseUnit.unit_path, codes),
                                                  CaseUnit.unit_id.in_([unit_id(c) for c in codes])))
        reach.append(Case.id.in_(held))
        if user.role in AREA_ROLES:
            reach.append(_on_path(Case.area_path, codes))
    return or_(*reach)


def scope(user: User) -> ColumnElement[bool]:
    """Every case this user may list or read."""
    if user.is_staff:
        return staff_scope(user)
    followed = select(Follower.case_id).where(Follower.user_id == user.id)
    return or_(_requested_by(user), Case.id.in_(followed))


# Who reads the reports: those answerable for an area (its community, its street, the district's
# supervisors) and admins. A department or a grid worker reads its own work, not an area's figures.
REPORT_READERS = AREA_ROLES | {"admin"}


def check_report_reader(user: User) -> None:
    if user.role not in REPORT_READERS:
        raise ApiError(403, "auth.forbidden")


def report_scope(user: User) -> ColumnElement[bool]:
    """The cases a report counts: those located in the reader's area (every case for an admin)."""
    if user.role == "admin":
        return true()
    codes = _codes(user)
    return _on_path(Case.area_path, codes) if user.role in AREA_ROLES and codes else false()


def in_staff_scope(session: Session, case: Case, user: User) -> bool:
    if user.role == "admin":
        return True
    return session.scalar(select(literal(1)).where(Case.id == case.id, staff_scope(user))) is not None


def _own_relation(case: Case, user: User) -> str | None:
    if is_reporter(case, user):
        return "reporter"
    if filed_for(case, user):
        return "filed_for_you"
    return None


def relation(session: Session, case: Case, user: User) -> str | None:
    if (own := _own_relation(case, user)) is not None:
        return own
    if user.is_staff:
        return "staff" if in_staff_scope(session, case, user) else None
    if session.get(Follower, (case.id, user.id)) is not None:
        return "follower"
    return None


def readable(session: Session, case: Case | None, user: User, field: str = "case_id") -> CaseAccess:
    # Anyone else: "not found" rather than reveal that it exists.
    rel = relation(session, case, user) if case is not None else None
    if rel is None:
        raise ApiError(404, "case.not_found", field=field)
    return CaseAccess(case, rel)


def joinable(case: Case | None, user: User) -> Case:
    """Joining is how a resident reaches a case found by the duplicate lookup: they need not be its
    reader yet, but they only learn what the duplicate list shows. A confidential case is never
    offered to other residents: it cannot be joined either, and "not found" does not reveal it."""
    if case is None or (case.confidential and not is_requester(case, user)):
        raise ApiError(404, "case.not_found", field="case_id")
    if user.is_staff:
        raise ApiError(403, "auth.forbidden")
    return case


def readable_attachment(session: Session, attachment: Attachment | None, user: User) -> tuple[Attachment, Case | None]:
    """The owner's own uploads, and the files of a case its requester or staff in scope read (her material
    and the handler's result photos alike); with the case it belongs to (its downloads are audited when it
    is confidential)."""
    if attachment is None:
        raise ApiError(404, "attachment.not_found")
    case = session.get(Case, attachment.case_id) if attachment.case_id is not None else None
    if attachment.owner_id == user.id:
        return attachment, case
    rel = relation(session, case, user) if case is not None else None
    # A follower is not served: the reporter's photos are theirs, not every neighbour's who joined; nor the
    # result photos, which show her door or her flat as often as the street.
    if rel not in (*REQUESTER, "staff"):
        raise ApiError(404, "attachment.not_found")
    return attachment, case


def order_kind(case: Case) -> str:
    """What the case's work orders are for, as routing decides it from what intake sent (routing's
    dispatch.kind_of; shared/events/routing.py OrderKind): 表扬 praise and 建议 suggestion by appeal type, a
    private matter (私事, sent as `guidance`) guidance, anything else work."""
    if case.appeal_type == "表扬":
        return "praise"
    if case.appeal_type == "建议":
        return "suggestion"
    return "guidance" if case.matter_class == "私事" else "work"


def is_evaluable_kind(case: Case) -> bool:
    """The callback evaluation (回访) is of handled work: a praise is only passed on, a suggestion or a 私事
    is answered, not handled; none opens a callback window or may be rated."""
    return order_kind(case) == "work"


def reopen_refusal(case: Case, now: datetime | None = None) -> str | None:
    """Why the case cannot be reopened now (an error code), or None: the one rule changes.reopen enforces
    and `abilities` shows, so `can.reopen` never promises what the endpoint refuses. A case is reopened from
    a result (`resolved_at`: resolved, or a suggestion's or 私事's answer) within the window; a praise, say,
    closed without one, is not."""
    cfg = config.get()
    if case.status not in cfg.reopenable_statuses or case.resolved_at is None:
        return "case.cannot_reopen"
    if (now or utcnow()) > case.resolved_at + timedelta(days=cfg.reopen_window_days):
        return "case.reopen_window_passed"
    if case.reopen_count >= cfg.max_reopens:
        return "case.reopen_limit"
    return None


def abilities(session: Session, case: Case, user: User, rel: str) -> dict[str, bool]:
    """What this reader may do with the case now (the `can` of its view).

    A case staff filed for her phone (`filed_for_you`) is her matter: she adds material, is called
    back and rates it, and reopens it when not satisfied, as the one who filed it herself would.
    She does not withdraw it: she did not file it, and whoever called, wrote or came in may have
    given her number for a matter of their own (a relative's, a neighbour's, a number misheard);
    withdrawing ends that matter for them, and cannot be undone. She asks through the door it came
    in, and the staff member who filed it (or an operator, an admin) withdraws it on her word,
    recorded under their name (changes.withdraw)."""
    cfg = config.get()
    reporter = rel == "reporter"
    requester = rel in REQUESTER
    evaluable = (case.status in cfg.evaluable_statuses and (requester or user.role == "operator")
                 and is_evaluable_kind(case))
    if evaluable:
        evaluable = session.scalar(select(Evaluation.id).where(Evaluation.case_id == case.id,
                                                               Evaluation.work_order_id == case.work_order_id)) is None
    return {
        "withdraw": reporter and case.status in cfg.withdrawable_statuses and case.interest_count <= 1,
        "supplement": (requester or rel == "staff") and case.status not in FINISHED,
        "reopen": requester and reopen_refusal(case) is None,
        "evaluate": evaluable,
        "join": rel not in (*REQUESTER, "follower") and not user.is_staff and case.status not in FINISHED,
    }


def listed_cases(session: Session, user: User, *, status: str | None, page: int, page_size: int,
                 urgency_requested: bool | None = None, external_no: str | None = None) -> tuple[list[CaseAccess], int]:
    """A page of the user's list: the cases in their scope (see the table above); with
    `urgency_requested`, those whose requester asked for a higher urgency staff have not decided on
    yet (or, false, those without such a request); with `external_no`, the case another platform's order
    of that number became (within the scope all the same: a number finds nothing out of reach)."""
    if status is not None and status not in STATUSES:
        raise ApiError(422, "validation.not_allowed", field="status")
    query = select(Case).where(scope(user))
    if external_no is not None:
        query = query.where(Case.external_no == external_no)
    if status:
        query = query.where(Case.status == status)
    if urgency_requested is not None:
        query = query.where(Case.requested_urgency.is_not(None) if urgency_requested
                            else Case.requested_urgency.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Case.created_at.desc(), Case.id)
                           .offset((page - 1) * page_size).limit(page_size))
    listed = [CaseAccess(c, _own_relation(c, user) or ("staff" if user.is_staff else "follower")) for c in rows]
    return listed, total


def check_phone_reader(user: User) -> None:
    if user.role not in config.get().visibility.phone_roles:
        raise ApiError(403, "auth.forbidden")


def caller_cases(session: Session, user: User, phone: str, index, limit: int = 50) -> list[Case]:
    """A hotline caller's earlier cases, for the roles that see phone numbers: found by the keyed
    hash of the number (`index`: shared.keys.BlindIndex), the number itself being sealed."""
    check_phone_reader(user)
    try:
        number = phones.normalise(phone)
    except phones.BadPhone:
        raise ApiError(422, "case.bad_phone", field="phone") from None
    # Anonymous reports are left out (and have no index): listing one under the caller's number
    # would name its reporter. A caller who refused consent left no number to find.
    return list(session.scalars(select(Case).where(Case.reporter_phone_index == index(number, "phone"),
                                                   Case.anonymous.is_(False))
                                .order_by(Case.created_at.desc()).limit(limit)))


def check_merger(user: User) -> None:
    if user.role not in config.get().merge_roles:
        raise ApiError(403, "auth.forbidden")


def check_catalogue_editor(user: User) -> None:
    if user.role not in config.get().catalogue_editor_roles:
        raise ApiError(403, "auth.forbidden")


def check_knowledge_editor(user: User) -> None:
    """The knowledge base is the hotline centre's: its supervisors and admins edit it (policy.json
    `knowledge_editor_roles`); every staff member reads it."""
    if user.role not in config.get().knowledge_editor_roles:
        raise ApiError(403, "auth.forbidden")


# --------------------------------------------------------------------------- the 12345 platform's key

# The scope of identity's API keys that imports the 12345 platform's work orders (imports.py) and reads
# back what that key imported. Nothing else: a key with only this scope files no Open311 request and reads
# no other case, and an Open311 key imports nothing.
IMPORT_SCOPE = "hotline:import"
# The channel imported orders are filed on: the platform's orders are calls and messages to the hotline.
IMPORT_CHANNELS = frozenset({"hotline"})


def require_import(client: ApiClient) -> None:
    """403 unless the key may import the platform's orders."""
    if not client.allows(IMPORT_SCOPE):
        raise ApiError(403, "hotline.scope", field="X-API-Key", detail=IMPORT_SCOPE)


def importer(client: ApiClient) -> User:
    """Who a key imports as in intake's rules: an operator filing for a caller on the hotline (consent for
    her phone, no reporter account, the caller's phone the case's owner), named `key:<id>` as the audit
    trail names the key, so its cases are the ones it created."""
    return User(id=f"key:{client.key_id}", role="operator")


def imported_by(client: ApiClient, source: str) -> ColumnElement[bool]:
    """The cases a key reads back: those it imported from the platform (a renewed key reads its own imports,
    not its predecessor's). Staff find every imported case in their scope with GET /cases?external_no=."""
    require_import(client)
    return and_(Case.created_by_id == importer(client).id, Case.external_source == source)


# --------------------------------------------------------------------------- the audit trail


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The entries of intake's audit trail a reader sees (GET /intake/v1/audit): admins all; a
    supervisor those about the cases in her scope (`staff_scope`); entries about anything else
    (callers, retention, the catalogue, the knowledge base, the trail itself) are the admins'.
    Anyone else: 403."""
    if user.role == "admin":
        return true()
    if user.role != "supervisor":
        raise ApiError(403, "auth.forbidden")
    return about(table, "case", select(Case.id).where(staff_scope(user)))


def refusal_conceals(session: Session, user: User, kind: str | None, subject_id: str) -> bool:
    """Whether a refusal on this subject names the resident by her pseudonym (shared/audit_api.py): it
    is her own anonymous or confidential case, refused before the endpoint looked at it (a staff-only
    act, say). Naming her there would tie her to the case."""
    if kind != "case":
        return False
    case = session.get(Case, subject_id)
    return case is not None and conceals(user, case.anonymous, case.confidential, _own_relation(case, user))


def conceals(user: User, anonymous: bool, confidential: bool, relation: str | None = "reporter") -> bool:
    """Whether the audit trail names this user by her pseudonym (shared.uow.UnitOfWork.conceal_actor):
    a resident acting on her own anonymous or confidential case (filing, reading, supplementing,
    withdrawing, evaluating, downloading its files), so that the trail's readers do not learn who she is."""
    return user.role == "resident" and relation in REQUESTER and (anonymous or confidential)
