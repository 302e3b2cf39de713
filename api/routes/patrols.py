"""Patrol planning and records (巡查): the optimal route of a grid, patrol tracks, who has not patrolled."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep
from api.deps import AfterDep, ConnDep, LimitDep, SettingsDep, strict_query
from api.responses import GeoJSONResponse
from api.routes.docs import ERRORS, WRITE_ERRORS, geojson_doc, html_doc
from gis.errors import InvalidField
from gis.filters import area_level, parse_codes
from gis.patrol_reads import PatrolQuery, iso_week, patrol_page, unpatrolled_grids
from gis.patrol_route import MAX_STOPS, RouteRequest, parse_lonlat, patrol_route
from gis.patrols import check_patrol_grid, record_patrol
from gis.tracks import read_geojson_track, read_gpx_track
from maps.pages import unpatrolled_page

router = APIRouter(tags=["patrol 巡查"])
GridCode = Annotated[str, Path(description="15 位网格代码 / 15-digit grid code", max_length=15)]


def route_request(
    grid_code: GridCode,
    start: Annotated[str | None, Query(description="起点 经度,纬度（默认村委会）/ start lon,lat")] = None,
    end: Annotated[str | None, Query(description="终点 经度,纬度（默认回到起点）/ end lon,lat")] = None,
    crs: Annotated[str | None, Query(description="起终点坐标系 / EPSG:4326 (default), GCJ-02, BD-09")] = None,
    category: Annotated[str | None, Query(description="类别，逗号分隔 / categories, comma-separated")] = None,
    status: Annotated[str | None, Query(description="状态，逗号分隔（默认全部未结案）/ statuses")] = None,
    overdue_first: Annotated[bool, Query(description="先巡查逾期问题 / visit overdue cases first")] = False,
    max_stops: Annotated[int, Query(ge=1, le=MAX_STOPS, description="最多巡查点数 / at most this many stops")] = 50,
    mode: Annotated[Literal["walk", "ride"], Query(description="步行或骑行 / walking or riding")] = "walk",
    costs: Annotated[
        Literal["auto", "network", "straight"],
        Query(description="auto：有路网按路网；network；straight：直线（椭球面）/ road network or straight line"),
    ] = "auto",
) -> RouteRequest:
    """The route's query parameters as a :class:`RouteRequest` (巡查路线参数; points converted to WGS84)."""
    statuses = parse_codes("status", status)
    return RouteRequest(
        grid_code,
        parse_lonlat("start", start, crs),
        parse_lonlat("end", end, crs),
        parse_codes("category", category),
        statuses or RouteRequest(grid_code).statuses,
        overdue_first,
        max_stops,
        mode,
        costs,
    )


RouteQuery = Annotated[RouteRequest, Depends(route_request)]

ROUTE_QUERY = ("start", "end", "crs", "category", "status", "overdue_first", "max_stops", "mode", "costs")


@router.get(
    "/grids/{grid_code}/patrol-route",
    response_class=GeoJSONResponse,
    responses=geojson_doc("巡查路线（GeoJSON）/ the patrol route as a FeatureCollection")
    | ERRORS
    | {422: WRITE_ERRORS[422]},
    dependencies=[strict_query(*ROUTE_QUERY)],
)
def get_patrol_route(conn: ConnDep, p: PrincipalDep, q: RouteQuery) -> GeoJSONResponse:
    """巡查路线 / the shortest round of the grid's open cases (stops, legs, route line, total, duration)."""
    return GeoJSONResponse(patrol_route(conn, p, q))


class PatrolBody(BaseModel):
    """巡查记录：轨迹（GeoJSON LineString + 每点时间，或 Feature 的 properties.times / coordTimes）或 GPX。"""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    grid_code: str = Field(min_length=15, max_length=15, description="网格代码 / grid code")
    track: dict[str, Any] | None = Field(None, description="GeoJSON LineString or Feature")
    times: list[str] | None = Field(None, description="ISO 8601 time per position, with zone")
    crs: str | None = Field(None, description="EPSG:4326 (default), EPSG:4490, GCJ-02, BD-09")
    gpx: str | None = Field(None, description="GPX 1.0/1.1 document (instead of track)")


@router.post(
    "/patrols",
    status_code=201,
    response_class=GeoJSONResponse,
    responses=geojson_doc("巡查记录（含有效性与途经问题）/ the stored patrol", 201) | WRITE_ERRORS,
)
def post_patrol(conn: ConnDep, settings: SettingsDep, p: PrincipalDep, body: PatrolBody) -> Response:
    """上传巡查轨迹 / a grid manager uploads a patrol: validity by the rules, cases passed within radius."""
    check_patrol_grid(p, body.grid_code)  # who may, before what the track says (401/403/404 first)
    area_level(body.grid_code, parameter="grid_code")
    if (body.track is None) == (body.gpx is None):
        raise InvalidField("track", "请提供 track（GeoJSON）或 gpx 之一。", "Send either 'track' (GeoJSON) or 'gpx'.")
    if body.gpx is not None:
        track = read_gpx_track(body.gpx, max_vertices=settings.max_vertices)
    else:
        track = read_geojson_track(body.track, body.times, body.crs, max_vertices=settings.max_vertices)
    patrol_id = record_patrol(conn, p, body.grid_code, track)
    page = patrol_page(conn, p, PatrolQuery(grid=body.grid_code, after=patrol_id - 1, limit=1))
    return JSONResponse(page["features"][0], status_code=201, media_type="application/geo+json",
                        headers={"Location": f"/patrols?grid={body.grid_code}"})  # fmt: skip


@router.get(
    "/patrols",
    response_class=GeoJSONResponse,
    responses=geojson_doc("巡查记录 / patrols in your areas") | WRITE_ERRORS,
    dependencies=[strict_query("grid", "from", "to", "limit", "after")],
)
def get_patrols(
    conn: ConnDep,
    p: PrincipalDep,
    limit: LimitDep,
    after: AfterDep,
    grid: Annotated[str | None, Query(description="网格或上级区域代码 / grid (or area) code")] = None,
    since: Annotated[date | None, Query(alias="from", description="起始日期（含）/ from date")] = None,
    until: Annotated[date | None, Query(alias="to", description="截止日期（含）/ to date, inclusive")] = None,
) -> JSONResponse:
    """巡查记录 / patrols of a grid (or area) between two local dates, with validity and passed cases."""
    if grid is not None:
        area_level(grid, parameter="grid")
    page = patrol_page(conn, p, PatrolQuery(grid, since, until, after, limit))
    return JSONResponse(page, media_type="application/geo+json")


@router.get(
    "/patrols/unpatrolled",
    responses=html_doc("本周未巡查的网格 / grids without a valid patrol this week") | WRITE_ERRORS,
    dependencies=[strict_query("area", "week")],
)
def get_unpatrolled(
    request: Request,
    conn: ConnDep,
    p: PrincipalDep,
    area: Annotated[str, Query(description="区域代码 / area code")],
    week: Annotated[str | None, Query(description="ISO 周，如 2022-W01（默认本周）/ ISO week")] = None,
) -> Response:
    """本周未巡查网格 / grids whose managers have no valid patrol in the week (HTML, or JSON)."""
    area_level(area)
    found = unpatrolled_grids(conn, p, area, iso_week(week))
    if "text/html" in request.headers.get("accept", "") or request.query_params.get("f") == "html":
        return HTMLResponse(unpatrolled_page(found))
    return JSONResponse(found)
