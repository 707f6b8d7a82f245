"""Who may see and do what in self-governance. Out of scope is 404, never a hint that a record exists.

- a resident on a community's roster: reads its matters, proposes, seconds, objects; reads its notices
  (counted); rates it once a period and reads its scores.
- the resident who raised a matter: reads it and its timeline, even off the roster.
- community_staff, street_dispatcher: manage the matters of their area (a community its own; a street its
  communities and itself); register and list the roster; publish and correct notices, read their counts.
- supervisor: reads the matters, notices and scores of their area. admin: reads all.
- operator, grid_worker, department_handler, mediator: 404 (lists empty); 403 for the roster and scores.

A staff member's area is the subtree of each unit their token names (paths of selfgov's copy of the
directory, directory.py). Every read of a matter's record (its description, the objections' text) and of the
roster is an entry of the service's audit trail; the trail itself (GET /selfgov/v1/audit) is read by admins,
and by community and street staff the entries about the matters of their area.
"""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, false, or_, select, true
from sqlalchemy.orm import Session

from shared.audit_api import about
from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError
from shared.uow import UnitOfWork

from . import directory, matters, roster
from .models import Area, Matter, Member, Notice

MANAGERS = frozenset({"community_staff", "street_dispatcher"})
READERS = MANAGERS | {"supervisor"}


class Seen(NamedTuple):
    matter: Matter
    capacity: str  # manager | reader | member | raiser


def staff_within(session: Session, user: User) -> tuple[str, ...] | None:
    """The subtrees a staff member reads (None: all, for admins; empty: none)."""
    if user.role == "admin":
        return None
    if user.role not in READERS:
        return ()
    return directory.user_paths(session, user)


def _covers(paths: tuple[str, ...] | None, path: str) -> bool:
    return paths is None or any(path.startswith(p) for p in paths)


def capacity(session: Session, matter: Matter, user: User) -> str | None:
    if user.is_staff:
        paths = staff_within(session, user)
        if paths == () or not _covers(paths, matter.path):
            return None
        return "manager" if user.role in MANAGERS else "reader"
    codes = matters.community_codes(session, matter)
    if any(m.community_code in codes for m in roster.memberships(session, user)):
        return "member"
    return "raiser" if matter.raised_by == user.id else None


def readable(uow: UnitOfWork, matter_id: str, user: User, action: str) -> Seen:
    matter = uow.session.get(Matter, matter_id)
    cap = capacity(uow.session, matter, user) if matter is not None else None
    if cap is None:
        raise ApiError(404, "matter.not_found", field="matter_id")
    uow.audit(action, subject_kind="matter", subject_id=matter.id, detail={"capacity": cap})
    return Seen(matter, cap)


def managing(uow: UnitOfWork, matter_id: str, user: User, action: str) -> Seen:
    seen = readable(uow, matter_id, user, action)
    if seen.capacity != "manager":
        raise ApiError(403, "matter.not_committee")
    return seen


def listed_condition(session: Session, user: User) -> ColumnElement[bool]:
    """The matters a user lists: staff their area's, residents their communities' and their own."""
    if user.is_staff:
        paths = staff_within(session, user)
        if paths is None:
            return true()
        return or_(*[Matter.path.startswith(p, autoescape=True) for p in paths]) if paths else false()
    codes = [m.community_code for m in roster.memberships(session, user)]
    streets = [a.parent_code for a in session.scalars(select(Area).where(Area.code.in_(codes)))] if codes else []
    mine = Matter.raised_by == user.id
    return or_(mine, Matter.community_code.in_(codes),
               (Matter.community_code.is_(None)) & Matter.street_code.in_(streets)) if codes else mine


# ---- communities (roster, notices, scores) -------------------------------------------------------

def community(session: Session, code: str) -> Area:
    area = directory.community(session, code)
    if area is None:
        raise ApiError(404, "community.not_found", field="community_code")
    return area


def managed_community(session: Session, user: User, code: str) -> Area:
    """A community whose roster and notices the user keeps: community or street staff of it."""
    if user.role not in MANAGERS:
        raise ApiError(403, "auth.forbidden")
    area = community(session, code)
    if not _covers(directory.user_paths(session, user), area.path):
        raise ApiError(404, "community.not_yours", field="community_code")  # out of scope is 404
    return area


def staff_reads_community(session: Session, user: User, area: Area) -> bool:
    paths = staff_within(session, user)
    return paths != () and _covers(paths, area.path)


def readable_communities(session: Session, user: User) -> list[str] | None:
    """The communities whose notices and scores a user reads (None: all)."""
    if user.is_staff:
        paths = staff_within(session, user)
        if paths is None:
            return None
        return [a.code for a in directory.communities(session) if _covers(paths, a.path)] if paths else []
    return [m.community_code for m in roster.memberships(session, user)]


def narrowed(allowed: list[str] | None, community_code: str | None) -> list[str] | None:
    """The communities a reader asked for, within those she may read (None: all)."""
    if community_code is None:
        return allowed
    return [community_code] if allowed is None or community_code in allowed else []


def public_now(notice: Notice, now: datetime) -> bool:
    """Within its publication period: what a resident may read (staff read their community's drafts too)."""
    return notice.publish_from <= now < notice.publish_until


def readable_notice(session: Session, user: User, notice_id: str) -> Notice:
    notice = session.get(Notice, notice_id)
    allowed = readable_communities(session, user) if notice is not None else []
    if notice is None or (allowed is not None and notice.community_code not in allowed) \
            or (not user.is_staff and not public_now(notice, utcnow())):
        # A resident opening by its id a notice not yet published, or whose period is over, is told what
        # the list tells her: there is no such notice.
        raise ApiError(404, "notice.not_found", field="notice_id")
    return notice


def managed_notice(session: Session, user: User, notice_id: str) -> Notice:
    notice = readable_notice(session, user, notice_id)
    managed_community(session, user, notice.community_code)
    return notice


def report_scope(session: Session, user: User) -> tuple[str, ...] | None:
    """Outcome figures: community and street staff, supervisors (their area), admins (all); 403 otherwise."""
    if user.role != "admin" and user.role not in READERS:
        raise ApiError(403, "report.forbidden")
    return staff_within(session, user)


def scores_scope(session: Session, user: User) -> list[str] | None:
    """Rating scores: staff who read communities (their area), admins, and residents their own communities."""
    if user.is_staff and user.role != "admin" and user.role not in READERS:
        raise ApiError(403, "auth.forbidden")
    return readable_communities(session, user)


def acting_member(session: Session, user: User, matter: Matter, member_id: str | None, seen: Seen) -> tuple[Member,
                                                                                                            str]:
    """Whose seconding this is: her own roster entry, or — recorded by the committee from a paper signature —
    the member named."""
    if member_id is not None:
        if seen.capacity != "manager":
            raise ApiError(403, "matter.not_committee", field="member_id")
        member = session.get(Member, member_id)
        if member is None or not member.active:
            raise ApiError(404, "member.not_found", field="member_id")
        return member, "in_person"
    if user.is_staff:
        raise ApiError(422, "validation.missing", field="member_id")
    codes = matters.community_codes(session, matter)
    own = next((m for m in roster.memberships(session, user) if m.community_code in codes), None)
    if own is None:
        raise ApiError(403, "member.not_registered", field="community_code")
    return own, "online"


def audit_scope(session: Session, user: User, table: Table) -> ColumnElement[bool]:
    """The entries of selfgov's trail a reader sees: admins all; community and street staff those about the
    matters of their area; anyone else 403."""
    if user.role == "admin":
        return true()
    if user.role not in MANAGERS:
        raise ApiError(403, "auth.forbidden")
    return about(table, "matter", select(Matter.id).where(listed_condition(session, user)))
