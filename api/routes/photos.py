"""Photos (照片): upload, attach to a case, and serve watermarked copies without GPS metadata."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from api.auth import ClientKeyDep, PrincipalDep
from api.deps import ConnDep, SettingsDep
from api.routes.docs import WRITE_ERRORS
from gis.case_photos import attach_photos, case_photos, may_attach, watermark_lines
from gis.photos import PhotoInfo, PhotoStore, check_size
from gis.photos_db import register_photo
from gis.report import check_upload_quota

router = APIRouter(tags=["photos 照片"])
CaseId = Annotated[int, Path(ge=1)]
PhotoId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="照片 id（sha256）")]
JPEG: dict[int | str, dict[str, Any]] = {
    200: {"description": "JPEG", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
}


def _store(request: Request) -> PhotoStore:
    store: PhotoStore = request.app.state.photo_store
    return store


def _describe(info: PhotoInfo) -> dict[str, Any]:
    position = None
    if info.exif_position is not None:
        position = {"type": "Point", "coordinates": [round(info.exif_position[0], 7), round(info.exif_position[1], 7)]}
    return {"id": info.sha256, "sha256": info.sha256, "content_type": info.content_type, "width": info.width,
            "height": info.height, "size_bytes": info.size_bytes, "exif_position": position,
            "exif_time": info.exif_time.isoformat() if info.exif_time else None}  # fmt: skip


def _save(request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, upload: UploadFile) -> PhotoInfo:
    if upload.size is not None:
        check_size(upload.size, settings.photo_max_bytes)
    data = upload.file.read(settings.photo_max_bytes + 1)
    info = _store(request).save(data)
    register_photo(conn, info, p.user_id)
    return info


@router.post("/photos", status_code=201, responses=WRITE_ERRORS)
def upload_photo(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, client: ClientKeyDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> JSONResponse:  # fmt: skip
    """上传照片 / upload a photo; the same bytes give the same id. EXIF GPS is offered as the location."""
    if p.anonymous:
        check_upload_quota(conn, client, settings.anonymous_reports_per_hour * 5)
    info = _save(request, conn, settings, p, file)
    return JSONResponse(_describe(info), status_code=201)


@router.post("/cases/{case_id}/photos", status_code=201, responses=WRITE_ERRORS)
def add_case_photos(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, case_id: CaseId,
    file: Annotated[list[UploadFile], File(description="一张或多张照片 / one or more photos")],
) -> JSONResponse:  # fmt: skip
    """补充照片 / attach more photos to a case (staff in scope or the assignee); recorded as an event."""
    may_attach(conn, p, case_id)  # refuse before any upload is stored
    infos = [_save(request, conn, settings, p, upload) for upload in file]
    attach_photos(conn, p, case_id, [i.sha256 for i in infos])
    return JSONResponse({"case_id": case_id, "photos": [_describe(i) for i in infos]}, status_code=201)


@router.get("/cases/{case_id}/photos", responses=WRITE_ERRORS)
def list_case_photos(conn: ConnDep, p: PrincipalDep, case_id: CaseId) -> dict[str, Any]:
    """案件照片 / the photos of a case (private-location categories within your scope only)."""
    return {"case_id": case_id, "photos": case_photos(conn, case_id, p)}


@router.get("/cases/{case_id}/photos/{photo_id}", response_class=Response, responses=JPEG | WRITE_ERRORS)
def photo_copy(request: Request, conn: ConnDep, p: PrincipalDep, case_id: CaseId, photo_id: PhotoId) -> Response:
    """带水印照片 / the photo, resized, watermarked with time, case code and place; no GPS metadata."""
    lines = watermark_lines(conn, case_id, photo_id, p)
    data = _store(request).public_copy(photo_id, lines=lines)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/cases/{case_id}/photos/{photo_id}/thumb", response_class=Response, responses=JPEG | WRITE_ERRORS)
def photo_thumbnail(request: Request, conn: ConnDep, p: PrincipalDep, case_id: CaseId, photo_id: PhotoId) -> Response:
    """缩略图 / a small copy without metadata, for lists and map popups."""
    watermark_lines(conn, case_id, photo_id, p)
    return FileResponse(_store(request).thumbnail(photo_id), media_type="image/jpeg")
