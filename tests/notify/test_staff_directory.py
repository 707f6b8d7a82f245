"""Notify's staff follow identity's directory: unit messages reach who works there now."""

from datetime import UTC, datetime

from services.notify.models import Recipient
from shared.events.identity import UserChanged
from shared.ids import unit_id

from .conftest import deliver, messages
from .payloads import escalated

URBAN = "510107900001000"  # 城管: whistled for by payloads.escalated with the environment bureau


def changed(user_id: str, role: str, units: list[str], active: bool = True) -> UserChanged:
    return UserChanged(user_id=user_id, kind="staff", role=role, unit_codes=units, active=active, at=datetime.now(UTC))


def test_a_new_member_is_a_recipient_of_the_unit_and_a_disabled_one_is_not(rt):
    deliver(rt, changed("u-new-street", "street_dispatcher", ["510107001000000"]))
    with rt.uow() as session:
        who = session.get(Recipient, "u-new-street")
        assert who.role == "street_dispatcher" and who.unit_id == unit_id("510107001000000")
        assert who.phone is None  # contact details are the owner's to give, never an event's
    deliver(rt, changed("u-new-street", "street_dispatcher", ["510107001000000"], active=False))
    with rt.uow() as session:
        assert session.get(Recipient, "u-new-street").unit_id is None


def test_a_disabled_department_handler_is_not_whistled_for_any_more(rt):
    deliver(rt, changed("u-department-handler-900001", "department_handler", [URBAN], active=False))
    deliver(rt, escalated())
    told = {m.recipient_id for m in messages(rt)}
    assert "u-department-handler-900005" in told and "u-department-handler-900001" not in told
