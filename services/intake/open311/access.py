"""Who may do what over Open311: a government system's API key (identity's `api_keys`, replicated to intake
by `identity.api_key.changed`), by its scopes and its area. Least privilege, one scope per right:

| scope | what it opens here |
|---|---|
| `cases:create` | POST requests: file a case on the `gov_api` channel, as an operator files for a caller |
| `cases:read` | the cases this key filed: GET requests, requests/{id}, tokens/{token}, servicerequestupdates |
| `cases:read_public` | besides, every case located in the key's area (routing's `area_path` passes |
| | through the key's `area_code`; a key without an area: the whole deployment), disputes excepted |

No scope opens a person: whatever a key reads is what a neighbour following the case reads (它也影响我: the
matter, never the requester, her phone, her address or her files), with phones and ID numbers typed into
the text masked; of a confidential case (保密) or a dispute (people's mediation keeps its records
confidential) only the category, the status and the dates. Discovery, the service list and the service
definitions are the public catalogue: a key is not needed there (and if one is sent, it must be valid).

A key's area limits what it reads. It cannot limit what it files: where a point lies is routing's to say
(its map of units), after the filing; a case filed outside the key's area is routed like any other, and the
key reads it back as its own (`cases:read`).
"""

from sqlalchemy import ColumnElement, false, or_, true

from shared.auth import ApiClient, User
from shared.errors import ApiError

from ..models import Case

CREATE, READ_OWN, READ_AREA = "cases:create", "cases:read", "cases:read_public"
READ = (READ_OWN, READ_AREA)
# What a key files on: the government systems' channel (intake's ON_BEHALF_CHANNELS: for someone else).
CHANNELS = frozenset({"gov_api"})


def filer(client: ApiClient) -> User:
    """Who a key files and reads as in intake's rules: an operator filing on someone's behalf on `gov_api`
    (consent for any phone, no reporter account, the caller's phone the case's owner), reaching the cases
    it filed itself (`created_by_id` = `key:<id>`, the same name the audit trail gives the key)."""
    return User(id=f"key:{client.key_id}", role="operator")


def require(client: ApiClient, *scopes: str) -> None:
    """403 unless the key holds one of the scopes."""
    if not any(client.allows(s) for s in scopes):
        raise ApiError(403, "open311.scope", detail=" / ".join(scopes))


def _area_code(client: ApiClient) -> str | None:
    code = client.area_code
    # Unit codes are letters and digits: anything else in a key's area matches nothing rather than a pattern.
    return code if code is None or code.isalnum() else "\u0000"


def readable(client: ApiClient) -> ColumnElement[bool]:
    """The cases this key reads, as a condition on Case (403 for a key with no reading scope)."""
    require(client, *READ)
    reach = []
    if client.allows(READ_OWN):
        reach.append(Case.created_by_id == filer(client).id)
    if client.allows(READ_AREA):
        # Disputes are read by their own key only: mediation's records are the parties'.
        area = _area_code(client)
        located = true() if area is None else (
            false() if area == "\u0000" else Case.area_path.contains(f"/{area}/", autoescape=True))
        reach.append(located & (Case.route != "mediation"))
    return or_(*reach)


def shows_matter(case: Case) -> bool:
    """Whether a key reads the matter (description, place, progress in words) or only its category, status
    and dates: nothing of a confidential case (保密) or a dispute."""
    return not case.confidential and case.route != "mediation"
