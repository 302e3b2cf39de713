"""Home page (首页): HTML for people, a JSON landing document for programs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import ConnDep
from gis.attribution import ATTRIBUTION, ATTRIBUTION_EN, LICENCE_URL
from gis.ogc.documents import landing_links
from gis.summary import home_summary

router = APIRouter(tags=["home 首页"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")


def _landing(base: str) -> dict[str, Any]:
    return {
        "title": "VillageMap 乡村人居环境整治地图",
        "description": "Rural living-environment cases, projects and facilities of 利通区 and 平罗县.",
        "attribution": ATTRIBUTION_EN,
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/"},
            {
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "href": f"{base}/openapi.json",
            },
            {"rel": "alternate", "type": "text/html", "href": f"{base}/?f=html"},
            {
                "rel": "data",
                "type": "application/geo+json",
                "title": "cases",
                "href": f"{base}/cases",
            },
            {
                "rel": "data",
                "type": "application/geo+json",
                "title": "projects",
                "href": f"{base}/projects",
            },
            {
                "rel": "data",
                "type": "application/geo+json",
                "title": "facilities",
                "href": f"{base}/facilities",
            },
            *landing_links(base),
        ],
    }


def _wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept


@router.get(
    "/",
    responses={
        200: {
            "description": "首页（HTML）或入口文档（JSON）/ home page or landing document",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def home(request: Request, conn: ConnDep) -> Response:
    """首页 / the home page for browsers (Accept: text/html), the landing JSON otherwise."""
    if not _wants_html(request):
        return JSONResponse(_landing(str(request.base_url).rstrip("/")))
    context = {"s": home_summary(conn), "attribution": ATTRIBUTION, "attribution_en": ATTRIBUTION_EN,
               "licence_url": LICENCE_URL}  # fmt: skip
    html: HTMLResponse = templates.TemplateResponse(request, "home.html", context)
    return html
