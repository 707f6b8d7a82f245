"""Events self-governance (selfgov: 议事, 居务公开, 居民直评) publishes. Ids, codes and counts only: a resident is
named by her user id, a text by the id of the record that holds it.

Every matter event carries the matter's `seq`, which increases with each change, so a consumer drops an
event older than one it applied, and the intake case it came from (`case_id`, None for a resident's own
proposal): intake follows the case's timeline with them, and closes the case on `selfgov.matter.settled`.
"""

from datetime import datetime
from typing import Literal

from .registry import Payload, event

Level = Literal["building", "community", "street"]


class MatterEvent(Payload):
    matter_id: str
    case_id: str | None = None
    community_code: str | None = None
    seq: int
    at: datetime


@event("selfgov.matter.raised", 1, subject=("matter", "matter_id"))
class MatterRaised(MatterEvent):
    """A matter for consultation: a 小事 case taken up, or a resident's or the committee's own proposal."""

    level: Level
    source: Literal["case", "resident", "staff"]
    raised_by: str | None = None


@event("selfgov.matter.on_agenda", 1, subject=("matter", "matter_id"))
class MatterOnAgenda(MatterEvent):
    """Seconded by enough representatives or households: put on the agenda of its first stage."""

    representatives: int  # seconding representatives
    households: int  # seconding households


@event("selfgov.meeting.convened", 1, subject=("matter", "matter_id"))
class MeetingConvened(MatterEvent):
    """A stage's meeting is called (会议通知): notify tells the invitees it can reach (their user ids); the
    notice's text is the meeting's, read at GET /selfgov/v1/meetings/{meeting_id}."""

    meeting_id: str
    stage: str
    stage_name: str
    starts_at: datetime
    invitee_user_ids: list[str] = []
    raised_by: str | None = None  # the resident who raised the matter, told too


@event("selfgov.meeting.held", 1, subject=("matter", "matter_id"))
class MeetingHeld(MatterEvent):
    meeting_id: str
    stage: str
    stage_name: str
    result: Literal["passed", "rejected", "no_quorum"]
    members: int
    attended: int
    votes_for: int
    votes_against: int
    votes_abstain: int


@event("selfgov.matter.publicized", 1, subject=("matter", "matter_id"))
class MatterPublicized(MatterEvent):
    """The resolution is published (公示) as a notice until `ends_at`; objections are taken meanwhile."""

    resolution_id: str
    notice_id: str
    ends_at: datetime


@event("selfgov.matter.rejected", 1, subject=("matter", "matter_id"))
class MatterRejected(MatterEvent):
    """A stage voted the proposal down (否决), or the committee declined it (不予立项; the reason is on the matter)."""

    stage: str | None = None
    outcome: Literal["rejected", "declined"] = "rejected"


@event("selfgov.matter.implementing", 1, subject=("matter", "matter_id"))
class MatterImplementing(MatterEvent):
    resolution_id: str
    task_count: int


@event("selfgov.matter.settled", 1, subject=("matter", "matter_id"))
class MatterSettled(MatterEvent):
    """Every task of the resolution is done: the matter is settled by the residents (居民议事解决). Intake closes
    the originating case (`case_id`) with the resolution, whose text is GET /selfgov/v1/resolutions/{id}."""

    resolution_id: str
    case_no: str | None = None
    raised_by: str | None = None


@event("selfgov.notice.published", 1, subject=("notice", "notice_id"))
class NoticePublished(Payload):
    """A notice of 居务公开, or a correction of one (`version` > 1, the same `series_id`)."""

    notice_id: str
    series_id: str
    version: int
    community_code: str
    category: str
    publish_until: datetime
    at: datetime


class UnitRatingScore(Payload):
    """One unit's figures of a rating period: how many residents answered about it, and its score 0–100
    (null below the configured number of responses)."""

    unit_id: str  # routing's unit id (shared.ids.unit_id of the code)
    unit_code: str
    level: Literal["community", "grid"]
    responses: int
    score: float | None = None


@event("selfgov.ratings.scored", 1, subject=("period", "period"))
class RatingsScored(Payload):
    """居民直评 figures of a rating period, every rated unit at once, as of `at`: a newer event replaces the
    period's figures whole. Published by selfgov's background job when the figures changed (at most every
    `publish_interval_seconds`) and once more when the period is over (`final`); never one event per rating,
    whose timing would tell who answered."""

    period: str  # the rating period (2026-Q4, 2026-11, 2026-H2 or 2026: data/rating.json `period`)
    final: bool = False
    units: list[UnitRatingScore]
    at: datetime
