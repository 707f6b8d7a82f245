"""Issue 12, item 12: a handler's photos of the result are uploads like the resident's. The handler uploads them
(POST /attachments), names their ids when resolving at routing, and intake claims, on routing.case.resolved,
those the resolving handler uploaded and no case took: the case's result photos, which its requester (reporter
or filed_for_you) and staff in scope see and download, and a follower does not. An id of anyone else's upload,
or of a file already used, is left alone (audited by id)."""

import json

from sqlalchemy import select

from services.intake.models import Attachment
from services.intake.service import SPEC
from shared.events.routing import CaseContacted, CaseResolved, CaseSigned

from .conftest import dispatched, work_order
from .test_access_matrix import FILES_OF_A
from .test_attachments import jpeg_with_gps, upload
from .world import CALLER_PHONE, PRINCIPALS, build, headers

HANDLER = "u-grid-worker-001001"  # the grid's worker, whose unit the demo dispatches the grid point to


def _handled(intake, case, wo="wo-1"):
    assert intake.deliver(dispatched(case, 1, wo)) == "ack"
    intake.deliver(CaseSigned(**work_order(case, 2, wo), actor_id=HANDLER))
    intake.deliver(CaseContacted(**work_order(case, 3, wo), actor_id=HANDLER))


def _resolved(intake, case, photo_ids, wo="wo-1", actor=HANDLER) -> str:
    return intake.deliver(CaseResolved(**work_order(case, 4, wo), actor_id=actor, outcome="解决到位",
                                       result_text="已安排环卫车清运", photo_count=len(photo_ids),
                                       photo_ids=photo_ids))


def _download(intake, attachment_id: str, h: dict, thumbnail: bool = False) -> int:
    url = f"/intake/v1/attachments/{attachment_id}" + ("/thumbnail" if thumbnail else "")
    return intake.client.get(url, headers=h).status_code


def test_a_handlers_result_photo_is_shown_to_the_requester_who_downloads_it(intake):
    case = intake.submit()
    _handled(intake, case)
    r = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER)
    assert r.status_code == 201, r.text  # staff upload like residents
    photo = r.json()["id"]
    assert _resolved(intake, case, [photo]) == "ack"

    mine = intake.auth("resident")
    view = intake.get(case["id"])
    assert view["status"] == "resolved"
    assert [a["id"] for a in view["result_attachments"]] == [photo] and view["attachments"] == []
    assert view["result_attachments"][0]["has_thumbnail"]
    assert "办理单位上传了 1 张办结照片" in [t["text"] for t in view["timeline"]]
    assert _download(intake, photo, mine) == 200 and _download(intake, photo, mine, thumbnail=True) == 200
    # Staff in scope see it too, under a neutral name unless they uploaded it or see the person unmasked.
    staff = intake.get(case["id"], role="supervisor")
    assert [a["filename"] for a in staff["result_attachments"]] == ["办结照片1.jpg"]
    assert intake.get(case["id"], role="grid_worker", user_id=HANDLER)["result_attachments"][0]["filename"] == \
        "photo.jpg"
    # A neighbour who joined sees the matter, not the files; a stranger nothing.
    neighbour = intake.auth("resident", "u-resident-7")
    assert intake.client.post(f"/intake/v1/cases/{case['id']}/join", headers=neighbour).status_code == 200
    assert intake.get(case["id"], user_id="u-resident-7")["result_attachments"] == []
    assert _download(intake, photo, neighbour) == 404
    assert _download(intake, photo, intake.auth("resident", "u-resident-9")) == 404
    # The result photo does not use up the requester's own uploads (policy: 9 a case).
    with intake.rt.uow() as session:
        assert session.get(Attachment, photo).purpose == "result"


def test_a_case_filed_for_a_callers_phone_shows_her_the_result_photo(intake):
    case = intake.submit(role="operator", user_id="u-operator-1", channel="hotline", caller_phone=CALLER_PHONE,
                         consent=True, category="env.garbage", description="来电反映垃圾未清运")
    _handled(intake, case)
    photo = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER).json()["id"]
    _resolved(intake, case, [photo])
    caller = intake.auth("resident", "u-resident-3", phone=CALLER_PHONE)
    view = intake.get(case["id"], user_id="u-resident-3", phone=CALLER_PHONE)
    assert view["relation"] == "filed_for_you" and [a["id"] for a in view["result_attachments"]] == [photo]
    assert _download(intake, photo, caller) == 200


def test_only_the_resolving_handlers_own_free_uploads_are_claimed(intake):
    case = intake.submit()
    other_case = intake.submit(description="另一处垃圾桶满了", category="facility.streetlight")
    _handled(intake, case)
    own = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER).json()["id"]
    residents = upload(intake, jpeg_with_gps(), "image/jpeg", user_id="u-resident-5").json()["id"]  # not his
    colleagues = upload(intake, b"%PDF-1.7 minimal", "application/pdf", role="grid_worker",
                        user_id="u-grid-worker-001002").json()["id"]
    used = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER).json()["id"]
    with intake.rt.uow() as session:  # his, but already on another case (a supplement he added there)
        session.get(Attachment, used).case_id = other_case["id"]
    missing = "00000000-0000-4000-8000-000000000000"

    assert _resolved(intake, case, [residents, own, colleagues, used, missing]) == "ack"  # never retried for a photo
    view = intake.get(case["id"])
    assert view["status"] == "resolved" and view["result_text"] == "已安排环卫车清运"  # the result stands
    assert [a["id"] for a in view["result_attachments"]] == [own]
    with intake.rt.uow() as session:
        rows = {a.id: (a.case_id, a.purpose) for a in session.scalars(select(Attachment))}
        trail = session.execute(select(SPEC.audit).where(SPEC.audit.c.action == "intake.result_photos.unclaimed")
                                ).all()
    assert rows[residents] == (None, "material") and rows[colleagues] == (None, "material")
    assert rows[used] == (other_case["id"], "material")
    [entry] = trail
    detail = json.loads(entry.detail)
    assert entry.subject_id == case["id"] and detail["attachment_ids"] == [residents, colleagues, used, missing]
    # The resident's own photo stays hers: nobody but her downloads it.
    assert _download(intake, residents, intake.auth("resident")) == 404
    assert _download(intake, residents, intake.auth("resident", "u-resident-5")) == 200


def test_who_downloads_a_result_photo_is_who_downloads_the_requesters_files(intake):
    world = build(intake)
    a = world.a
    intake.deliver(CaseSigned(**work_order(a, 2, "wo-a"), actor_id=HANDLER))
    intake.deliver(CaseContacted(**work_order(a, 3, "wo-a"), actor_id=HANDLER))
    photo = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER).json()["id"]
    assert _resolved(intake, a, [photo], wo="wo-a") == "ack"
    wrong = []
    for name in PRINCIPALS:
        status = _download(intake, photo, headers(intake, name))
        if status != FILES_OF_A[name]:
            wrong.append(f"{name}: {status} (expected {FILES_OF_A[name]})")
    assert wrong == []


def test_a_result_that_is_not_the_cases_claims_no_photo(intake):
    case = intake.submit()
    _handled(intake, case)
    photo = upload(intake, jpeg_with_gps(), "image/jpeg", role="grid_worker", user_id=HANDLER).json()["id"]
    # An old order's result (not the case's current lead order) is only a note: its photos stay unclaimed.
    assert _resolved(intake, case, [photo], wo="wo-old") == "ack"
    assert intake.get(case["id"])["result_attachments"] == []
    with intake.rt.uow() as session:
        assert session.get(Attachment, photo).case_id is None
