"""Events the grid service publishes. Ids, codes and counts only: never a name, a phone or a note; who a
person under care is stays in the grid's register, read there under its access rule."""

from datetime import datetime

from .registry import Payload, event


@event("grid.patrol.finished", 1, subject=("patrol", "patrol_id"))
class PatrolFinished(Payload):
    patrol_id: str
    grid_code: str
    grid_id: str
    worker_id: str
    day: str  # the local date (YYYY-MM-DD)
    started_at: datetime
    finished_at: datetime
    distance_m: float
    finding_count: int
    counts: bool  # long enough to count towards the daily rule


@event("grid.patrol.recounted", 1, subject=("patrol", "patrol_id"))
class PatrolRecounted(PatrolFinished):
    """A finished patrol's findings changed: a phone that synced late linked a case after the finish, or intake's
    event confirmed a case linked before it. The patrol as finished, with the new finding_count (it only grows)."""


@event("grid.patrol.missed", 1, subject=("grid", "grid_code"))
class PatrolMissed(Payload):
    """A grid did fewer patrols on a day than the rule asks (一日双巡): for the community's staff."""

    grid_code: str
    grid_id: str
    community_code: str | None = None
    community_id: str | None = None
    day: str
    required: int
    done: int
    worker_ids: list[str] = []  # who patrolled the grid that day (may be none)


@event("grid.visit.recorded", 1, subject=("person", "person_id"))
class VisitRecorded(Payload):
    visit_id: str
    person_id: str
    grid_code: str
    worker_id: str
    visited_at: datetime
    help_needed: bool


@event("grid.visit.overdue", 1, subject=("person", "person_id"))
class VisitOverdue(Payload):
    """A care visit the category's rule asks for was not recorded in time: for the grid's worker and community."""

    person_id: str
    grid_code: str
    grid_id: str
    community_code: str | None = None
    community_id: str | None = None
    due_at: datetime


@event("grid.register.changed", 1, subject=("entry", "entry_id"))
class RegisterChanged(Payload):
    entry_id: str
    kind: str
    grid_code: str
    action: str  # created | updated | imported
    version: int
    by_id: str | None = None
    at: datetime
