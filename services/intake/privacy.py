"""Personal data at intake: the keyed hash that finds a caller's phone without storing it readable,
and what of a case's personal data each reader sees.

- A phone is sealed at rest (models.Case.reporter_phone) and found by its blind index (the same
  keyed hash identity puts in a resident's token for her verified phone).
- A confidential case (保密) shows the requester's identity, phone and address text only to the
  reporter and `confidential_identity_roles`; the problem's location (the point) stays visible.
- Phones and ID numbers typed into free text (description, answers, supplements, notes, results)
  are masked for every reader who is neither the reporter nor in `phone_roles`.
- An upload's own file name can say whose it is (门牌_玉林北路88号.png): readers who may not see
  the person get a neutral name instead, others the name with its numbers masked as free text.
- Free text is sealed at rest too (models.py): what is masked here is what a reader sees, not what
  a copy of the database file shows.
"""

from shared.auth import User
from shared.keys import BlindIndex, blind_index
from shared.masking import mask_free_text
from shared.runtime import ServiceRuntime

from . import config
from .access import REQUESTER
from .config import EXTENSIONS
from .models import Attachment, Case

PHONE = "phone"  # the blind index's purpose: the same as identity's for a verified phone


def phone_index(rt: ServiceRuntime) -> BlindIndex:
    """The deployment's keyed hash (CG_INDEX_KEY), built once per runtime."""
    index = rt.cache.get("phone_index")
    if index is None:
        index = rt.cache.setdefault("phone_index", blind_index(rt.settings))
    return index


def masks_free_text(user: User, rel: str) -> bool:
    return rel not in REQUESTER and user.role not in config.get().visibility.phone_roles


def free_text(text: str | None, masked: bool) -> str | None:
    return mask_free_text(text) if masked else text


def free_answers(answers: dict | None, masked: bool) -> dict | None:
    if not masked or not answers:
        return answers
    return {k: mask_free_text(v) if isinstance(v, str) else v for k, v in answers.items()}


def sees_person(case: Case, user: User, rel: str) -> bool:
    """Whether this reader may see who asked and where they live (a confidential case's requester
    only to the reporter and the confidential identity roles)."""
    if rel in REQUESTER:
        return True
    if rel != "staff":
        return False
    return not case.confidential or user.role in config.get().visibility.confidential_identity_roles


def file_name(attachment: Attachment, case: Case, user: User, rel: str, n: int, prefix: str = "附件") -> str | None:
    """The name an upload is shown under to this reader: its own to whoever uploaded it and to readers
    with the need to see the person unmasked; "附件<n>.<ext>" to everyone else. Why not the name with
    its numbers masked: a phone's name carries whatever its owner typed or the camera app wrote —
    a name, a door number, an ID number in any form — and a handler needs the photo, not its name.
    The same for a handler's result photos (`prefix` "办结照片"): her file name may say the address too."""
    if attachment.filename is None:
        return None
    if attachment.owner_id == user.id or (sees_person(case, user, rel) and not masks_free_text(user, rel)):
        return attachment.filename
    return f"{prefix}{n}.{EXTENSIONS.get(attachment.content_type, 'bin')}"


def record_read(audit, case: Case, user: User, via: str) -> None:
    """A member of staff read a confidential case (its page, a list, the hotline lookup, one of its
    files): an audit entry (`audit`: UnitOfWork.audit) with ids only."""
    if case.confidential and user.is_staff:
        audit("read.case", subject_kind="case", subject_id=case.id, detail={"via": via})


def record_download(audit, case: Case, attachment_id: str, kind: str) -> None:
    """Every download of a file of a confidential case (by anyone), audited with ids only."""
    if case.confidential:
        audit("read.attachment", subject_kind="case", subject_id=case.id,
              detail={"attachment_id": attachment_id, "kind": kind})
