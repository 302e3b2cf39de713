"""Files out and in (导出与导入): the ledger, cases in every GIS format, and imports with a report.

Exports are written chunk by chunk into a temporary file inside the request's transaction and then
streamed; the file is removed once sent. Imports take a multipart ``file`` (plus optional ``crs``,
``category`` and ``mapping``) and answer with the import report: 200 for a dry run that found no
problem, 201 when imported, 422 with every row-level problem when nothing could be imported.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api.auth import PrincipalDep
from api.deps import ConnDep, strict_query
from api.routes.docs import WRITE_ERRORS
from api.routes.office import download, media_doc
from gis.errors import InvalidParameter, NotAuthenticated
from gis.filters import area_level, parse_codes
from gis.gisio.export import MEDIA_TYPES, ExportQuery
from gis.gisio.exporter import export_cases
from gis.gisio.fields import parse_mapping
from gis.gisio.importer import import_file
from gis.gisio.limits import MAX_FILE_BYTES, check_size
from gis.gisio.normalize import ImportOptions
from gis.gisio.report import BadFile, ImportRejected, ImportReport
from gis.ledger import ledger_title, ledger_xlsx
from gis.photos import PhotoStore
from gis.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["files 导入导出"])
FILTERS = ("area", "category", "status", "from", "to")


def _query(
    area: str | None,
    category: str | None,
    status: str | None,
    start: date | None,
    end: date | None,
    crs: str | None = None,
) -> ExportQuery:
    if area is not None:
        area_level(area)
    return ExportQuery(
        area=area,
        categories=parse_codes("category", category),
        statuses=parse_codes("status", status),
        date_from=start,
        date_to=end,
        crs=crs or "EPSG:4326",
    )


def _signed_in(p: PrincipalDep) -> None:
    if p.anonymous:
        raise NotAuthenticated("导出与导入须登录。", "Sign in to export or import.")


Area = Annotated[str | None, Query(description="区县/乡镇/村/网格代码 / area code")]
Category = Annotated[str | None, Query(description="类别代码，逗号分隔 / category codes")]
Status = Annotated[str | None, Query(description="状态，逗号分隔 / statuses")]
From = Annotated[date | None, Query(alias="from", description="发现时间起（含）/ reported on or after")]
To = Annotated[date | None, Query(alias="to", description="发现时间止（含）/ reported on or before")]


@router.get(
    "/exports/ledger.xlsx",
    responses=media_doc("整改台账 / the ledger", XLSX_MEDIA_TYPE) | WRITE_ERRORS,
    dependencies=[strict_query(*FILTERS)],
)
def export_ledger(
    request: Request,
    conn: ConnDep,
    p: PrincipalDep,
    area: Area = None,
    category: Category = None,
    status: Status = None,
    start: From = None,
    end: To = None,
) -> Response:
    """整改台账 / the rectification ledger (XLSX, with photos before and after) of the cases in your scope."""
    _signed_in(p)
    store: PhotoStore = request.app.state.photo_store
    title = ledger_title(conn, area)
    data = ledger_xlsx(conn, p, _query(area, category, status, start, end), store, title)
    return download(data, XLSX_MEDIA_TYPE, f"{title.replace(' ', '-')}.xlsx")


@router.get(
    "/exports/cases.{fmt}",
    responses=media_doc("案件文件 / cases as a file", *MEDIA_TYPES.values()) | WRITE_ERRORS,
    dependencies=[strict_query(*FILTERS, "crs")],
)
def export_file(
    conn: ConnDep,
    p: PrincipalDep,
    fmt: Annotated[str, Path(description="geojson, gpkg, shp.zip, kml, csv, xlsx")],
    area: Area = None,
    category: Category = None,
    status: Status = None,
    start: From = None,
    end: To = None,
    crs: Annotated[str | None, Query(description="输出坐标系 / output CRS (EPSG:4326 default)")] = None,
) -> Response:
    """案件导出 / the cases in your scope as GeoJSON, GeoPackage, Shapefile zip, KML, CSV or XLSX."""
    _signed_in(p)
    if fmt not in MEDIA_TYPES:
        raise InvalidParameter(
            "fmt",
            f"格式须为 {'、'.join(MEDIA_TYPES)}。",
            f"The format must be one of {', '.join(MEDIA_TYPES)}.",
            value=fmt,
        )
    workdir = FilePath(tempfile.mkdtemp(prefix="vm-export-"))
    try:
        out, count = export_cases(conn, p, fmt, _query(area, category, status, start, end, crs), workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        out,
        media_type=MEDIA_TYPES[fmt],
        filename=f"cases.{fmt}",
        headers={"X-Count": str(count)},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )


def _save_upload(upload: UploadFile, into: FilePath, name: str) -> FilePath:
    if upload.size is not None:
        check_size(upload.size)
    suffix = "".join(ch for ch in FilePath(name).suffix.lower() if ch.isalnum() or ch == ".")[:8]
    target = into / f"upload{suffix}"
    total = 0
    with target.open("wb") as handle:
        while chunk := upload.file.read(1 << 20):
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                check_size(total)
            handle.write(chunk)
    check_size(total)
    return target


def _options(crs: str | None, category: str | None, mapping: str | None, dry_run: bool) -> ImportOptions:
    try:
        fields = parse_mapping(mapping)
    except ValueError as exc:
        raise InvalidParameter(
            "mapping",
            f"mapping 写法不对：“{exc}”；应为 源字段=目标,…",
            f"mapping: '{exc}' is not source=target",
            value=mapping,
        ) from None
    return ImportOptions(crs=crs or None, category=category or None, mapping=fields, dry_run=dry_run)


@router.post(
    "/imports",
    responses=media_doc("检查报告（试导入）/ the report of a dry run", "application/json")
    | media_doc("导入报告 / the report of an import", "application/json", status=201)
    | WRITE_ERRORS,
    dependencies=[strict_query("dry_run")],
)
def post_import(
    conn: ConnDep,
    p: PrincipalDep,
    file: Annotated[UploadFile, File(description="GeoJSON, GPKG, SHP zip, KML/KMZ, CSV or XLSX")],
    dry_run: Annotated[bool, Query(description="只检查不导入 / check only")] = True,
    crs: Annotated[str | None, Form(description="坐标系 EPSG:4326、EPSG:4490、GCJ-02、EPSG:4545 …")] = None,
    category: Annotated[str | None, Form(description="全部行的类别 / category for every row")] = None,
    mapping: Annotated[str | None, Form(description="字段映射 源字段=目标,… / column mapping")] = None,
) -> JSONResponse:
    """导入 / import a file as cases: checked as a whole first; a report with row-level problems."""
    _signed_in(p)
    p.require("inspector", "admin")
    workdir = FilePath(tempfile.mkdtemp(prefix="vm-upload-"))
    name = FilePath(file.filename or "upload").name
    try:
        try:
            path = _save_upload(file, workdir, name)
        except BadFile as exc:
            report = ImportReport(filename=name, format="", sha256="", dry_run=dry_run)
            report.error(None, None, exc.code, exc.detail_zh, exc.detail_en)
            raise ImportRejected(report) from None
        report = import_file(conn, path, name, _options(crs, category, mapping, dry_run), p)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return JSONResponse(report.as_dict(), status_code=200 if dry_run else 201)
