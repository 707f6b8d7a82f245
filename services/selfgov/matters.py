"""议事: a matter's life from proposal to settlement, every step on its timeline.

proposed ──seconding reaches the threshold──▶ on_agenda ──each stage's meeting passes──▶ (last stage)
resolution ──▶ publicizing (公示, objections) ──period over, objections answered, tasks──▶ implementing
──every task done──▶ settled (the case closed with the resolution: selfgov.matter.settled).
A stage that votes it down ends it (rejected); a meeting without quorum leaves the stage to be called again.

The thresholds, the stages, their quorum and majority, the notice and the publication period are
configuration (data/consultation.json): the Chengdu practice (seed 003) by default.
"""

import math
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.errors import ApiError
from shared.events import selfgov as ev
from shared.uow import Emit

from . import config, directory, notices, roster
from .models import OPEN_STATUSES, Attendance, Meeting, Member, Objection, Second, Task, TimelineEntry
from .models import Matter as MatterRow


def note(session: Session, matter: MatterRow, kind: str, text: str, at: datetime) -> None:
    session.add(TimelineEntry(matter_id=matter.id, kind=kind, text=text, at=at))


def _emit(emit: Emit, matter: MatterRow, model, at: datetime, **data) -> None:
    matter.seq += 1
    emit(model(matter_id=matter.id, case_id=matter.case_id, community_code=matter.community_code, seq=matter.seq,
               at=at, **data))


def require_status(matter: MatterRow, *allowed: str) -> None:
    if matter.status not in OPEN_STATUSES:
        raise ApiError(409, "matter.closed")
    if matter.status not in allowed:
        raise ApiError(409, "matter.wrong_status")


def community_codes(session: Session, matter: MatterRow) -> list[str]:
    """The communities whose residents take part: its own, or every community of its street."""
    if matter.community_code:
        return [matter.community_code]
    return [c.code for c in directory.communities(session) if c.parent_code == matter.street_code]


# ---- raising ---------------------------------------------------------------------------------------

LEVEL_WORDS = {"building": "楼栋", "community": "社区", "street": "街道"}


def raise_matter(session: Session, emit: Emit, *, community_code: str | None, street_code: str | None, level: str,
                 building: str | None, title: str, description: str, category: str | None, source: str,
                 raised_by: str | None, now: datetime, case_id: str | None = None,
                 case_no: str | None = None) -> MatterRow:
    if level == "building" and not building:
        raise ApiError(422, "matter.building_required", field="building")
    area = directory.community(session, community_code)
    if community_code and area is None:
        raise ApiError(422, "community.not_found", field="community_code")
    if area is not None:
        street_code = area.parent_code
    street = directory.area(session, street_code)
    if level == "street" or area is None:  # a point in no community is consulted at its street
        if street is None:
            raise ApiError(422, "matter.no_community", field="community_code")
        level, community_code, path = "street", None, street.path
    else:
        path = area.path
    matter = MatterRow(id=str(uuid.uuid4()), community_code=community_code, street_code=street_code, path=path,
                       level=level, building=building if level == "building" else None, title=title,
                       description=description, category=category, source=source, case_id=case_id, case_no=case_no,
                       raised_by=raised_by, status="proposed", created_at=now, updated_at=now)
    session.add(matter)
    session.flush()
    origin = {"case": f"由诉求 {case_no} 转为议题（小事·居民议事）", "resident": "居民提出议题",
              "staff": "社区提出议题"}[source]
    note(session, matter, "raised", f"{origin}：{title}（{LEVEL_WORDS[level]}议事），征集附议", now)
    _emit(emit, matter, ev.MatterRaised, now, level=level, source=source, raised_by=raised_by)
    return matter


# ---- seconding ----------------------------------------------------------------------------------

def tally(session: Session, matter: MatterRow) -> dict:
    """Who seconded so far against the thresholds: representatives (of how many) and distinct households."""
    seconds = list(session.scalars(select(Second).where(Second.matter_id == matter.id)))
    reps = sum(1 for s in seconds if s.representative)
    total = roster.count_representatives(session, community_codes(session, matter))
    rule = config.get().consultation.seconding
    needed_reps = math.ceil(rule.representative_share * total) if total else None
    households = len({s.household_index for s in seconds})
    return {"representatives": reps, "representatives_total": total, "representatives_needed": needed_reps,
            "households": households, "households_needed": rule.households,
            "reached": (needed_reps is not None and reps >= needed_reps) or households >= rule.households}


def shortfall(t: dict) -> str:
    """Why a proposal is not on the agenda yet, in the words the committee and the residents read."""
    share = config.get().consultation.seconding.representative_share
    reps = (f"居民代表附议 {t['representatives']} 人（共 {t['representatives_total']} 人，需 {share:.0%} 即至少 "
            f"{t['representatives_needed']} 人）") if t["representatives_needed"] else "本社区名册中没有居民代表"
    return f"{reps}；附议住户 {t['households']} 户（需至少 {t['households_needed']} 户）：两项均未达到"


def second(session: Session, matter: MatterRow, member: Member, method: str, recorded_by: str,
           now: datetime) -> Second:
    require_status(matter, "proposed")
    if member.community_code not in community_codes(session, matter):
        raise ApiError(403, "member.not_registered", field="member_id")
    if matter.level == "building" and member.building and member.building != matter.building:
        raise ApiError(403, "member.not_registered", field="member_id")
    # 附议 is others' support for what she raised: her own would carry a matter to the agenda alone (one of three
    # representatives is the 10% threshold).
    if matter.raised_by is not None and member.user_id == matter.raised_by:
        raise ApiError(409, "matter.own_proposal")
    if session.scalar(select(Second.id).where(Second.matter_id == matter.id, Second.member_id == member.id)):
        raise ApiError(409, "matter.already_seconded")
    row = Second(matter_id=matter.id, member_id=member.id, representative=member.representative,
                 household_index=member.household_index, method=method, recorded_by=recorded_by, at=now)
    session.add(row)
    session.flush()
    return row


def put_on_agenda(session: Session, emit: Emit, matter: MatterRow, now: datetime) -> dict:
    """列入议程 when the seconders reach either threshold; otherwise 409 with the shortfall as the reason."""
    require_status(matter, "proposed")
    t = tally(session, matter)
    if not t["reached"]:
        raise ApiError(409, "matter.seconding_short", detail=shortfall(t))
    matter.status, matter.agenda_at, matter.stage_index = "on_agenda", now, 0
    stage = config.get().consultation.stage(0)
    note(session, matter, "on_agenda", f"附议达到门槛（居民代表 {t['representatives']} 人、住户 "
                                       f"{t['households']} 户），列入议程，下一步：{stage.name}", now)
    _emit(emit, matter, ev.MatterOnAgenda, now, representatives=t["representatives"], households=t["households"])
    return t


def decline(session: Session, emit: Emit, matter: MatterRow, reason: str, now: datetime) -> None:
    require_status(matter, "proposed")
    matter.status, matter.closed_at, matter.close_reason = "declined", now, reason
    note(session, matter, "declined", f"不予立项：{reason}", now)
    _emit(emit, matter, ev.MatterRejected, now, outcome="declined")


def withdraw(session: Session, emit: Emit, matter: MatterRow, now: datetime) -> bool:
    """The resident withdrew the case it came from: a proposal not yet on the agenda ends with it; one the
    residents already took up is theirs now and goes on."""
    if matter.status != "proposed":
        return False
    matter.status, matter.closed_at, matter.close_reason = "withdrawn", now, "诉求已撤回"
    note(session, matter, "withdrawn", "提出人已撤回诉求，议题不再征集附议", now)
    _emit(emit, matter, ev.MatterRejected, now, outcome="declined")
    return True


# ---- meetings -----------------------------------------------------------------------------------

def convene(session: Session, emit: Emit, matter: MatterRow, *, starts_at: datetime, place: str, notice: str,
            by: str, now: datetime) -> Meeting:
    """召集 the current stage's meeting, with the configured notice; the invitees notify can reach are named."""
    require_status(matter, "on_agenda")
    cfg = config.get().consultation
    if starts_at < now + timedelta(days=cfg.notice_days_before):
        raise ApiError(422, "meeting.short_notice", field="starts_at")
    if session.scalar(select(Meeting.id).where(Meeting.matter_id == matter.id, Meeting.status == "convened")):
        raise ApiError(409, "matter.meeting_pending")
    stage = cfg.stage(matter.stage_index)
    meeting = Meeting(id=str(uuid.uuid4()), matter_id=matter.id, stage_code=stage.code,
                      stage_index=matter.stage_index, starts_at=starts_at, place=place, notice=notice,
                      convened_by=by, convened_at=now, status="convened")
    session.add(meeting)
    session.flush()
    invitees = []
    if stage.members_from == "representatives":
        invitees = [m.user_id for m in roster.representatives(session, community_codes(session, matter)) if m.user_id]
    note(session, matter, "meeting_convened", f"召集{stage.name}：{_local(starts_at)}，{place}"
                                              f"（{cfg.supervising_body}全程监督）", now)
    _emit(emit, matter, ev.MeetingConvened, now, meeting_id=meeting.id, stage=stage.code, stage_name=stage.name,
          starts_at=starts_at, invitee_user_ids=invitees, raised_by=matter.raised_by)
    return meeting


def _local(at: datetime) -> str:
    from shared.config import local_zone

    return at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


def hold(session: Session, emit: Emit, matter: MatterRow, meeting: Meeting, *, members: int | None,
         attended: int | None, attendee_member_ids: list[str], votes_for: int, votes_against: int,
         votes_abstain: int, record: str, supervisor_present: bool, supervisor_note: str | None,
         resolution_text: str | None, by: str, now: datetime) -> Meeting:
    """The meeting's record: attendance, the votes, the supervisor's presence; the stage passes when the quorum
    came and more than the configured share of those present voted for."""
    require_status(matter, "on_agenda")
    if meeting.status != "convened":
        raise ApiError(409, "meeting.already_held")
    if now < meeting.starts_at:
        raise ApiError(409, "meeting.not_yet")
    cfg = config.get().consultation
    stage = cfg.stage(meeting.stage_index)
    if stage.members_from == "representatives":
        reps = {m.id for m in roster.representatives(session, community_codes(session, matter))}
        if not reps:
            raise ApiError(409, "meeting.no_representatives")
        present = set(attendee_member_ids)
        if present - reps:
            raise ApiError(422, "meeting.not_representative", field="attendee_member_ids")
        members, attended = len(reps), len(present)
        for member_id in sorted(present):
            session.add(Attendance(meeting_id=meeting.id, member_id=member_id))
    else:
        if members is None:
            raise ApiError(422, "meeting.members_required", field="members")
        if attended is None:
            raise ApiError(422, "meeting.attended_required", field="attended")
    if attended > members:
        raise ApiError(422, "meeting.attendance_exceeds", field="attended")
    if votes_for + votes_against + votes_abstain > attended:
        raise ApiError(422, "meeting.votes_exceed", field="votes_for")
    last = meeting.stage_index == len(cfg.stages) - 1
    quorum = attended >= math.ceil(stage.quorum_share * members - 1e-9)
    result = "no_quorum" if not quorum else ("passed" if votes_for > stage.majority_share * attended else "rejected")
    if result == "passed" and last and not (resolution_text or "").strip():
        raise ApiError(422, "meeting.resolution_missing", field="resolution_text")
    meeting.status, meeting.held_at, meeting.recorded_by = "held", now, by
    meeting.members, meeting.attended = members, attended
    meeting.votes_for, meeting.votes_against, meeting.votes_abstain = votes_for, votes_against, votes_abstain
    meeting.result, meeting.record = result, record
    meeting.supervisor_present, meeting.supervisor_note = supervisor_present, supervisor_note
    words = {"passed": "通过", "rejected": "未通过", "no_quorum": "到会人数不足法定人数，需重新召集"}[result]
    note(session, matter, "meeting_held", f"{stage.name}：应到 {members} 人，实到 {attended} 人；赞成 {votes_for}、"
                                          f"反对 {votes_against}、弃权 {votes_abstain}，{words}", now)
    _emit(emit, matter, ev.MeetingHeld, now, meeting_id=meeting.id, stage=stage.code, stage_name=stage.name,
          result=result, members=members, attended=attended, votes_for=votes_for, votes_against=votes_against,
          votes_abstain=votes_abstain)
    if result == "rejected":
        matter.status, matter.closed_at, matter.close_reason = "rejected", now, f"{stage.name}未通过"
        _emit(emit, matter, ev.MatterRejected, now, stage=stage.code, outcome="rejected")
    elif result == "passed" and not last:
        matter.stage_index += 1
        note(session, matter, "next_stage", f"下一步：{cfg.stage(matter.stage_index).name}", now)
    elif result == "passed":
        resolve(session, emit, matter, resolution_text.strip(), by, now)
    return meeting


def resolve(session: Session, emit: Emit, matter: MatterRow, text: str, by: str, now: datetime) -> None:
    """The resolution adopted: published at once (公示) for the configured days, as a notice of 居务公开."""
    cfg = config.get()
    matter.resolution_id, matter.resolution_text, matter.resolved_at = str(uuid.uuid4()), text, now
    ends = now + timedelta(days=cfg.consultation.publication_days)
    notice = notices.publish(session, emit, community_code=_notice_community(session, matter),
                             category=cfg.notices.resolution_category, title=f"议事决议公示：{matter.title}",
                             body=text, publish_from=now, publish_until=ends, by=by, now=now, matter_id=matter.id)
    matter.status, matter.notice_id, matter.publication_ends_at = "publicizing", notice.id, ends
    note(session, matter, "publicized", f"形成决议并公示至 {_local(ends)}，公示期内可提出异议：{text}", now)
    _emit(emit, matter, ev.MatterPublicized, now, resolution_id=matter.resolution_id, notice_id=notice.id,
          ends_at=ends)


def _notice_community(session: Session, matter: MatterRow) -> str:
    # A street-level resolution is published in the first community of its street (each community's board
    # shows its own; the street's residents read it there).
    return matter.community_code or community_codes(session, matter)[0]


# ---- publication, objections --------------------------------------------------------------------

def object_to(session: Session, matter: MatterRow, member: Member | None, by: str, text: str,
              now: datetime) -> Objection:
    require_status(matter, "publicizing")
    if matter.publication_ends_at is not None and now >= matter.publication_ends_at:
        raise ApiError(409, "matter.publication_over")
    row = Objection(id=str(uuid.uuid4()), matter_id=matter.id, member_id=member.id if member else None, by_user=by,
                    text=text, at=now)
    session.add(row)
    note(session, matter, "objection", "公示期内收到一条异议，待社区答复", now)
    return row


def answer_objection(session: Session, matter: MatterRow, objection: Objection, reply: str, by: str,
                     now: datetime) -> Objection:
    if objection.replied_at is not None:
        raise ApiError(409, "objection.answered")
    objection.reply, objection.replied_by, objection.replied_at = reply, by, now
    # The reply often quotes the objector: it stays with the objection (read under its own masking), and
    # the timeline every member reads says only that it was answered, as it said only that one came.
    note(session, matter, "objection_answered", "社区已答复一条异议", now)
    return objection


# ---- carrying it out ----------------------------------------------------------------------------

def add_tasks(session: Session, emit: Emit, matter: MatterRow, tasks: list[tuple[str, str, date]], by: str,
              now: datetime, today: date) -> list[Task]:
    """The resolution carried out as tasks with owners and dates: after the publication period, every
    objection answered; more tasks may be added while it is carried out."""
    require_status(matter, "publicizing", "implementing")
    if matter.status == "publicizing":
        if matter.publication_ends_at is not None and now < matter.publication_ends_at:
            raise ApiError(409, "matter.publication_running")
        if session.scalar(select(Objection.id).where(Objection.matter_id == matter.id,
                                                     Objection.replied_at.is_(None)).limit(1)):
            raise ApiError(409, "matter.objections_open")
    rows = []
    for i, (title, owner, due) in enumerate(tasks):
        if due < today:
            raise ApiError(422, "task.bad_due", field=f"tasks.{i}.due_on")
        rows.append(Task(id=str(uuid.uuid4()), matter_id=matter.id, title=title, owner=owner, due_on=due,
                         created_by=by, created_at=now))
    session.add_all(rows)
    for t in rows:
        note(session, matter, "task", f"实施任务：{t.title}（责任方 {t.owner}，{t.due_on:%Y-%m-%d} 前完成）", now)
    if matter.status == "publicizing":
        matter.status = "implementing"
        _emit(emit, matter, ev.MatterImplementing, now, resolution_id=matter.resolution_id, task_count=len(rows))
    session.flush()
    return rows


def complete_task(session: Session, emit: Emit, matter: MatterRow, task: Task, note_text: str, by: str,
                  now: datetime) -> Task:
    require_status(matter, "implementing")
    if task.status == "done":
        raise ApiError(409, "task.done")
    task.status, task.done_at, task.done_note, task.done_by = "done", now, note_text, by
    note(session, matter, "task_done", f"任务已完成：{task.title}（{note_text}）", now)
    session.flush()
    left = session.scalar(select(func.count()).select_from(Task).where(Task.matter_id == matter.id,
                                                                        Task.status != "done"))
    if not left:
        settle(session, emit, matter, now)
    return task


def settle(session: Session, emit: Emit, matter: MatterRow, now: datetime) -> None:
    matter.status, matter.closed_at = "settled", now
    note(session, matter, "settled", f"决议已实施完毕，议题办结（居民议事解决）：{matter.resolution_text}", now)
    _emit(emit, matter, ev.MatterSettled, now, resolution_id=matter.resolution_id, case_no=matter.case_no,
          raised_by=matter.raised_by)
