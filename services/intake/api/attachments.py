"""Uploading photos and documents, and downloading them for the case's readers."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from shared.deps import CurrentUser, Runtime, Uow
from shared.errors import ApiError
from shared.fields import Meaningful

from .. import attachments, privacy, views
from ..schemas import AttachmentView
from .deps import ReadableAttachment, UploadLimit, answers

router = APIRouter(tags=["附件 attachments"])

BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")


# Async: the body is read without holding a worker thread; the save (Pillow, disk, its own
# transaction, see attachments.save) runs in the thread pool.
@router.post("/attachments", status_code=201, response_model=AttachmentView,
             summary="上传照片或附件（请求体为文件本身）upload a photo or document",
             description="Content-Type 为 image/jpeg、image/png、image/webp 或 application/pdf；"
                         "图片的 EXIF 和 GPS 信息会被去除并生成缩略图。返回的 id 用于提交或补充诉求；"
                         "一天内未被任何诉求使用的附件会被删除。每人每小时最多上传 60 个，同一地址每小时最多 300 个。",
             dependencies=[UploadLimit], responses=answers(415),
             openapi_extra={"requestBody": {"required": True, "content": {t: BINARY for t in FILE_TYPES}}})
async def upload(request: Request, user: CurrentUser, rt: Runtime,
                 filename: Annotated[Meaningful | None, Query(
                     max_length=120, description="原文件名（不能为空白，不能含控制字符）the file's name")] = None
                 ) -> AttachmentView:
    attachments.refuse_oversize(request.headers.get("content-length"))
    data = await request.body()
    saved = await run_in_threadpool(attachments.save, rt, user.id, request.headers.get("content-type", ""),
                                    filename, data)
    return views.attachment_view(saved, saved.filename)  # the uploader's own name


@router.get("/attachments/{attachment_id}", summary="下载附件 download", response_class=FileResponse,
            description="保密诉求的附件每次下载都记入审计。",
            responses={200: {"description": "文件 the file", "content": {t: BINARY for t in FILE_TYPES}},
                       **answers(404)})
def download(found: ReadableAttachment, rt: Runtime, uow: Uow):
    attachment, case = found
    if case is not None:
        privacy.record_download(uow.audit, case, attachment.id, "file")
    return FileResponse(attachments.root(rt.settings.var_dir) / attachment.path, media_type=attachment.content_type)


@router.get("/attachments/{attachment_id}/thumbnail", summary="缩略图 thumbnail", response_class=FileResponse,
            responses={200: {"description": "JPEG 缩略图 the thumbnail", "content": {"image/jpeg": BINARY}},
                       **answers(404)})
def thumbnail(found: ReadableAttachment, rt: Runtime, uow: Uow):
    attachment, case = found
    if attachment.thumb_path is None:
        raise ApiError(404, "attachment.not_found")
    if case is not None:
        privacy.record_download(uow.audit, case, attachment.id, "thumbnail")
    return FileResponse(attachments.root(rt.settings.var_dir) / attachment.thumb_path, media_type="image/jpeg")
