"""The printable agreement document (调解协议书, HTML in Chinese) from templates/agreement.html."""

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from shared.masking import mask_address, mask_free_text, mask_phone

from . import agreement as agreements
from . import config
from .disputes import active_mediator_ids, parties
from .models import Agreement, Committee, Dispute, Mediator


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined)


_date = agreements.local_date


def render(session: Session, dispute: Dispute, agreement: Agreement, masked: bool = True) -> str:
    """`masked`: contact details, and phone or ID numbers typed into the facts and the terms, masked for every
    reader but the mediators (who print the original)."""
    def text(value: str | None) -> str | None:
        return mask_free_text(value) if masked else value

    people = parties(session, dispute.id)
    names = {p.id: p.name for p in people}
    confirmed = {c.party_id: c for c in agreements.confirmations(session, agreement)}
    methods = {"online": "线上确认", "in_person": "当面签字"}
    committee = session.get(Committee, dispute.committee_id) if dispute.committee_id else None
    mediators = [session.get(Mediator, m).name for m in active_mediator_ids(session, dispute.id)]
    signer = session.get(Mediator, agreement.mediator_signed_by) if agreement.mediator_signed_by else None
    if signer is not None and signer.name not in mediators:  # signed, then replaced: the signature stands
        mediators.append(signer.name)
    return _env().get_template("agreement.html").render(
        dispute=dispute, agreement=agreement, facts=text(agreement.facts),
        type_name=config.get().type_name(dispute.dispute_type),
        parties=[{"role": p.role, "name": p.name, "phone": mask_phone(p.phone) if masked else p.phone,
                  "address": mask_address(p.address) if masked else p.address,
                  "representative_name": p.representative_name,
                  "confirmed_method": methods.get(confirmed[p.id].method) if p.id in confirmed else None,
                  "confirmed_at": _date(confirmed[p.id].at) if p.id in confirmed else None} for p in people],
        terms=[{"obligor": names.get(t.party_id, ""), "obligation": text(t.obligation), "amount": t.amount,
                "due": _date(t.due_at)} for t in agreements.terms(session, agreement.id)],
        mediators=mediators, committee=committee.name if committee else "人民调解委员会",
        mediator_signer=signer.name if signer else None, mediator_signed=_date(agreement.mediator_signed_at),
        sealed=_date(agreement.sealed_at), effective=_date(agreement.effective_at),
        court_deadline=_date(agreement.court_deadline),
    )
