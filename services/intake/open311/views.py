"""What Open311 shows: intake's catalogue as services and service definitions, a case as a service request,
its public timeline as mySociety's request updates — every one a dict in the specification's element order
(render.py turns it into JSON or XML).

Nothing of a person: no reporter, no phone, no address text (sealed personal data: it may name a home), no
files; phones and ID numbers typed into the description, the result or the timeline are masked
(shared.masking, as for a neighbour following the case); a confidential case or a dispute shows only its
category, status and dates (access.shows_matter).
"""

from .. import privacy
from ..catalogue import Catalogue, Category
from ..models import Case, TimelineEntry
from ..schemas import Question
from ..status import label
from ..views import PERSONAL_ENTRIES
from . import statuses
from .access import shows_matter
from .render import w3c

# Intake's answer types as GeoReport v2 datatypes. A yes/no question has no datatype of its own in the
# specification: it is a single-value list of true and false.
DATATYPES = {"text": "text", "number": "number", "bool": "singlevaluelist", "choice": "singlevaluelist"}
COORDINATE_DIGITS = 6  # about 0.1 m: the point as stored, no finer


def _name(node: Category, english: bool) -> str:
    return node.name_en if english else node.name


def service(node: Category, english: bool) -> dict:
    """A leaf category as a service: `metadata` true when it has questions (a service definition to read)."""
    return {
        "service_code": node.code,
        "service_name": _name(node, english),
        "description": " / ".join(node.path),
        "metadata": bool(node.questions),
        "type": "realtime",  # filed at once: the answer has the service_request_id, never a token
        "keywords": node.name if english else node.name_en,
        "group": node.path[0] if node.path else None,
    }


def services(catalogue: Catalogue, english: bool) -> list[dict]:
    """Every category a case may be filed in: the active leaves, in the catalogue's order."""
    return [service(n, english) for n in catalogue.nodes.values() if n.leaf and n.active]


def _values(q: Question, english: bool) -> list[dict] | None:
    if q.type == "bool":
        return [{"key": "true", "name": "Yes" if english else "是"},
                {"key": "false", "name": "No" if english else "否"}]
    if q.type == "choice":
        return [{"key": c, "name": c} for c in q.choices or []]
    return None


def attribute(q: Question, order: int, english: bool) -> dict:
    datatype = DATATYPES[q.type]
    about = {"text": "文字，最多 500 字 text, at most 500 characters", "number": "数字 a number",
             "bool": "是或否：true / false", "choice": "从 values 中选一项 one of the values"}[q.type]
    item = {"variable": True, "code": q.key, "datatype": datatype, "required": q.required,
            "datatype_description": about, "order": order, "description": q.label_en if english else q.label}
    values = _values(q, english)
    if values is not None:
        item["values"] = values
    return item


def definition(node: Category, english: bool) -> dict:
    return {"service_code": node.code,
            "attributes": [attribute(q, i, english) for i, q in enumerate(node.questions, 1)]}


def notice(case: Case, english: bool) -> str:
    """What the system will do, as the specification's service_notice: the case's number, and where it went."""
    text = f"Case number {case.case_no}" if english else f"诉求编号 {case.case_no}"
    if case.route == "mediation":
        text += ("; a dispute: referred to people's mediation" if english else "；纠纷类诉求，转人民调解组织调解")
    elif case.route == "direct":
        text += "; handled on the spot" if english else "；已当场办结"
    return text


def created(case: Case, english: bool) -> dict:
    return {"service_request_id": case.id, "service_notice": notice(case, english), "account_id": None}


def _coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, COORDINATE_DIGITS)


def request(case: Case, catalogue: Catalogue, english: bool) -> dict:
    """A case as a service request, as a key may read it."""
    node = catalogue.nodes.get(case.category)
    matter = shows_matter(case)
    notes = label(case.status, english)
    if matter and case.result_text:
        notes += (": " if english else "：") + privacy.free_text(case.result_text, True)
    return {
        "service_request_id": case.id,
        "status": statuses.basic(case.status),
        "status_notes": notes,
        "service_name": _name(node, english) if node else case.category,
        "service_code": case.category,
        "description": privacy.free_text(case.description, True) if matter else None,
        # The grid handling it covers a few streets: of a confidential case it would say roughly where it is.
        "agency_responsible": case.unit_name if matter else None,
        "service_notice": notice(case, english),
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": None,  # the deadlines are routing's clocks, not intake's to promise
        "address": None,  # the address text is personal data (sealed at rest): the point says where
        "address_id": None,
        "zipcode": None,
        "lat": _coordinate(case.lat) if matter else None,
        "long": _coordinate(case.lon) if matter else None,
        "media_url": None,  # files are the requester's and the handlers': never a key's
    }


# A timeline entry whose kind is not a status, but is one in all but name.
KIND_STATUS = {"designated": "dispatched"}


def statuses_of(entries: list[TimelineEntry], current: str) -> dict[int, str]:
    """The status a case had just after each of its public entries (oldest first): an entry whose kind is a
    status moves it; the last entry gets the case's status now, which is authoritative (a failed verification,
    say, moves a case back without an entry of that kind)."""
    known = set(statuses.STATUS)
    now, found = "submitted", {}
    for entry in entries:
        kind = KIND_STATUS.get(entry.kind, entry.kind)
        if kind in known:
            now = kind
        found[entry.id] = now
    if entries:
        found[entries[-1].id] = current
    return found


def update(entry: TimelineEntry, case: Case, status: str, english: bool) -> dict:
    """A public timeline entry as mySociety's request update. Its text as a follower reads it (a requester's
    own words — her supplement, her evaluation — are told as that they happened); of a confidential case or a
    dispute only the status in words."""
    if not shows_matter(case):
        text = label(status, english)
    else:
        text = privacy.free_text(PERSONAL_ENTRIES.get(entry.kind, entry.text), True)
    return {
        "update_id": str(entry.id),
        "service_request_id": case.id,
        "status": statuses.extended(status, case.outcome),
        "updated_datetime": w3c(entry.at),
        "description": text,
        "media_url": None,
    }
