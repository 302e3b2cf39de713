"""Projects (建设项目) and facilities (设施) read routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AfterDep, BBoxDep, ConnDep, LimitDep, LinksDep, strict_query
from api.responses import GeoJSONResponse
from api.routes.docs import ERRORS, geojson_doc
from gis import facilities, projects
from gis.errors import InvalidParameter
from gis.filters import parse_codes
from gis.layers import LayerQuery

router = APIRouter()
AreaQ = Annotated[str | None, Query(description="区县/乡镇/村代码 / area code")]
CategoryQ = Annotated[str | None, Query(description="类别代码，逗号分隔 / category codes")]


def _kind_categories(kind: str | None, category: str | None) -> tuple[str, ...]:
    chosen = parse_codes("category", category)
    if kind is None:
        return chosen
    if kind not in projects.KIND_CATEGORY:
        raise InvalidParameter("kind", "参数 kind 须为 road 或 water。", "kind must be road or water.", value=kind)
    return (*chosen, projects.KIND_CATEGORY[kind]) if chosen else (projects.KIND_CATEGORY[kind],)


@router.get(
    "/projects",
    tags=["projects 项目"],
    response_class=GeoJSONResponse,
    responses=geojson_doc("项目列表 / a page of projects") | ERRORS,
    dependencies=[strict_query("kind", "category", "status", "area", "bbox", "limit", "after")],
)
def list_projects(
    conn: ConnDep,
    links: LinksDep,
    bbox: BBoxDep,
    limit: LimitDep,
    after: AfterDep,
    area: AreaQ = None,
    category: CategoryQ = None,
    kind: Annotated[str | None, Query(description="road（道路）或 water（水务）")] = None,
    status: Annotated[str | None, Query(description="状态 / statuses, comma-separated")] = None,
) -> GeoJSONResponse:
    """项目列表 / road and water projects with their progress."""
    q = LayerQuery(_kind_categories(kind, category), parse_codes("status", status), area, bbox, after, limit)
    return GeoJSONResponse(projects.project_page(conn, q, links))


@router.get(
    "/projects/{project_id}",
    tags=["projects 项目"],
    response_class=GeoJSONResponse,
    responses=geojson_doc("一个项目 / one project") | ERRORS,
)
def get_project(conn: ConnDep, project_id: Annotated[int, Path(ge=1)]) -> GeoJSONResponse:
    """一个项目 / one project as a Feature."""
    return GeoJSONResponse(projects.project_feature(conn, project_id))


@router.get(
    "/facilities",
    tags=["facilities 设施"],
    response_class=GeoJSONResponse,
    responses=geojson_doc("设施列表 / a page of facilities") | ERRORS,
    dependencies=[strict_query("category", "state", "area", "bbox", "limit", "after")],
)
def list_facilities(
    conn: ConnDep,
    links: LinksDep,
    bbox: BBoxDep,
    limit: LimitDep,
    after: AfterDep,
    area: AreaQ = None,
    category: CategoryQ = None,
    state: Annotated[str | None, Query(description="状态 / states: planned, built, working, broken")] = None,
) -> GeoJSONResponse:
    """设施列表 / collection points and monitoring stations."""
    q = LayerQuery(parse_codes("category", category), parse_codes("state", state), area, bbox, after, limit)
    return GeoJSONResponse(facilities.facility_page(conn, q, links))


@router.get(
    "/facilities/{facility_id}",
    tags=["facilities 设施"],
    response_class=GeoJSONResponse,
    responses=geojson_doc("一个设施 / one facility") | ERRORS,
)
def get_facility(conn: ConnDep, facility_id: Annotated[int, Path(ge=1)]) -> GeoJSONResponse:
    """一个设施 / one facility as a Feature."""
    return GeoJSONResponse(facilities.facility_feature(conn, facility_id))
