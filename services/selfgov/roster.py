"""The residents' roster (居民名册) of each community: who is a resident, which household, who represents.

The community's staff register a resident with the phone she verifies by SMS at identity; the token of a
resident signed in with that phone carries the same keyed hash (`pix`), so selfgov recognises her as that
member without ever storing the number readable. Why a roster of its own: a resident's token names no
community (identity keeps no address), and the thresholds (10 % of the representatives, 50 households) need
the number of representatives and which households are distinct, which only a roster holds.
"""

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.errors import ApiError
from shared.keys import blind_index
from shared.phones import BadPhone, normalise
from shared.runtime import ServiceRuntime

from .models import Member

# A value's keyed hash for a purpose (shared.keys.BlindIndex): "phone" is the one identity puts in tokens.
Index = Callable[[str, str], str]


def indexer(rt: ServiceRuntime) -> Index:
    found = rt.cache.get("selfgov.index")
    if found is None:
        found = rt.cache.setdefault("selfgov.index", blind_index(rt.settings))
    return found


def phone_index(index: Index, phone: str) -> str:
    try:
        return index(normalise(phone, mobile=True), "phone")
    except BadPhone:
        raise ApiError(422, "member.bad_phone", field="phone") from None


def household_index(index: Index, community_code: str, household: str) -> str:
    """Households counted distinct by their address without reading it: spaces and case do not make another."""
    return index(f"{community_code}|{''.join(household.split()).lower()}", "selfgov-household")


def register(session: Session, index: Index, *, community_code: str, name: str, phone: str, household: str,
             building: str | None, representative: bool, by: str) -> Member:
    pix = phone_index(index, phone)
    if session.scalar(select(Member.id).where(Member.community_code == community_code, Member.phone_index == pix)):
        raise ApiError(409, "member.duplicate", field="phone")
    member = Member(community_code=community_code, name=name, phone_index=pix, household=household,
                    household_index=household_index(index, community_code, household), building=building,
                    representative=representative, registered_by=by)
    session.add(member)
    session.flush()
    return member


def memberships(session: Session, user: User) -> list[Member]:
    """The active roster entries of a signed-in resident (her verified phone's), linked to her account on
    first sight so that meeting notices can reach her."""
    if user.role != "resident" or not user.phone_index:
        return []
    found = list(session.scalars(select(Member).where(Member.phone_index == user.phone_index,
                                                      Member.active.is_(True)).order_by(Member.community_code)))
    for m in found:
        if m.user_id != user.id:
            m.user_id = user.id
    return found


def member_of(session: Session, user: User, community_code: str | None) -> Member:
    """Her roster entry in that community; 403 when she has none (the reason says how to get one)."""
    if user.role == "resident" and not user.phone_index:
        raise ApiError(403, "member.phone_unverified")
    found = next((m for m in memberships(session, user) if m.community_code == community_code), None)
    if found is None:
        raise ApiError(403, "member.not_registered", field="community_code")
    return found


def representatives(session: Session, community_codes: list[str]) -> list[Member]:
    return list(session.scalars(select(Member).where(Member.community_code.in_(community_codes),
                                                     Member.representative.is_(True), Member.active.is_(True))
                                .order_by(Member.id)))


def count_representatives(session: Session, community_codes: list[str]) -> int:
    return session.scalar(select(func.count()).select_from(Member).where(
        Member.community_code.in_(community_codes), Member.representative.is_(True), Member.active.is_(True))) or 0


def listed(session: Session, community_code: str) -> list[Member]:
    return list(session.scalars(select(Member).where(Member.community_code == community_code)
                                .order_by(Member.registered_at, Member.id)))
