"""Maps (地图): the grid patrol map and its stop list, the projects, close-out and overview maps.

Every page is served with VillageMap's own assets, or with ``download=true`` as one
self-contained HTML file that works with no network. ``basemap=gaode`` draws the same map with
every overlay shifted to GCJ-02 for Gaode's tiles (display only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import PrincipalDep
from api.deps import ConnDep, SettingsDep, strict_query
from api.map_build import (
    MapView,
    patrol_map_data,
    patrol_map_for,
    shift_base,
    shift_features,
    shift_layers,
    thumbnail_ref,
)
from api.responses import STATIC_PREFIX
from api.routes.docs import ERRORS, WRITE_ERRORS, html_doc
from api.routes.patrols import ROUTE_QUERY, RouteQuery
from gis.attribution import ATTRIBUTION
from gis.maps_data import area_base, category_styles
from gis.maps_layers import closure_layers, overview_layers, project_layers
from gis.photos import PhotoStore
from maps.assets import AssetMode, inline, served
from maps.basemaps import BaseMapOptions
from maps.closures import ClosureMapData, render_closures_map
from maps.frame import AreaFrame
from maps.overview import OverviewMapData, render_overview_map
from maps.patrol import render_patrol_map
from maps.printlist import stop_list_page
from maps.projects import ProjectMapData, render_projects_map

__all__ = ["patrol_map_data", "router"]
router = APIRouter(tags=["maps 地图"])
GridCode = Annotated[str, Path(description="15 位网格代码 / 15-digit grid code", max_length=15)]
Download = Annotated[bool, Query(description="下载离线单文件 / save as one self-contained file")]
Basemap = Annotated[
    Literal["default", "gaode"], Query(description="default：WGS84 底图；gaode：叠加层转 GCJ-02 以配高德底图")
]
AreaQ = Annotated[str, Query(description="区县/乡镇/村代码 / county, township or village code")]
COMMON = ("download", "basemap")


def _assets(download: bool) -> AssetMode:
    return inline() if download else served(STATIC_PREFIX)


def _other_page(request: Request, gaode: bool, download: bool) -> str | None:
    """The same page in the other datum (WGS84 ⇄ GCJ-02); none for a downloaded file."""
    if download:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "basemap"]
    query = urlencode(kept + ([] if gaode else [("basemap", "gaode")]))
    return request.url.path + (f"?{query}" if query else "")


def _html(page: str, download: bool, filename: str) -> HTMLResponse:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if download else None
    return HTMLResponse(page, headers=headers)


@router.get(
    "/grids/{grid_code}/patrol-map",
    response_class=HTMLResponse,
    responses=html_doc("网格巡查图 / the grid's patrol map") | ERRORS,
    dependencies=[strict_query(*COMMON, "route", *ROUTE_QUERY)],
)
def patrol_map(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, q: RouteQuery, grid_code: GridCode,
    download: Download = False, basemap: Basemap = "default",
    route: Annotated[bool, Query(description="绘制巡查路线 / draw the patrol route")] = True,
) -> HTMLResponse:  # fmt: skip
    """网格巡查图 / a grid's patrol map: open cases by category, the route, stops, print list."""
    gaode = basemap == "gaode"
    view = MapView(q if route else None, gaode, download, settings.tianditu_token,
                   _other_page(request, gaode, download))  # fmt: skip
    data = patrol_map_for(conn, p, grid_code, view, request.app.state.photo_store)
    return _html(render_patrol_map(data, assets=_assets(download)), download, f"patrol-map-{grid_code}.html")


@router.get(
    "/grids/{grid_code}/patrol-list",
    response_class=HTMLResponse,
    responses=html_doc("巡查清单（A4 打印）/ the printable stop list") | ERRORS,
    dependencies=[strict_query(*ROUTE_QUERY)],
)
def patrol_list(conn: ConnDep, p: PrincipalDep, q: RouteQuery) -> HTMLResponse:
    """巡查清单 / the stop list of the grid's route, A4, to print and tick."""
    data = patrol_map_for(conn, p, q.grid_code, MapView(q), None)
    return HTMLResponse(stop_list_page(data.title, data.route or {}))


def _frame(conn: ConnDep, request: Request, area: str, title: str, gaode: bool, download: bool,
           token: str) -> AreaFrame:  # fmt: skip
    base = area_base(conn, area)
    name = str(base["area"]["properties"]["name"])
    options = BaseMapOptions("GCJ-02" if gaode else "EPSG:4326", token, _other_page(request, gaode, download))
    return AreaFrame(f"{name} {title}", shift_base(base) if gaode else base, ATTRIBUTION, basemaps=options)


@router.get(
    "/maps/projects",
    response_class=HTMLResponse,
    responses=html_doc("项目进度图 / projects by status") | ERRORS,
    dependencies=[strict_query(*COMMON, "kind", "area")],
)
def projects_map(
    request: Request, conn: ConnDep, settings: SettingsDep, area: AreaQ,
    kind: Annotated[Literal["road", "water"], Query(description="road（道路）或 water（水务）")] = "road",
    download: Download = False, basemap: Basemap = "default",
) -> HTMLResponse:  # fmt: skip
    """项目进度图 / road or water projects: built solid, the rest dashed; totals per township."""
    title = "道路项目进度图" if kind == "road" else "水务项目进度图"
    gaode = basemap == "gaode"
    frame = _frame(conn, request, area, title, gaode, download, settings.tianditu_token)
    layers = project_layers(conn, kind, area)
    if gaode:
        layers = shift_layers(layers, ("projects", "built"))
    page = render_projects_map(ProjectMapData(frame, kind, layers), assets=_assets(download))
    return _html(page, download, f"projects-{kind}-{area}.html")


@router.get(
    "/maps/closures",
    response_class=HTMLResponse,
    responses=html_doc("结案核查图 / close-outs and their distances") | WRITE_ERRORS,
    dependencies=[strict_query(*COMMON, "area", "from", "to")],
)
def closures_map(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, area: AreaQ,
    since: Annotated[date | None, Query(alias="from", description="结案日期起 / closed from")] = None,
    until: Annotated[date | None, Query(alias="to", description="结案日期止 / closed to")] = None,
    download: Download = False, basemap: Basemap = "default",
) -> HTMLResponse:  # fmt: skip
    """结案核查图 / closed cases, the inspector's position, the line and distance; near-limit ones red."""
    gaode = basemap == "gaode"
    layers = closure_layers(conn, p, area, since, until)
    frame = _frame(conn, request, area, "结案核查图", gaode, download, settings.tianditu_token)
    thumbs = _closure_thumbs(layers["features"], download, request.app.state.photo_store)
    if gaode:
        layers = shift_features(layers)
    data = ClosureMapData(frame, layers["features"], thumbs)
    return _html(render_closures_map(data, assets=_assets(download)), download, f"closures-{area}.html")


def _closure_thumbs(features: list[dict[str, object]], download: bool, photos: PhotoStore) -> dict[int, str]:
    out: dict[int, str] = {}
    for f in features:
        props = f["properties"]
        assert isinstance(props, dict)
        if props.get("kind") == "case" and props.get("photo"):
            out[int(props["id"])] = thumbnail_ref(int(props["id"]), str(props["photo"]), download, photos)
    return out


@router.get(
    "/maps/overview",
    response_class=HTMLResponse,
    responses=html_doc("总览图 / on-time closure rate, open cases clustered, heatmap") | ERRORS,
    dependencies=[strict_query(*COMMON, "area")],
)
def overview_map(
    request: Request, conn: ConnDep, settings: SettingsDep, p: PrincipalDep, area: AreaQ,
    download: Download = False, basemap: Basemap = "default",
) -> HTMLResponse:  # fmt: skip
    """总览图 / villages by on-time closure rate; open cases clustered; a heatmap to switch on."""
    gaode = basemap == "gaode"
    layers = overview_layers(conn, p, area)
    frame = _frame(conn, request, area, "人居环境整治总览图", gaode, download, settings.tianditu_token)
    if gaode:
        layers = shift_layers(layers, ("villages", "cases"))
    data = OverviewMapData(frame, layers, category_styles(conn))
    return _html(render_overview_map(data, assets=_assets(download)), download, f"overview-{area}.html")
