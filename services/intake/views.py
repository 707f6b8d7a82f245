"""What each reader sees of a case. Reporter identity follows the visibility policy:

- the reporter sees their own case; a follower (它也影响我) sees the matter, never the reporter;
- staff in `identity_roles` see who reported it (the user id), other handlers only a masked phone;
- a confidential case (保密) shows the person and the address text only to
  `confidential_identity_roles` (privacy.sees_person);
- an anonymous report shows nobody the person; the full phone goes only to `phone_roles`;
- phones and ID numbers typed into free text are masked for everyone but the reporter and
  `phone_roles` (privacy.masks_free_text).
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import User
from shared.masking import mask_name, mask_phone

from . import access, config, privacy, timeline
from . import catalogue as cat
from .models import Attachment, Case
from .schemas import AttachmentView, CaseView, DuplicateView, ExternalOrder, Reporter, TimelineView
from .status import label


def reporter_of(case: Case, user: User, rel: str) -> Reporter | None:
    vis = config.get().visibility
    if rel in access.REQUESTER:
        # Masked to her as her phone is: the name came with the number, which may have been given for her.
        return Reporter(user_id=case.reporter_id, phone=mask_phone(case.reporter_phone),
                        name=mask_name(case.requester_name), anonymous=case.anonymous)
    if rel != "staff":
        return None
    if case.anonymous:
        return Reporter(anonymous=True)
    if not privacy.sees_person(case, user, rel):
        return None
    full_phone = user.role in vis.phone_roles
    identity = user.role in vis.identity_roles
    return Reporter(user_id=case.reporter_id if identity else None,
                    phone=case.reporter_phone if full_phone else mask_phone(case.reporter_phone),
                    name=case.requester_name if identity else mask_name(case.requester_name))


def external_of(case: Case, rel: str) -> ExternalOrder | None:
    """The platform's order a case came from: its number to the requester (the platform told her it) and
    staff; its dates and the deadline warning to staff only. Routing's clocks decide the case's deadline:
    the platform's is shown beside routing's result deadline, with a flag when it is the earlier, so staff
    can hurry rather than miss what the platform will count."""
    if case.external_no is None or rel not in (*access.REQUESTER, "staff"):
        return None
    if rel != "staff":
        return ExternalOrder(source=case.external_source, order_no=case.external_no)
    earlier = None
    if case.external_deadline is not None and case.result_deadline is not None:
        earlier = case.external_deadline < case.result_deadline
    return ExternalOrder(source=case.external_source, order_no=case.external_no,
                         received_at=case.external_received_at, deadline=case.external_deadline,
                         result_deadline=case.result_deadline, deadline_earlier=earlier)


def duplicate_view(c, english: bool = False, masked: bool = True) -> DuplicateView:
    """An offer of someone else's case: phones and ID numbers in its text masked unless the reader
    is in the phone roles."""
    return DuplicateView(id=c.case.id, case_no=c.case.case_no, category=c.case.category, status=c.case.status,
                         status_label=label(c.case.status, english),
                         description=privacy.free_text(c.case.description, masked)[:200],
                         distance_m=c.distance_m, similarity=c.similarity, interest_count=c.case.interest_count,
                         created_at=c.case.created_at)


# Timeline entries that carry a reporter's own words (material, evaluation, reasons). A reader who
# is not that case's reporter nor staff — a follower, or the reporter of a case merged into it —
# sees that it happened, not what was said.
PERSONAL_ENTRIES = {
    "supplemented": "反映人补充了材料",
    "evaluated": "已完成回访评价",
    "reopened": "诉求已重启，将再次交由原单位办理",
    "withdrawn": "诉求已撤回",
    # what the reporter asked of the urgency is hers, like her requested_urgency (hidden from followers)
    "urgency_requested": "已记录反映人对紧急程度的请求，由工作人员研判",
    "urgency_decided": "工作人员已研判紧急程度",
}


def _timeline_view(t, own: bool, masked: bool) -> TimelineView:
    text = t.text if own or t.kind not in PERSONAL_ENTRIES else PERSONAL_ENTRIES[t.kind]
    return TimelineView(at=t.at, kind=t.kind, text=privacy.free_text(text, masked), public=t.public)


def attachment_view(a: Attachment, filename: str | None) -> AttachmentView:
    """An upload under the name its reader sees (privacy.file_name; its owner's own name to her)."""
    return AttachmentView(id=a.id, content_type=a.content_type, size=a.size, filename=filename,
                          has_thumbnail=a.thumb_path is not None)


def case_view(session: Session, case: Case, user: User, rel: str, catalogue: cat.Catalogue | None = None, *,
              english: bool = False, full: bool = True, first_entries=None, with_files: bool = False) -> CaseView:
    """The case as this reader may see it. `full`: with its timeline and attachments (a list shows
    neither; a new submission shows `first_entries`, what it has just written, and with `with_files` the
    files it has just attached: a client showing the answer must not tell her that her photo was dropped)."""
    if catalogue is None:
        catalogue = cat.current(session)
    node = catalogue.nodes.get(case.category)
    shown = case
    parent = session.get(Case, case.parent_case_id) if case.parent_case_id else None
    if parent is not None:
        shown = parent  # a merged case follows its parent's status and outcome
    entries = []  # (entry, the reader may see its personal text)
    attachments = []
    staff = rel == "staff"
    own = rel in (*access.REQUESTER, "staff")  # a follower sees the matter, not the reporter's own material
    if full:
        entries = [(t, own) for t in timeline.entries(session, case.id, include_internal=staff)]
        if parent is not None:
            entries += [(t, staff) for t in timeline.entries(session, parent.id, include_internal=staff)]
            entries.sort(key=lambda e: (e[0].at, e[0].id))
    elif first_entries is not None:
        entries = [(t, own) for t in first_entries]
    if own and (full or with_files):
        # The requester's material and the handler's result photos alike: to the requester and staff in
        # scope, never to a follower (she sees the matter; the files are the requester's case's).
        attachments = session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                      .order_by(Attachment.created_at, Attachment.id)).all()
    material = [a for a in attachments if a.purpose != "result"]
    results = [a for a in attachments if a.purpose == "result"]
    status = shown.status if parent is not None else case.status
    masked = privacy.masks_free_text(user, rel)
    return CaseView(
        id=case.id, case_no=case.case_no, status=status, status_label=label(status, english),
        appeal_type=case.appeal_type, category=case.category,
        category_name=(node.name_en if english else node.name) if node else case.category,
        matter_class=case.matter_class, route=case.route, description=privacy.free_text(case.description, masked),
        urgency=case.urgency, requested_urgency=case.requested_urgency if own else None,
        channel=case.channel, lat=case.lat, lon=case.lon, coord_system=case.coord_system, orig_lat=case.orig_lat,
        orig_lon=case.orig_lon, address=case.address if own and privacy.sees_person(case, user, rel) else None,
        unit_name=shown.unit_name, confidential=case.confidential,
        answers=privacy.free_answers(case.answers, masked) if own else None, interest_count=shown.interest_count,
        parent_case_no=parent.case_no if parent else None, outcome=shown.outcome,
        result_text=privacy.free_text(shown.result_text, masked),
        reporter=reporter_of(case, user, rel), relation=rel, can=access.abilities(session, case, user, rel),
        created_at=case.created_at, updated_at=case.updated_at,
        timeline=[_timeline_view(t, may_see, masked) for t, may_see in entries],
        attachments=[attachment_view(a, privacy.file_name(a, case, user, rel, n))
                     for n, a in enumerate(material, 1)],
        result_attachments=[attachment_view(a, privacy.file_name(a, case, user, rel, n, prefix="办结照片"))
                            for n, a in enumerate(results, 1)],
        praised_unit_code=case.praised_unit_code, external=external_of(case, rel),
    )


def catalogue_doc(c: cat.Catalogue) -> dict:
    """A catalogue version as published, with its number."""
    return {**c.doc, "version": c.version}
