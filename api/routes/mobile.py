"""Field pages (移动端 H5): sign-in and home, report, worklist, case, patrol map — for phones.

Plain server-rendered pages with a little JavaScript, Chinese first, served by VillageMap itself
(no CDN, no app install; they also work in WeChat's built-in browser). The pages carry no case data
and nobody's personal data: the JavaScript asks the JSON API with the bearer token kept in the
phone's ``localStorage``, and the API applies every view rule. Scripts, styles and icons come from
``api/static/mobile`` through routes here; the service worker is served at ``/m/sw.js`` so that its
scope covers ``/m/``, and the patrol map is served again at ``/m/patrol/{grid}`` so the service
worker may keep it for offline reading.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import PrincipalDep
from api.deps import ConnDep, SettingsDep
from api.responses import STATIC_PREFIX
from api.routes.docs import ERRORS, html_doc
from api.routes.maps import patrol_map
from gis.categories_read import categories_json
from gis.errors import NotFound
from gis.patrol_route import RouteRequest
from maps.assets import LEAFLET

router = APIRouter(tags=["mobile 移动端"])
API_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = API_DIR / "static" / "mobile"
TEMPLATE_DIR = API_DIR / "templates"
templates = Jinja2Templates(directory=TEMPLATE_DIR)
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
NO_CACHE = {"Cache-Control": "no-cache"}
PAGES = ("/m/", "/m/report", "/m/worklist", "/m/case")
BACK_LINK = (
    '<a href="/m/worklist" class="vm-m-back" style="position:fixed;z-index:1200;left:10px;top:96px;'
    "background:#0b4f2a;color:#fff;padding:12px 18px;border-radius:24px;font:17px sans-serif;"
    'text-decoration:none;box-shadow:0 2px 6px rgba(0,0,0,.4)">← 工单 Worklist</a>'
)


def static_files() -> list[str]:
    """Every file the field pages use, relative to ``api/static/mobile`` (sorted)."""
    return sorted(str(p.relative_to(STATIC_DIR)) for p in STATIC_DIR.rglob("*") if p.is_file() and p.suffix in TYPES)


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A hash of the static files and templates: a new one makes phones fetch everything again."""
    digest = hashlib.sha256()
    for path in sorted([*STATIC_DIR.rglob("*"), *(TEMPLATE_DIR / "mobile").rglob("*")]):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def precache_urls() -> list[str]:
    """What the service worker stores when installed: pages, scripts, icons and Leaflet."""
    leaflet = [f"{STATIC_PREFIX}/leaflet/{name}" for name in LEAFLET.files()]
    return [*PAGES, *(f"/m/static/{name}" for name in static_files()), *leaflet]


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    base = {"v": asset_version(), "leaflet": f"{STATIC_PREFIX}/leaflet"}
    response: HTMLResponse = templates.TemplateResponse(request, f"mobile/{name}", base | context, headers=NO_CACHE)
    return response


@router.get("/m/", response_class=HTMLResponse, responses=html_doc("登录与首页 / sign-in and home"))
def home(request: Request) -> HTMLResponse:
    """登录与首页 / sign-in, then a home per role (filled in by the page from ``/auth/me``)."""
    return _page(request, "index.html", page="home")


@router.get("/m", include_in_schema=False)
def home_redirect() -> Response:
    """``/m`` → ``/m/``."""
    return Response(status_code=308, headers={"Location": "/m/"})


@router.get("/m/report", response_class=HTMLResponse, responses=html_doc("上报问题 / report a problem"))
def report_page(request: Request, conn: ConnDep) -> HTMLResponse:
    """上报 / photo, location (EXIF, GPS or map), category buttons, description, duplicates nearby."""
    categories = json.loads(categories_json(conn, "problem"))["categories"]
    return _page(request, "report.html", page="report", categories=categories)


@router.get("/m/worklist", response_class=HTMLResponse, responses=html_doc("我的工单 / my worklist"))
def worklist_page(request: Request) -> HTMLResponse:
    """工单 / the signed-in user's cases, overdue first, with the live distance to each."""
    return _page(request, "worklist.html", page="worklist")


@router.get("/m/case", response_class=HTMLResponse, include_in_schema=False)
def case_shell(request: Request) -> HTMLResponse:
    """The case page without an id: what the service worker shows for a case never opened online."""
    return _page(request, "case.html", page="case")


@router.get("/m/cases/{case_id}", response_class=HTMLResponse, responses=html_doc("案件 / one case") | ERRORS)
def case_page(request: Request, case_id: Annotated[int, PathParam(ge=1)]) -> HTMLResponse:
    """案件详情 / the case, its photos and history, and the actions you may take."""
    del case_id  # the page reads it from its own URL (the same page works from the offline cache)
    return _page(request, "case.html", page="case")


@router.get("/m/patrol/{grid_code}", response_class=HTMLResponse, responses=html_doc("巡查图 / patrol map") | ERRORS)
def patrol_page(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep,
    grid_code: Annotated[str, PathParam(pattern=r"^\d{15}$")],
) -> HTMLResponse:  # fmt: skip
    """巡查图 / the grid's patrol map inside the field pages' scope (kept offline by the service worker).

    The page is opened by navigation, without the bearer token: it is the public patrol map.
    """
    q = RouteRequest(grid_code)
    page = patrol_map(request=request, conn=conn, settings=settings, p=p, q=q, grid_code=grid_code)
    html = bytes(page.body).decode().replace("<body>", "<body>\n" + BACK_LINK, 1)
    return HTMLResponse(html, headers=NO_CACHE)


@router.get("/m/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The service worker (离线缓存与同步), with this version's list of files to keep."""
    script = (TEMPLATE_DIR / "mobile" / "sw.js").read_text(encoding="utf-8")
    script = script.replace("__VERSION__", asset_version()).replace("__PRECACHE__", json.dumps(precache_urls()))
    return Response(script, media_type="text/javascript", headers=NO_CACHE | {"Service-Worker-Allowed": "/m/"})


@router.get("/m/manifest.webmanifest", include_in_schema=False)
def manifest() -> Response:
    """Web app manifest: name, colours and icon for 'add to home screen'."""
    body = {"name": "VillageMap 乡村整治 现场", "short_name": "现场", "start_url": "/m/", "scope": "/m/",
            "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b4f2a", "lang": "zh-CN",
            "icons": [{"src": "/m/static/icons/app.svg", "sizes": "any", "type": "image/svg+xml"}]}  # fmt: skip
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")


@router.get("/m/static/{name:path}", include_in_schema=False)
def static(name: str) -> FileResponse:
    """A script, style or icon of the field pages (only files under ``api/static/mobile``)."""
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file() or path.suffix not in TYPES:
        raise NotFound(f"没有文件 {name}。", f"No file {name}.")
    media = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media, headers=NO_CACHE)
