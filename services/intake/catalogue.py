"""The category catalogue: a tree kept as data, versioned, managed by staff over the API.

Version 1 is data/catalogue.json (config.get().catalogue); staff publish later versions, stored
whole in `catalogue_versions` (the highest is current). A node inherits what it does not say from its
parent, and the root from `defaults`. Codes are never removed (cases refer to them): a code
that is no longer used is marked `"active": false`.
"""

import json
import time
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.auth import User
from shared.db import utcnow
from shared.errors import ApiError

from . import access, config
from .models import CatalogueVersion
from .schemas import CatalogueDoc, Node, Question


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    matter_class: str  # 三事: 大事 / 小事 / 私事
    urgency: str  # default urgency: 一般 / 紧急 / 特急
    clock_profile: str = "general"
    route: str = "dispatch"  # dispatch or mediation (disputes)
    dispute_type: str | None = None
    anonymous_allowed: bool = True
    radius_m: int = 200
    window_days: int = 7
    questions: tuple[Question, ...] = ()
    active: bool = True
    leaf: bool = True
    path: tuple[str, ...] = field(default=())  # names from the root, for display


@dataclass(frozen=True)
class Catalogue:
    version: int
    doc: dict  # the tree as published
    nodes: dict[str, Category]  # every node, leaves and branches

    def leaf(self, code: str) -> Category | None:
        node = self.nodes.get(code)
        return node if node and node.leaf else None


def build(doc: CatalogueDoc, version: int) -> Catalogue:
    """Flatten the tree, applying inheritance; raises ApiError on duplicate codes."""
    nodes: dict[str, Category] = {}
    d = doc.defaults

    def walk(items: list[Node], inherited: dict, path: tuple[str, ...]) -> None:
        for n in items:
            if n.code in nodes:
                raise ApiError(422, "catalogue.duplicate_code", field="categories", detail=n.code)
            here = dict(inherited)
            for key, value in (("matter_class", n.class_), ("urgency", n.urgency),
                               ("clock_profile", n.clock_profile), ("route", n.route),
                               ("dispute_type", n.dispute_type), ("anonymous_allowed", n.anonymous_allowed),
                               ("questions", tuple(n.questions) if n.questions is not None else None)):
                if value is not None:
                    here[key] = value
            if n.duplicate is not None:
                here["radius_m"], here["window_days"] = n.duplicate.radius_m, n.duplicate.window_days
            here["active"] = inherited.get("active", True) and n.active
            nodes[n.code] = Category(code=n.code, name=n.name, name_en=n.name_en, leaf=not n.children,
                                     path=(*path, n.name), **here)
            walk(n.children, here, (*path, n.name))

    walk(doc.categories, {"matter_class": d.class_, "urgency": d.urgency, "clock_profile": d.clock_profile,
                          "route": d.route, "dispute_type": None, "anonymous_allowed": d.anonymous_allowed,
                          "radius_m": d.duplicate.radius_m, "window_days": d.duplicate.window_days,
                          "questions": tuple(d.questions), "active": True}, ())
    return Catalogue(version, doc.model_dump(by_alias=True, exclude_none=True), nodes)


@cache
def file_catalogue() -> Catalogue:
    doc = config.get().catalogue
    return build(doc, doc.version or 1)


_built: dict[tuple[str, int], Catalogue] = {}
# The current version number per database, re-read at most every CURRENT_TTL seconds: every
# submission needs it, and a newly published catalogue reaching other processes a few seconds
# later is harmless (the process that published it forgets its copy at once).
CURRENT_TTL = 3.0
_current: dict[str, tuple[float, int | None]] = {}


def current(session: Session) -> Catalogue:
    """The current catalogue: the highest published version, else the file."""
    key = str(session.get_bind().url)
    cached = _current.get(key)
    if cached is not None and time.monotonic() - cached[0] < CURRENT_TTL:
        version = cached[1]
    else:
        version = session.scalar(select(func.max(CatalogueVersion.version)))
        _current[key] = (time.monotonic(), version)
    if version is None:
        return file_catalogue()
    return at_version(session, version)


def at_version(session: Session, version: int) -> Catalogue | None:
    base = file_catalogue()
    if version == base.version and session.get(CatalogueVersion, version) is None:
        return base
    key = (str(session.get_bind().url), version)
    if key not in _built:  # a published version never changes, so it is cached for good
        row = session.get(CatalogueVersion, version)
        if row is None:
            return None
        _built[key] = build(CatalogueDoc.model_validate(json.loads(row.data)), version)
    return _built[key]


def versions(session: Session) -> list[dict]:
    rows = session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.version.desc())).all()
    listed = [{"version": r.version, "note": r.note, "created_by": r.created_by, "created_at": r.created_at}
              for r in rows]
    base = file_catalogue()
    if not any(r.version == base.version for r in rows):
        listed.append({"version": base.version, "note": base.doc.get("note"), "created_by": None,
                       "created_at": None})
    return listed


def publish(session: Session, doc: CatalogueDoc, *, base_version: int, by: User) -> Catalogue:
    """Store a new version. `base_version` is the version the editor started from (optimistic lock)."""
    access.check_catalogue_editor(by)
    now_current = current(session)
    if base_version != now_current.version:
        raise ApiError(409, "catalogue.version_conflict", field="base_version",
                       detail=f"current version is {now_current.version}")
    new_version = now_current.version + 1
    built = build(doc, new_version)
    removed = sorted(set(now_current.nodes) - set(built.nodes))
    if removed:
        raise ApiError(422, "catalogue.code_removed", field="categories", detail=", ".join(removed[:10]))
    if not any(c.leaf and c.active for c in built.nodes.values()):
        raise ApiError(422, "catalogue.invalid", field="categories", detail="no active leaf category")
    for c in built.nodes.values():
        for q in c.questions:
            if (q.type == "choice") != bool(q.choices):
                raise ApiError(422, "catalogue.invalid", field="questions", detail=f"{c.code}.{q.key}")
    unknown = doc.unknown_clock_profiles(config.get().clock_profiles)
    if unknown:
        path, name = unknown[0]
        raise ApiError(422, "catalogue.invalid", field=path, detail=f"unknown clock profile: {name}")
    data = {**built.doc, "version": new_version}
    _current.pop(str(session.get_bind().url), None)
    # The primary key makes two concurrent publishes from the same base collide: one wins.
    session.add(CatalogueVersion(version=new_version, data=json.dumps(data, ensure_ascii=False), note=doc.note,
                                 created_by=by.id, created_at=utcnow()))
    if now_current is file_catalogue() and session.get(CatalogueVersion, now_current.version) is None:
        session.add(CatalogueVersion(version=now_current.version,
                                     data=json.dumps(now_current.doc, ensure_ascii=False),
                                     note=now_current.doc.get("note"), created_by=None, created_at=utcnow()))
    try:
        session.flush()  # here, not at the commit after the endpoint returned, so the loser gets a 409
    except IntegrityError:
        raise ApiError(409, "catalogue.version_conflict", field="base_version") from None
    return Catalogue(new_version, data, built.nodes)
