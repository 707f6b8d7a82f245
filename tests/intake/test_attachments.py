"""Uploads: type and size checked, EXIF/GPS stripped, thumbnails; only readers of the case download."""

import io

from PIL import Image

from services.intake import attachments


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (1200, 800), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:20 08:00:00"  # DateTime
    gps = {1: "N", 2: (30.0, 37.0, 42.0), 3: "E", 4: (104.0, 3.0, 8.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(intake, data: bytes, content_type: str, role="resident", user_id=None):
    return intake.client.post("/intake/v1/attachments", params={"filename": "../../photo.jpg"}, content=data,
                              headers={**intake.auth(role, user_id), "Content-Type": content_type})


def test_a_photo_is_stored_without_exif_or_gps_and_gets_a_thumbnail(intake):
    raw = jpeg_with_gps()
    with Image.open(io.BytesIO(raw)) as check:
        assert check.getexif().get_ifd(0x8825)  # the upload really carries GPS
    r = upload(intake, raw, "image/jpeg")
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["has_thumbnail"] and att["filename"] == "photo.jpg"
    stored = intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=intake.auth("resident"))
    assert stored.status_code == 200
    with Image.open(io.BytesIO(stored.content)) as img:
        assert img.size == (1200, 800)
        assert not img.getexif() and "exif" not in img.info
    thumb = intake.client.get(f"/intake/v1/attachments/{att['id']}/thumbnail", headers=intake.auth("resident"))
    with Image.open(io.BytesIO(thumb.content)) as t:
        assert max(t.size) == 320
    files = list(attachments.root(intake.settings.var_dir).rglob("*"))
    assert any(f.name.endswith(".thumb.jpg") for f in files)
    assert all(b"PhoneMaker" not in f.read_bytes() for f in files if f.is_file())


def test_wrong_types_damaged_files_and_oversize_are_refused(intake):
    r = upload(intake, b"MZ\x90\x00 not a picture", "application/x-msdownload")
    assert r.status_code == 415 and r.json()["error"]["code"] == "attachment.bad_type"
    r = upload(intake, b"\x89PNG but not really", "image/png")
    assert r.status_code == 422 and r.json()["error"]["code"] == "attachment.corrupt"
    r = upload(intake, jpeg_with_gps(), "image/png")  # a JPEG declared as PNG
    assert r.json()["error"]["code"] == "attachment.corrupt"
    r = upload(intake, b"", "image/jpeg")
    assert r.json()["error"]["code"] == "attachment.empty"
    r = upload(intake, b"%PDF-" + b"0" * (10 * 1024 * 1024 + 1), "application/pdf")
    assert r.status_code == 413 and r.json()["error"]["code"] == "attachment.too_large"
    assert upload(intake, b"%PDF-1.7 minimal", "application/pdf").status_code == 201


def test_attachments_join_a_case_and_only_its_readers_download_them(intake):
    att = upload(intake, jpeg_with_gps(), "image/jpeg").json()
    case = intake.submit(attachment_ids=[att["id"]])
    assert [a["id"] for a in intake.get(case["id"])["attachments"]] == [att["id"]]
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "x",
                                                     "attachment_ids": [att["id"]]}, headers=intake.auth("resident"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "case.attachment_used"
    stranger = intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=intake.auth("resident", "u-x"))
    assert stranger.status_code == 404
    from .conftest import dispatched
    # a handler reads the files of the cases its unit holds (see test_scope.py)
    assert intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=intake.auth("grid_worker")
                             ).status_code == 404
    intake.deliver(dispatched(case))
    handler = intake.client.get(f"/intake/v1/attachments/{att['id']}", headers=intake.auth("grid_worker"))
    assert handler.status_code == 200
    other = upload(intake, b"%PDF-1.7", "application/pdf", user_id="u-other").json()
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/supplements",
                           json={"text": "补充", "attachment_ids": [other["id"]]}, headers=intake.auth("resident"))
    assert r.json()["error"]["code"] == "case.attachment_invalid"
    mine = upload(intake, b"%PDF-1.7", "application/pdf").json()
    r = intake.client.post(f"/intake/v1/cases/{case['id']}/supplements",
                           json={"text": "补充一份证明", "attachment_ids": [mine["id"]]},
                           headers=intake.auth("resident"))
    assert r.status_code == 200 and len(r.json()["attachments"]) == 2


def test_the_answer_to_a_submission_lists_the_files_it_attached_as_the_case_shows_them(intake):
    photo = upload(intake, jpeg_with_gps(), "image/jpeg").json()
    document = upload(intake, b"%PDF-1.7", "application/pdf").json()
    case = intake.submit(attachment_ids=[document["id"], photo["id"]])
    assert len(case["attachments"]) == 2
    assert case["attachments"] == intake.get(case["id"])["attachments"]
    assert intake.submit(description="没有附件的诉求，垃圾桶满了")["attachments"] == []


def test_an_attachment_listed_twice_is_refused_as_listed_twice_not_as_missing_or_someone_elses(intake):
    mine = upload(intake, b"%PDF-1.7", "application/pdf").json()
    r = intake.client.post("/intake/v1/cases", json={"category": "env.garbage", "description": "垃圾桶满了",
                                                     "attachment_ids": [mine["id"], mine["id"]]},
                           headers=intake.auth("resident"))
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("case.attachment_repeated", "attachment_ids")
    assert intake.submit(attachment_ids=[mine["id"]])["attachments"][0]["id"] == mine["id"]  # still hers to use


def test_an_upload_whose_row_is_not_committed_leaves_no_file_behind(intake):
    import pytest
    from sqlalchemy import text

    with intake.rt.engine.begin() as conn:  # the commit of the attachment row will fail
        conn.execute(text("DROP TABLE attachments"))
    with pytest.raises(Exception):  # noqa: B017 - the database error itself, whatever its class
        upload(intake, jpeg_with_gps(), "image/jpeg")
    stored = attachments.root(intake.settings.var_dir)
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]


def test_a_files_own_name_is_not_shown_to_handlers_who_may_not_see_the_person(intake):
    from .conftest import dispatched

    def named(name: str, data: bytes, content_type: str) -> str:
        r = intake.client.post("/intake/v1/attachments", params={"filename": name}, content=data,
                               headers={**intake.auth("resident"), "Content-Type": content_type})
        assert r.status_code == 201 and r.json()["filename"] == name  # the uploader sees her own name
        return r.json()["id"]

    door = named("门牌_玉林北路88号.jpg", jpeg_with_gps(), "image/jpeg")
    letter = named("证明.pdf", b"%PDF-1.7 minimal", "application/pdf")
    secret = intake.submit(confidential=True, attachment_ids=[door, letter], address="玉林北路 88 号")
    phoned = named("联系我13912340001.pdf", b"%PDF-1.7 minimal", "application/pdf")
    plain = intake.submit(attachment_ids=[phoned], description="路灯不亮", category="facility.streetlight")
    for c in (secret, plain):
        intake.deliver(dispatched(c, 1, f"wo-{c['id'][:4]}"))
    # A confidential case: handlers see the matter, its files under neutral names.
    for role in ("grid_worker", "community_staff", "street_dispatcher", "supervisor"):
        view = intake.get(secret["id"], role=role)
        assert [a["filename"] for a in view["attachments"]] == ["附件1.jpg", "附件2.pdf"], role
        assert "玉林北路88" not in str(view) and "玉林北路 88" not in str(view), role
    assert [a["filename"] for a in intake.get(secret["id"])["attachments"]] == ["门牌_玉林北路88号.jpg", "证明.pdf"]
    assert [a["filename"] for a in intake.get(secret["id"], role="admin")["attachments"]] == \
        ["门牌_玉林北路88号.jpg", "证明.pdf"]
    # An ordinary case: handlers see neutral names too (a name may hold anything); the uploader her own.
    assert [a["filename"] for a in intake.get(plain["id"], role="grid_worker")["attachments"]] == ["附件1.pdf"]
    assert [a["filename"] for a in intake.get(plain["id"])["attachments"]] == ["联系我13912340001.pdf"]
