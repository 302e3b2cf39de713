"""What the standard interfaces' routes share (标准接口公共部分): errors in the standard's shape,
content negotiation, base URLs and documented responses.

OGC API routes use :class:`OgcRoute`, which turns domain and validation errors into the OGC
exception document ``{"code", "description"}`` (plus ``detail``/``detail_zh`` like every other
VillageMap error); database errors keep the app-wide handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from api.errors import STATUS_CODES
from gis.errors import DomainError, InvalidParameter

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
OGC_CODES: Final = {400: "InvalidParameterValue", 401: "NotAuthenticated", 403: "Forbidden", 404: "NotFound",
                    409: "Conflict", 422: "InvalidParameterValue", 429: "TooManyRequests"}  # fmt: skip

_EXCEPTION = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": {"type": "string"},
                "description": {"type": "string", "description": "English"},
                "description_zh": {"type": "string", "description": "中文说明"},
            },
        }
    }
}
OGC_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "参数错误 / invalid parameter (OGC exception)", "content": _EXCEPTION},
    404: {"description": "不存在 / not found (OGC exception)", "content": _EXCEPTION},
    503: {"description": "查询超时或数据库不可用 / timed out or database unavailable", "content": _EXCEPTION},
}


def ogc_error(status: int, detail_zh: str, detail_en: str, **extra: Any) -> JSONResponse:
    """An OGC exception document (``code``, ``description``) with the Chinese beside the English."""
    code = OGC_CODES.get(status, "ServerError")
    body: dict[str, Any] = {"code": code, "description": detail_en, "description_zh": detail_zh}
    body |= {"title": code, "status": status, "detail": detail_en, "detail_zh": detail_zh}
    body |= {k: v for k, v in extra.items() if k not in body}
    return JSONResponse(body, status_code=status)


def status_of(exc: DomainError) -> int:
    """The HTTP status the app-wide table gives a domain error."""
    return next((code for cls, code in STATUS_CODES.items() if isinstance(exc, cls)), 400)


def validation_detail(exc: RequestValidationError) -> tuple[str, str, str]:
    """(parameter, Chinese, English) of the first validation error."""
    first = exc.errors()[0]
    name = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")) or "request"
    return name, f"参数 {name} 无效：{first.get('msg', '')}", f"{name} is invalid: {first.get('msg', '')}"


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class OgcRoute(APIRoute):
    """A route whose errors come out as OGC exceptions (OGC 错误格式)."""

    def get_route_handler(self) -> Handler:
        """Wrap FastAPI's handler: domain and validation errors become OGC exception documents."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except DomainError as exc:
                status = status_of(exc)
                return ogc_error(400 if status == 422 else status, exc.detail_zh, exc.detail_en, **exc.extra)
            except RequestValidationError as exc:
                name, zh, en = validation_detail(exc)
                return ogc_error(400, zh, en, parameter=name)

        return handler


def base_url(request: Request) -> str:
    """The public base URL (``VILLAGEMAP_PUBLIC_BASE_URL`` behind a proxy, else the request's)."""
    configured: str = request.app.state.settings.public_base_url
    return configured.rstrip("/") or str(request.base_url).rstrip("/")


def wanted_format(request: Request, allowed: tuple[str, ...] = ("json", "html")) -> str:
    """``f`` wins (``geojson`` means json); otherwise ``Accept: text/html`` asks for HTML."""
    f = request.query_params.get("f")
    if f is not None:
        chosen = "json" if f.lower() in ("geojson", "application/geo+json", "application/json") else f.lower()
        if chosen not in allowed:
            raise InvalidParameter(
                "f", f"参数 f 须为：{'、'.join(allowed)}。", f"f must be one of: {', '.join(allowed)}.", value=f
            )
        return chosen
    accept = request.headers.get("accept", "")
    return "html" if "html" in allowed and "text/html" in accept else allowed[0]


def html_page(
    request: Request, title: str, doc: dict[str, Any], rows: list[dict[str, Any]] | None = None
) -> HTMLResponse:
    """The HTML view of an OGC document: its links, a table of rows and the JSON itself."""
    context = {"title": title, "doc": doc, "links": doc.get("links", []), "rows": rows or []}
    page: HTMLResponse = templates.TemplateResponse(request, "ogc_page.html", context)
    return page


def json_doc(description: str, media: str = "application/json") -> dict[int | str, dict[str, Any]]:
    """A 200 documented as JSON (or ``media``) and HTML."""
    content = {media: {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
    return {200: {"description": description, "content": content}}
