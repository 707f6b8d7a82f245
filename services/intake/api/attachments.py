"""Uploading photos and documents, and downloading them for the case's readers."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from shared.deps import CurrentUser, Runtime
from shared.errors import ApiError

from .. import attachments, views
from ..schemas import AttachmentView
from .deps import ReadableAttachment

router = APIRouter(tags=["附件 attachments"])


# Async: the body is read without holding a worker thread; the save (Pillow, disk, its own
# transaction, see attachments.save) runs in the thread pool.
@router.post("/attachments", status_code=201, response_model=AttachmentView,
             summary="上传照片或附件（请求体为文件本身）upload a photo or document",
             description="Content-Type 为 image/jpeg、image/png、image/webp 或 application/pdf；"
                         "图片的 EXIF 和 GPS 信息会被去除并生成缩略图。返回的 id 用于提交或补充诉求。",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                 "image/png": {"schema": {"type": "string", "format": "binary"}},
                 "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload(request: Request, user: CurrentUser, rt: Runtime,
                 filename: Annotated[str | None, Query(max_length=120)] = None) -> AttachmentView:
    attachments.refuse_oversize(request.headers.get("content-length"))
    data = await request.body()
    saved = await run_in_threadpool(attachments.save, rt, user.id, request.headers.get("content-type", ""),
                                    filename, data)
    return views.attachment_view(saved)


@router.get("/attachments/{attachment_id}", summary="下载附件 download", response_class=FileResponse)
def download(attachment: ReadableAttachment, rt: Runtime):
    return FileResponse(attachments.root(rt.settings.var_dir) / attachment.path, media_type=attachment.content_type)


@router.get("/attachments/{attachment_id}/thumbnail", summary="缩略图 thumbnail", response_class=FileResponse)
def thumbnail(attachment: ReadableAttachment, rt: Runtime):
    if attachment.thumb_path is None:
        raise ApiError(404, "attachment.not_found")
    return FileResponse(attachments.root(rt.settings.var_dir) / attachment.thumb_path, media_type="image/jpeg")
