"""How mediation reacts to intake's events: a referred dispute, and its withdrawal."""

from functools import partial

from sqlalchemy import select

from shared.events.intake import CaseReferred, CaseWithdrawn
from shared.messaging.dispatcher import Handler, HandlerContext
from shared.runtime import ServiceRuntime

from . import config, disputes
from .models import OPEN_STATUSES, Dispute
from .parties import phone_index
from .schemas import PartyIn

# The reporter's name and phone stay with intake (events carry ids only); the mediator records
# the respondents and any contact details when taking the dispute up.
APPLICANT_PLACEHOLDER = "申请人（来自诉求）"


def on_case_referred(rt: ServiceRuntime, ctx: HandlerContext, event: CaseReferred) -> None:
    if ctx.session.scalar(select(Dispute.id).where(Dispute.case_id == event.case_id)):
        return  # already taken up (a redelivery with another message id)
    dispute_type = event.dispute_type if event.dispute_type in config.get().dispute_types else "other"
    # The reporter's account is the applicant's: intake knows who reported the case.
    applicants = [PartyIn(role="applicant", name=APPLICANT_PLACEHOLDER)] if event.reporter_id else []
    disputes.create(ctx.session, ctx.emit, source="intake", dispute_type=dispute_type, case_id=event.case_id,
                    matter=f"由诉求 {event.case_no}（类别 {event.category}）转入人民调解", party_list=applicants,
                    created_by=event.by_id or event.reporter_id, index=phone_index(rt),
                    applicant_account=(event.reporter_id, "intake") if event.reporter_id else None,
                    lat=event.lat, lon=event.lon, now=event.at)


def on_case_withdrawn(ctx: HandlerContext, event: CaseWithdrawn) -> None:
    dispute = ctx.session.scalar(select(Dispute).where(Dispute.case_id == event.case_id))
    if dispute is None or dispute.status not in OPEN_STATUSES:
        return
    # Only the applicant may withdraw; staff withdrawing the intake case does not end a mediation.
    if not disputes.is_applicant(ctx.session, dispute, event.by_id):
        return
    disputes.withdraw(ctx.session, ctx.emit, dispute, event.by_id, now=event.at)


def handlers(rt: ServiceRuntime) -> dict[str, Handler]:
    return {"intake.case.referred.v1": partial(on_case_referred, rt), "intake.case.withdrawn.v1": on_case_withdrawn}
