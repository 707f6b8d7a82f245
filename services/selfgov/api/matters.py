"""议事: matters, seconding, the agenda, stage meetings, publication and objections, tasks, the timeline."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from shared.config import local_zone
from shared.db import utcnow
from shared.deps import CurrentUser, Uow
from shared.errors import ApiError

from .. import access, matters, roster, views
from ..access import Seen
from ..models import Matter, Meeting, Objection, Task
from ..schemas import (
    MatterIn,
    MatterSummary,
    MatterView,
    MeetingIn,
    MeetingRecordIn,
    MeetingView,
    ObjectionIn,
    ObjectionView,
    ReasonIn,
    ReplyIn,
    ResolutionView,
    SecondIn,
    TallyView,
    TaskDoneIn,
    TasksIn,
    TaskView,
    TimelineView,
)
from .deps import answers, managing, readable

router = APIRouter(tags=["议事 consultation"])


@router.post("/matters", status_code=201, response_model=MatterView, responses=answers(403, 404),
             summary="提出议题（居民：本人所在社区；社区工作人员：本辖区）propose a matter",
             description="居民须在该社区居民名册中；议题提出后征集附议，达到居民代表 10% 或 50 户（可配置）后"
                         "由社区列入议程。")
def propose(body: MatterIn, user: CurrentUser, uow: Uow) -> MatterView:
    session = uow.session
    if user.role == "resident":
        roster.member_of(session, user, body.community_code)
        source = "resident"
    elif user.role in access.MANAGERS:
        access.managed_community(session, user, body.community_code)
        source = "staff"
    else:
        raise ApiError(403, "auth.forbidden")
    matter = matters.raise_matter(session, uow.emit, community_code=body.community_code, street_code=None,
                                  level=body.level, building=body.building, title=body.title,
                                  description=body.description, category=body.category, source=source,
                                  raised_by=user.id if source == "resident" else None, now=utcnow())
    seen = access.readable(uow, matter.id, user, "create.matter")
    return views.matter(session, matter, seen.capacity)


@router.get("/matters", response_model=list[MatterSummary],
            summary="议题列表（居民：本社区及本人提出的；工作人员：辖区）matters")
def list_matters(user: CurrentUser, uow: Uow,
                 status: Annotated[str | None, Query(max_length=16, description="按状态筛选 by status")] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[MatterSummary]:
    query = select(Matter).where(access.listed_condition(uow.session, user))
    if status:
        query = query.where(Matter.status == status)
    rows = uow.session.scalars(query.order_by(Matter.created_at.desc(), Matter.id).limit(limit).offset(offset))
    return [views.summary(m) for m in rows]


@router.get("/matters/{matter_id}", response_model=MatterView, responses=answers(404), summary="议题详情 a matter")
def get_matter(seen: Annotated[Seen, readable("read.matter")], uow: Uow) -> MatterView:
    return views.matter(uow.session, seen.matter, seen.capacity)


@router.get("/matters/{matter_id}/timeline", response_model=list[TimelineView], responses=answers(404),
            summary="议题进程：提出人和本社区居民随时查看 every step, for the resident who raised it")
def timeline(seen: Annotated[Seen, readable("read.timeline")], uow: Uow) -> list[TimelineView]:
    return views.timeline(uow.session, seen.matter.id)


@router.post("/matters/{matter_id}/seconds", status_code=201, response_model=TallyView,
             responses=answers(403, 404, 409),
             summary="附议（居民本人；或社区代为登记纸面签名）second a proposal",
             description="提出人不能附议自己提出的议题（409 matter.own_proposal）；同一居民只能附议一次"
                         "（409 matter.already_seconded）。")
def second(body: SecondIn, seen: Annotated[Seen, readable("write.second")], user: CurrentUser,
           uow: Uow) -> TallyView:
    member, method = access.acting_member(uow.session, user, seen.matter, body.member_id, seen)
    matters.second(uow.session, seen.matter, member, method, user.id, utcnow())
    return TallyView(**matters.tally(uow.session, seen.matter))


@router.post("/matters/{matter_id}/agenda", response_model=MatterView, responses=answers(403, 404, 409),
             summary="列入议程（附议须达到门槛，否则 409 并说明差距）put on the agenda",
             description="附议未达门槛时返回 409 matter.seconding_short，detail 写明居民代表和住户各差多少。")
def agenda(seen: Annotated[Seen, managing("write.agenda")], uow: Uow) -> MatterView:
    matters.put_on_agenda(uow.session, uow.emit, seen.matter, utcnow())
    return views.matter(uow.session, seen.matter, seen.capacity)


@router.post("/matters/{matter_id}/decline", response_model=MatterView, responses=answers(403, 404, 409),
             summary="不予立项（说明原因）decline with the reason")
def decline(body: ReasonIn, seen: Annotated[Seen, managing("write.decline")], uow: Uow) -> MatterView:
    matters.decline(uow.session, uow.emit, seen.matter, body.reason, utcnow())
    return views.matter(uow.session, seen.matter, seen.capacity)


@router.post("/matters/{matter_id}/meetings", status_code=201, response_model=MeetingView,
             responses={**answers(403, 404, 409), 422: {"description": "通知时间不足等 short notice"}},
             summary="召集当前阶段的会议（发出会议通知）convene the stage's meeting")
def convene(body: MeetingIn, seen: Annotated[Seen, managing("write.meeting")], user: CurrentUser,
            uow: Uow) -> MeetingView:
    meeting = matters.convene(uow.session, uow.emit, seen.matter, starts_at=body.starts_at, place=body.place,
                              notice=body.notice, by=user.id, now=utcnow())
    return views.meeting(meeting, seen.capacity)


@router.get("/matters/{matter_id}/meetings", response_model=list[MeetingView], responses=answers(404),
            summary="各阶段会议：通知、出席、记录、表决 the meetings")
def meetings(seen: Annotated[Seen, readable("read.meetings")], uow: Uow) -> list[MeetingView]:
    rows = uow.session.scalars(select(Meeting).where(Meeting.matter_id == seen.matter.id)
                               .order_by(Meeting.convened_at, Meeting.id))
    return [views.meeting(m, seen.capacity) for m in rows]


def _meeting(uow: Uow, seen: Seen, meeting_id: str) -> Meeting:
    meeting = uow.session.get(Meeting, meeting_id)
    if meeting is None or meeting.matter_id != seen.matter.id:
        raise ApiError(404, "meeting.not_found", field="meeting_id")
    return meeting


@router.post("/matters/{matter_id}/meetings/{meeting_id}/record", response_model=MeetingView,
             responses={**answers(403, 404, 409), 422: {"description": "人数、票数不合理或缺少决议 inconsistent"}},
             summary="登记会议：出席、记录、表决结果（按配置的法定人数和多数）record the meeting and its vote")
def record(meeting_id: str, body: MeetingRecordIn, seen: Annotated[Seen, managing("write.record")],
           user: CurrentUser, uow: Uow) -> MeetingView:
    meeting = _meeting(uow, seen, meeting_id)
    matters.hold(uow.session, uow.emit, seen.matter, meeting, members=body.members, attended=body.attended,
                 attendee_member_ids=body.attendee_member_ids, votes_for=body.votes_for,
                 votes_against=body.votes_against, votes_abstain=body.votes_abstain, record=body.record,
                 supervisor_present=body.supervisor_present, supervisor_note=body.supervisor_note,
                 resolution_text=body.resolution_text, by=user.id, now=utcnow())
    return views.meeting(meeting, seen.capacity)


@router.post("/matters/{matter_id}/objections", status_code=201, response_model=ObjectionView,
             responses=answers(403, 404, 409), summary="公示期内提出异议（本社区居民）object during publication")
def object_to(body: ObjectionIn, seen: Annotated[Seen, readable("write.objection")], user: CurrentUser,
              uow: Uow) -> ObjectionView:
    if seen.capacity != "member":
        raise ApiError(403, "member.not_registered", field="community_code")
    codes = matters.community_codes(uow.session, seen.matter)
    member = next(m for m in roster.memberships(uow.session, user) if m.community_code in codes)
    row = matters.object_to(uow.session, seen.matter, member, user.id, body.text, utcnow())
    return views.objection(row, user.id, seen.capacity)


@router.get("/matters/{matter_id}/objections", response_model=list[ObjectionView], responses=answers(404),
            summary="公示期异议（工作人员看全部；居民看本人的）objections")
def objections(seen: Annotated[Seen, readable("read.objections")], user: CurrentUser,
               uow: Uow) -> list[ObjectionView]:
    query = select(Objection).where(Objection.matter_id == seen.matter.id)
    if seen.capacity not in ("manager", "reader"):
        query = query.where(Objection.by_user == user.id)
    return [views.objection(o, user.id, seen.capacity) for o in uow.session.scalars(query.order_by(Objection.at))]


@router.post("/matters/{matter_id}/objections/{objection_id}/reply", response_model=ObjectionView,
             responses=answers(403, 404, 409), summary="答复异议 answer an objection")
def reply(objection_id: str, body: ReplyIn, seen: Annotated[Seen, managing("write.reply")], user: CurrentUser,
          uow: Uow) -> ObjectionView:
    row = uow.session.get(Objection, objection_id)
    if row is None or row.matter_id != seen.matter.id:
        raise ApiError(404, "objection.not_found", field="objection_id")
    matters.answer_objection(uow.session, seen.matter, row, body.reply, user.id, utcnow())
    return views.objection(row, user.id, seen.capacity)


@router.post("/matters/{matter_id}/tasks", status_code=201, response_model=list[TaskView],
             responses={**answers(403, 404, 409), 422: {"description": "完成期限早于今天 due in the past"}},
             summary="分解实施任务（公示期满、异议均已答复后）tasks with owners and dates")
def add_tasks(body: TasksIn, seen: Annotated[Seen, managing("write.tasks")], user: CurrentUser,
              uow: Uow) -> list[TaskView]:
    now = utcnow()
    rows = matters.add_tasks(uow.session, uow.emit, seen.matter, [(t.title, t.owner, t.due_on) for t in body.tasks],
                             user.id, now, now.astimezone(local_zone()).date())
    return [views.task(t) for t in rows]


@router.get("/matters/{matter_id}/tasks", response_model=list[TaskView], responses=answers(404),
            summary="实施任务 the tasks")
def tasks(seen: Annotated[Seen, readable("read.tasks")], uow: Uow) -> list[TaskView]:
    rows = uow.session.scalars(select(Task).where(Task.matter_id == seen.matter.id).order_by(Task.created_at, Task.id))
    return [views.task(t) for t in rows]


@router.post("/matters/{matter_id}/tasks/{task_id}/done", response_model=TaskView,
             responses=answers(403, 404, 409),
             summary="任务完成（全部完成即办结，来源诉求随之结案）a task done; the last one settles the matter")
def task_done(task_id: str, body: TaskDoneIn, seen: Annotated[Seen, managing("write.task_done")],
              user: CurrentUser, uow: Uow) -> TaskView:
    row = uow.session.get(Task, task_id)
    if row is None or row.matter_id != seen.matter.id:
        raise ApiError(404, "task.not_found", field="task_id")
    matters.complete_task(uow.session, uow.emit, seen.matter, row, body.note, user.id, utcnow())
    return views.task(row)


@router.get("/resolutions/{resolution_id}", response_model=ResolutionView, responses=answers(404),
            summary="决议（诉求服务凭此结案）a resolution")
def resolution(resolution_id: str, user: CurrentUser, uow: Uow) -> ResolutionView:
    matter = uow.session.scalar(select(Matter).where(Matter.resolution_id == resolution_id))
    if matter is None or access.capacity(uow.session, matter, user) is None:
        raise ApiError(404, "resolution.not_found", field="resolution_id")
    return ResolutionView(id=resolution_id, matter_id=matter.id, title=matter.title, text=matter.resolution_text,
                          adopted_at=matter.resolved_at, notice_id=matter.notice_id)
