"""Areas (行政区划与网格): ``GET /areas/{code}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ConnDep
from api.responses import GeoJSONResponse
from api.routes.docs import ERRORS, geojson_doc
from gis.regions import area_feature

router = APIRouter(tags=["areas 区域"])


@router.get(
    "/areas/{code}",
    response_class=GeoJSONResponse,
    responses=geojson_doc("区域（含边界、上级与下级）/ an area with its geometry, parents and children") | ERRORS,
)
def get_area(
    conn: ConnDep,
    code: Annotated[str, Path(description="6/9/12/15 位代码 / area code", max_length=15)],
) -> GeoJSONResponse:
    """区县、乡镇、村或网格 / a county, township, village or grid as a GeoJSON Feature."""
    return GeoJSONResponse(area_feature(conn, code))
