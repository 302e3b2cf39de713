"""Open311 GeoReport v2 routes (市民报事标准接口), under ``/open311/v2``, in XML and JSON.

Errors come in the spec's shape and format (``[{"code", "description"}]`` or
``<errors><error>…``), with 400 for bad input, 403 for a bad ``api_key``, 404 for an unknown
service, request or jurisdiction. The logic lives in :mod:`gis.open311`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ConnDep, SettingsDep
from api.routes.ogc_support import Handler, base_url, status_of, validation_detail
from gis.apikeys import verify_api_key
from gis.categories import load_category
from gis.errors import DomainError, InvalidParameter, NotFound
from gis.open311 import requests as rq
from gis.open311.post import read_form, to_report
from gis.open311.services import service_definition, services, unknown_service
from gis.open311.xml import to_xml
from gis.photos_db import register_photo
from gis.report import report_case

PREFIX: Final = "/open311/v2"
JSON_TYPE: Final = "application/json; charset=utf-8"
XML_TYPE: Final = "text/xml; charset=utf-8"
Fmt = Annotated[str, Path(description="json 或 xml / json or xml", pattern="^(json|xml)$")]
_ERR = {
    "schema": {
        "type": "array",
        "items": {"type": "object", "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
    }
}
_XML = {"schema": {"type": "string"}}
DOC: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "成功 / success", "content": {"application/json": {"schema": {}}, "text/xml": _XML}},
    400: {"description": "参数错误 / bad request", "content": {"application/json": _ERR, "text/xml": _XML}},
    403: {"description": "api_key 无效 / bad api_key", "content": {"application/json": _ERR, "text/xml": _XML}},
    404: {"description": "不存在 / not found", "content": {"application/json": _ERR, "text/xml": _XML}},
}


def _format_of(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def render(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """A document in the asked format (XML root element ``root``)."""
    if fmt == "xml":
        return Response(to_xml(root, value), status_code=status, media_type=XML_TYPE)
    return Response(orjson.dumps(value), status_code=status, media_type=JSON_TYPE)


def open311_error(fmt: str, status: int, zh: str, en: str) -> Response:
    """Errors in the GeoReport v2 shape (Chinese first, English beside)."""
    code = 400 if status == 422 else status
    return render(fmt, "errors", [{"code": code, "description": f"{zh} / {en}"}], code)


class Open311Route(APIRoute):
    """A route whose errors come out as Open311 ``errors`` (in the request's format)."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler: domain and validation errors become Open311 errors."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except DomainError as exc:
                return open311_error(_format_of(request), status_of(exc), exc.detail_zh, exc.detail_en)
            except RequestValidationError as exc:
                _name, zh, en = validation_detail(exc)
                return open311_error(_format_of(request), 400, zh, en)
            except StarletteHTTPException as exc:  # a form that cannot be parsed at all
                zh = f"请求无法读取（{exc.detail}），请按表单格式提交。"
                en = f"The request cannot be read ({exc.detail}); send it as a form."
                return open311_error(_format_of(request), exc.status_code, zh, en)

        return handler


router = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2 市民报事"], route_class=Open311Route)


def _jurisdiction(conn: ConnDep, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    counties = rq.known_counties(conn)
    if raw not in counties:
        raise NotFound(
            f"没有辖区“{raw}”；jurisdiction_id 为区县代码：{'、'.join(counties)}。",
            f"Unknown jurisdiction_id '{raw}'; use a county code: {', '.join(counties)}.",
        )
    return raw


@router.get("/discovery.{fmt}", responses=DOC)
def discovery(request: Request, fmt: Fmt) -> Response:
    """服务发现 / discovery: the test and production endpoints and their formats."""
    url = base_url(request) + PREFIX
    changeset = "2026-01-01T00:00:00+08:00"
    endpoints = [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url,
            "changeset": changeset,
            "type": kind,
            "formats": ["text/xml", "application/json"],
        }
        for kind in ("production", "test")
    ]
    doc = {
        "changeset": changeset,
        "contact": "VillageMap 管理员 administrator (见首页 see the home page)",
        "key_service": "向管理员申请 api_key（villagemap api-key create）/ ask an administrator for an api_key",
        "endpoints": endpoints,
    }
    return render(fmt, "discovery", doc)


@router.get("/services.{fmt}", responses=DOC)
def list_services(conn: ConnDep, fmt: Fmt, jurisdiction_id: str | None = None) -> Response:
    """服务类别 / services: the problem categories with their group and keywords."""
    _jurisdiction(conn, jurisdiction_id)
    return render(fmt, "services", services(conn))


@router.get("/services/{service_code}.{fmt}", responses=DOC)
def get_service(conn: ConnDep, service_code: str, fmt: Fmt, jurisdiction_id: str | None = None) -> Response:
    """服务定义 / service definition: subtype (六堆 …) and attributes (六边 edge …)."""
    _jurisdiction(conn, jurisdiction_id)
    return render(fmt, "service_definition", service_definition(conn, service_code))


def _when(name: str, raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            name,
            f"{name} 须为 ISO 8601 时间（如 2022-01-05T08:00:00+08:00）。",
            f"{name} must be an ISO 8601 date-time (e.g. 2022-01-05T08:00:00+08:00).",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=rq.SHANGHAI)


def _list(name: str, raw: str | None, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    items = tuple(x.strip() for x in (raw or "").split(",") if x.strip())
    bad = [x for x in items if allowed is not None and x not in allowed]
    if bad:
        raise InvalidParameter(
            name, f"{name} 须为：{'、'.join(allowed or ())}。", f"{name} must be one of: {', '.join(allowed or ())}."
        )
    return items


@router.get("/requests.{fmt}", responses=DOC)
def list_requests(
    request: Request,
    conn: ConnDep,
    fmt: Fmt,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    """报事列表 / service requests: default the last 90 days, at most 1,000, newest first."""
    ids = _list("service_request_id", service_request_id)
    if any(not i.isdigit() or len(i) > 18 for i in ids):
        raise InvalidParameter(
            "service_request_id",
            "service_request_id 须为数字，逗号分隔。",
            "service_request_id must be numbers, comma-separated.",
        )
    codes = _list("service_code", service_code)
    known = {s["service_code"] for s in services(conn)}
    for code in codes:
        if code not in known:
            raise unknown_service(code)
    q = rq.RequestsQuery(
        tuple(int(i) for i in ids),
        codes,
        _when("start_date", start_date),
        _when("end_date", end_date),
        _list("status", status, ("open", "closed")),
        _jurisdiction(conn, jurisdiction_id),
    )
    return render(fmt, "service_requests", rq.list_requests(conn, q, base_url(request)))


@router.get("/requests/{service_request_id}.{fmt}", responses=DOC)
def get_request(
    request: Request, conn: ConnDep, service_request_id: str, fmt: Fmt, jurisdiction_id: str | None = None
) -> Response:
    """一个报事单 / one service request (a one-item list, as the spec has it)."""
    _jurisdiction(conn, jurisdiction_id)
    return render(fmt, "service_requests", rq.one_request(conn, service_request_id, base_url(request)))


async def _form(request: Request, max_bytes: int) -> tuple[list[tuple[str, str]], list[bytes]]:
    """The form's fields and the bytes of up to five ``media`` photos (the form is closed after)."""
    async with request.form() as form:
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        uploads = [v for k, v in form.multi_items() if not isinstance(v, str) and k == "media"][:5]
        files = [await upload.read(max_bytes + 1) for upload in uploads]
    return fields, files


def _api_key(fields: list[tuple[str, str]]) -> str:
    """The form's ``api_key`` (接口密钥); missing → 422 saying where to get one."""
    key = next((v for k, v in fields if k == "api_key"), "")
    if not key:
        raise InvalidParameter(
            "api_key", "缺少 api_key。请向管理员申请。", "api_key is required; ask an administrator for one."
        )
    return key


def _register_photos(request: Request, conn: Connection, files: list[bytes], user_id: int | None) -> list[str]:
    """Check the uploaded media (照片) and register them in the report's transaction; their sha256 ids.

    Nothing is written to disk yet: the files are stored once the report has been accepted, so a
    refused report leaves no photo file behind.
    """
    ids = []
    for content in files:
        info = request.app.state.photo_store.inspect(content)
        register_photo(conn, info, user_id)
        ids.append(info.sha256)
    return ids


@router.post(
    "/requests.{fmt}",
    status_code=201,
    responses=DOC | {201: DOC[200]},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "multipart/form-data": {"schema": {"type": "object"}},
            }
        }
    },
)
async def post_request(request: Request, conn: ConnDep, settings: SettingsDep, fmt: Fmt) -> Response:
    """上报 / create a service request (api_key required; lat/long WGS84); it becomes a case."""
    fields, files = await _form(request, settings.photo_max_bytes)
    owner = verify_api_key(conn, _api_key(fields))
    posted = read_form(fields)
    _jurisdiction(conn, next((v for k, v in fields if k == "jurisdiction_id"), None))
    try:
        category = load_category(conn, posted.service_code)
    except DomainError:
        raise unknown_service(posted.service_code) from None
    photo_ids = tuple(_register_photos(request, conn, files, owner.principal.user_id))
    data = to_report(posted, category, photo_ids)
    event = {"channel": "open311", "api_key": owner.name} | (
        {"media_url": posted.media_url} if posted.media_url else {}
    )
    case_id = report_case(
        conn,
        owner.principal,
        data,
        client_key=owner.client_key,
        max_vertices=settings.max_vertices,
        anonymous_limit=settings.anonymous_reports_per_hour,
        source="open311",
        event_data=event,
    )
    for content in files:  # after the report was accepted; its transaction commits after this
        request.app.state.photo_store.save(content)
    notice = "已受理，待立案 received, awaiting registration"
    return render(
        fmt,
        "service_requests",
        [{"service_request_id": str(case_id), "service_notice": notice, "account_id": None}],
        201,
    )
