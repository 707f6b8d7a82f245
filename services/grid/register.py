"""The grid's register (网格台账): buildings, households, people under watch or care, rented rooms and their
tenants, organisations. Personal fields are one sealed JSON document per entry; what is not personal (kind, grid,
category, a building's or a shop's name, a room number) stays in plain columns for scope filters and ledgers.

Edits carry the version the editor last saw: a stale one is 409 `register.version_conflict` with both versions
(what she sent and what is there now), and nothing changes. Every change is a row of `register_changes` (which
fields, never their values) and an event (grid.register.changed), so the audit trail names who changed what.
"""

import json
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session

from shared import phones
from shared.errors import ApiError
from shared.events.grid import RegisterChanged
from shared.idcards import valid_id_number
from shared.masking import mask_address, mask_id_number, mask_name, mask_phone
from shared.uow import Emit

from . import config
from .models import Change, Entry
from .schemas import FIELDS

# The field naming an entry that is not personal (shown in lists and ledgers as it is).
LABEL = {"building": "name", "household": "room", "rental": "room", "organisation": "name"}
# Personal fields and how each is masked for a reader without need (None: hidden altogether).
PERSONAL = {
    "household": {"head_name": mask_name, "phone": mask_phone, "note": None},
    "person": {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "address": mask_address,
               "guardian_name": mask_name, "guardian_phone": mask_phone, "note": None},
    "rental": {"landlord_name": mask_name, "landlord_phone": mask_phone},
    "tenant": {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "origin": mask_address},
    "organisation": {"contact_name": mask_name, "contact_phone": mask_phone},
}
PARENTS = {"household": ("building",), "rental": ("building",), "person": ("household",), "tenant": ("rental",)}
REQUIRED_PARENT = {"tenant"}


def checked(kind: str, values: dict) -> dict:
    """The fields of a kind, validated and normalised (phones to E.164, ID numbers upper-case); ApiError 422
    naming the field (never its value) otherwise."""
    try:
        model = FIELDS[kind].model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        code = "validation.missing" if first["type"] == "missing" else (
            "validation.not_allowed" if first["type"] == "extra_forbidden" else "validation.invalid")
        raise ApiError(422, code, field=f"fields.{field}" if field else "fields") from None
    data = model.model_dump(mode="json")
    for name in data:
        if name.endswith("phone") and data[name]:
            try:
                data[name] = phones.normalise(data[name])
            except phones.BadPhone:
                raise ApiError(422, "register.bad_phone", field=f"fields.{name}") from None
        if name == "id_number" and data[name]:
            data[name] = data[name].upper()
            if not valid_id_number(data[name]):
                raise ApiError(422, "register.bad_id_number", field=f"fields.{name}")
    if kind == "person":
        category = config.get().category(data["category"])
        if category is None:
            raise ApiError(422, "register.unknown_category", field="fields.category")
    return data


def values(entry: Entry) -> dict:
    """Every field of an entry, personal ones opened."""
    personal = json.loads(entry.personal) if entry.personal else {}
    out = dict(entry.public or {})
    out.update(personal)
    if entry.kind in LABEL:
        out[LABEL[entry.kind]] = entry.label
    if entry.kind == "person":
        out["category"] = entry.category
    return out


def shown(entry: Entry, masked: bool) -> dict:
    """The fields as a reader sees them: personal ones masked (or hidden) for a reader without need."""
    data = values(entry)
    if masked:
        for name, mask in PERSONAL.get(entry.kind, {}).items():
            if data.get(name) is not None:
                data[name] = mask(data[name]) if mask else None
    return data


def _store(entry: Entry, data: dict) -> None:
    personal_names = PERSONAL.get(entry.kind, {})
    label = LABEL.get(entry.kind)
    entry.label = data.get(label) if label else None
    entry.category = data.get("category") if entry.kind == "person" else None
    entry.public = {k: v for k, v in data.items() if k not in personal_names and k not in (label, "category")}
    personal = {k: v for k, v in data.items() if k in personal_names and v is not None}
    entry.personal = json.dumps(personal, ensure_ascii=False, sort_keys=True) if personal else None


def _parent(session: Session, kind: str, grid_code: str, parent_id: str | None) -> str | None:
    if parent_id is None:
        if kind in REQUIRED_PARENT:
            raise ApiError(422, "register.bad_parent", field="parent_id")
        return None
    parent = session.get(Entry, parent_id)
    if parent is None or parent.grid_code != grid_code or parent.kind not in PARENTS.get(kind, ()):
        raise ApiError(422, "register.bad_parent", field="parent_id")
    return parent.id


def _visit_rule(entry: Entry, at: datetime) -> None:
    """A person's visit interval from her category; the first visit due one interval after registration."""
    category = config.get().category(entry.category) if entry.kind == "person" else None
    every = category.visit_every_days if category else None
    if every != entry.visit_every_days:
        entry.visit_every_days = every
        base = entry.last_visit_at or at
        entry.visit_due_at = base + timedelta(days=every) if every else None
        entry.overdue_warned_at = None


def _changed(session: Session, emit: Emit, entry: Entry, action: str, fields: list[str], by_id: str | None,
             at: datetime, client_at: datetime | None) -> None:
    session.add(Change(entry_id=entry.id, kind=entry.kind, grid_code=entry.grid_code, action=action,
                       version=entry.version, fields=sorted(fields), by_id=by_id, at=at, client_at=client_at))
    emit(RegisterChanged(entry_id=entry.id, kind=entry.kind, grid_code=entry.grid_code, action=action,
                         version=entry.version, by_id=by_id, at=at))


def create(session: Session, emit: Emit, kind: str, grid_code: str, parent_id: str | None, fields: dict,
           by_id: str, now: datetime, client_at: datetime | None, action: str = "created") -> Entry:
    data = checked(kind, fields)
    entry = Entry(kind=kind, grid_code=grid_code, parent_id=_parent(session, kind, grid_code, parent_id),
                  version=1, active=True, created_by=by_id, created_at=now, updated_by=by_id, updated_at=now)
    _store(entry, data)
    _visit_rule(entry, client_at or now)
    session.add(entry)
    session.flush()
    _changed(session, emit, entry, action, [k for k, v in data.items() if v is not None], by_id, now, client_at)
    return entry


class Conflict(ApiError):
    """A stale edit: the version the editor saw and the entry as it is now, for her to merge."""

    def __init__(self, yours: int, current: dict):
        super().__init__(409, "register.version_conflict", field="version", keep=True)
        self.yours, self.current = yours, current


def update(session: Session, emit: Emit, entry: Entry, seen_version: int | None, fields: dict,
           parent_id: str | None, active: bool | None, by_id: str, now: datetime, client_at: datetime | None,
           current_view) -> Entry:
    """`current_view`: the entry as this reader sees it, for the conflict's answer."""
    if seen_version is None:
        raise ApiError(428, "register.version_required", field="version")
    if seen_version != entry.version:
        raise Conflict(seen_version, current_view())
    before = values(entry)
    if "category" in fields and entry.kind != "person":
        raise ApiError(422, "register.kind_mismatch", field="fields.category")
    data = checked(entry.kind, {**before, **fields})
    changed = [k for k in data if data.get(k) != before.get(k)]
    if parent_id is not None and parent_id != entry.parent_id:
        entry.parent_id = _parent(session, entry.kind, entry.grid_code, parent_id)
        changed.append("parent_id")
    if active is not None and active != entry.active:
        entry.active = active
        changed.append("active")
    if not changed:
        return entry
    _store(entry, data)
    _visit_rule(entry, client_at or now)
    entry.version += 1
    entry.updated_by, entry.updated_at = by_id, now
    _changed(session, emit, entry, "updated", changed, by_id, now, client_at)
    return entry
