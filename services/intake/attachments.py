"""Photos and documents: type and size checked, EXIF/GPS stripped, thumbnails made; then claimed
by the case or the supplement that uses them.

An image is decoded with Pillow (its real format must match the declared type), turned
upright from its EXIF orientation, and re-encoded from the pixels alone, so no metadata —
camera, time, GPS position — survives. The original bytes are never stored.
"""

import io
import uuid
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import ApiError
from shared.runtime import ServiceRuntime

from . import config
from .models import Attachment

Image.MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb is refused, not decoded


def root(var_dir: Path) -> Path:
    return (var_dir / "attachments").resolve()


def _clean_image(data: bytes, expected_format: str) -> tuple[bytes, bytes]:
    """(stripped image, JPEG thumbnail) or ApiError."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != expected_format:
                raise ApiError(422, "attachment.corrupt", field="content_type")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") and expected_format != "JPEG" else "RGB"
            pixels = upright.convert(mode)
            clean = Image.new(mode, pixels.size)  # a new image carries no info/exif from the upload
            clean.paste(pixels)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ApiError(422, "attachment.corrupt", field="file") from None
    out = io.BytesIO()
    clean.save(out, format=expected_format, **({"quality": 90} if expected_format in ("JPEG", "WEBP") else {}))
    thumb = clean.convert("RGB")
    size = config.get().attachments.thumbnail_px
    thumb.thumbnail((size, size))
    tout = io.BytesIO()
    thumb.save(tout, format="JPEG", quality=80)
    return out.getvalue(), tout.getvalue()


def refuse_oversize(declared_length: str | None) -> None:
    """Refuse an upload by its Content-Length, before its body is read into memory."""
    if declared_length and declared_length.isdigit() and int(declared_length) > config.get().attachments.max_bytes:
        raise ApiError(413, "attachment.too_large", field="file")


def store(session: Session, var_dir: Path, owner_id: str, content_type: str, filename: str | None,
          data: bytes) -> Attachment:
    rules = config.get().attachments
    content_type = (content_type or "").split(";")[0].strip().lower()
    if not data:
        raise ApiError(422, "attachment.empty", field="file")
    if len(data) > rules.max_bytes:
        raise ApiError(413, "attachment.too_large", field="file")
    thumb = None
    if content_type in rules.image_types:
        data, thumb = _clean_image(data, rules.image_types[content_type])
    elif content_type in rules.document_types:
        if not data.startswith(rules.document_types[content_type].encode()):
            raise ApiError(422, "attachment.corrupt", field="content_type")
    else:
        raise ApiError(415, "attachment.bad_type", field="content_type")
    att_id = str(uuid.uuid4())
    folder = root(var_dir) / att_id[:2]
    folder.mkdir(parents=True, exist_ok=True)
    rel = f"{att_id[:2]}/{att_id}.{config.EXTENSIONS[content_type]}"
    (root(var_dir) / rel).write_bytes(data)
    thumb_rel = None
    if thumb is not None:
        thumb_rel = f"{att_id[:2]}/{att_id}.thumb.jpg"
        (root(var_dir) / thumb_rel).write_bytes(thumb)
    safe_name = Path(filename).name[:120] if filename else None
    att = Attachment(id=att_id, owner_id=owner_id, case_id=None, content_type=content_type, size=len(data),
                     filename=safe_name, path=rel, thumb_path=thumb_rel, created_at=utcnow())
    session.add(att)
    return att


def save(rt: ServiceRuntime, owner_id: str, content_type: str, filename: str | None, data: bytes) -> Attachment:
    """Store an upload in a transaction of its own: its files are written before the row commits,
    so a commit that fails must remove them again, which a request's unit of work (committed after
    the endpoint returns) could not do."""
    var_dir = rt.settings.var_dir
    written: list[str] = []
    try:
        with rt.uow() as session:
            attachment = store(session, var_dir, owner_id, content_type, filename, data)
            written = [p for p in (attachment.path, attachment.thumb_path) if p]
        return attachment
    except BaseException:
        # The row was not committed: its files must not stay behind as orphans.
        for rel in written:
            (root(var_dir) / rel).unlink(missing_ok=True)
        raise


def claim(session: Session, owner_id: str, ids: list[str], case_id: str) -> list[Attachment]:
    """Attach the owner's unused uploads to a case (at submission or in a supplement)."""
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise ApiError(422, "case.attachment_repeated", field="attachment_ids")
    rows = session.scalars(select(Attachment).where(Attachment.id.in_(ids))).all()
    if len(rows) != len(ids) or any(a.owner_id != owner_id for a in rows):
        raise ApiError(422, "case.attachment_invalid", field="attachment_ids")
    if any(a.case_id is not None for a in rows):
        raise ApiError(409, "case.attachment_used", field="attachment_ids")
    # The requester's material only: a handler's result photos (claim_results) do not use up her uploads.
    already = session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.case_id == case_id, Attachment.purpose == "material")) or 0
    if already + len(rows) > config.get().attachments.max_per_case:
        raise ApiError(422, "case.too_many_attachments", field="attachment_ids")
    for a in rows:
        a.case_id = case_id
    return list(rows)


def claim_results(session: Session, resolver_id: str, ids: list[str],
                  case_id: str) -> tuple[list[Attachment], list[str]]:
    """A handler's photos of the result (routing.case.resolved `photo_ids`): the uploads of the handler who
    resolved the order (`resolver_id`, the event's actor) that no case took yet become the case's result
    photos. (claimed, the ids left unclaimed.)

    Why only hers and only free ones: routing checked the ids' form, not whose files they are, so an id
    could name another person's upload (a resident's photo of her door, sent to another case) or a file
    already on a case; claiming it would show it to this case's requester. Such ids are left alone, never
    an error: the result itself stands, and the event is not retried for ever over a photo."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return [], []
    rows = session.scalars(select(Attachment).where(Attachment.id.in_(wanted), Attachment.owner_id == resolver_id,
                                                    Attachment.case_id.is_(None))
                           .with_for_update()).all()
    for a in rows:
        a.case_id, a.purpose = case_id, "result"
    claimed = {a.id for a in rows}
    return sorted(rows, key=lambda a: wanted.index(a.id)), [i for i in wanted if i not in claimed]
