"""Categories (问题类别) read routes and likely duplicates nearby, for forms and field pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.auth import PrincipalDep
from api.deps import ConnDep, strict_query
from api.responses import GEOJSON, GeoJSONResponse
from api.routes.docs import ERRORS, geojson_doc
from gis.categories_read import categories_json, category_json
from gis.nearby import nearby_cases

router = APIRouter(tags=["categories 类别"])
Code = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9_]+$", description="类别代码 / category code")]
JSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}
}


@router.get("/categories", responses=JSON_DOC | ERRORS, dependencies=[strict_query("kind")])
def list_categories(
    conn: ConnDep,
    kind: Annotated[str | None, Query(description="problem | project | facility")] = None,
) -> Response:
    """类别与规则 / categories with subtypes, attributes, close-out radius and accuracy limit (public)."""
    return Response(categories_json(conn, kind), media_type="application/json")


@router.get("/categories/{code}", responses=JSON_DOC | ERRORS)
def get_category(conn: ConnDep, code: Code) -> Response:
    """一个类别 / one category with its rules."""
    return Response(category_json(conn, code), media_type="application/json")


@router.get(
    "/categories/{code}/nearby",
    response_class=GeoJSONResponse,
    responses=geojson_doc("附近未结案的同类问题 / open cases of the category nearby, nearest first") | ERRORS,
    dependencies=[strict_query("lon", "lat", "crs")],
)
def nearby(
    conn: ConnDep,
    p: PrincipalDep,
    code: Code,
    lon: Annotated[float, Query(ge=-180, le=180, description="经度 / longitude")],
    lat: Annotated[float, Query(ge=-90, le=90, description="纬度 / latitude")],
    crs: Annotated[str | None, Query(description="EPSG:4326 (default), EPSG:4490, GCJ-02 or BD-09")] = None,
) -> GeoJSONResponse:
    """附近疑似重复 / open cases of this category within its duplicate radius of the point (上报前查重)."""
    return GeoJSONResponse(nearby_cases(conn, p, code, lon, lat, crs), media_type=GEOJSON)
