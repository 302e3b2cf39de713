"""Maps (地图): a grid's patrol map as HTML, served or saved as one self-contained file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from api.deps import ConnDep, strict_query
from api.responses import STATIC_PREFIX
from api.routes.docs import ERRORS, html_doc
from gis.attribution import ATTRIBUTION
from gis.patrol import patrol_map_layers
from maps.assets import inline, served
from maps.patrol import CategoryStyle, PatrolMapData, render_patrol_map

router = APIRouter(tags=["maps 地图"])


def patrol_map_data(layers: dict[str, Any]) -> PatrolMapData:
    """Turn the layers from PostGIS into what the map renderer takes."""
    grid, village = layers["grid"], layers["village"]
    title = f"{layers['township_name']} {grid['properties']['name']} 巡查图"
    return PatrolMapData(
        title=title,
        grid=grid,
        village=village,
        neighbours=layers["neighbours"],
        lines=layers["lines"],
        cases=layers["cases"],
        categories=[CategoryStyle(**c) for c in layers["categories"]],
        attribution=ATTRIBUTION,
    )


@router.get(
    "/grids/{grid_code}/patrol-map",
    response_class=HTMLResponse,
    responses=html_doc("网格巡查图 / the grid's patrol map") | ERRORS,
    dependencies=[strict_query("download")],
)
def patrol_map(
    conn: ConnDep,
    grid_code: Annotated[str, Path(description="15 位网格代码 / 15-digit grid code", max_length=15)],
    download: Annotated[bool, Query(description="下载离线单文件 / save as one self-contained file")] = False,
) -> HTMLResponse:
    """网格巡查图 / the patrol map of a grid: boundaries, open cases by category, legend."""
    data = patrol_map_data(patrol_map_layers(conn, grid_code))
    html = render_patrol_map(data, assets=inline() if download else served(STATIC_PREFIX))
    headers = {"Content-Disposition": f'attachment; filename="patrol-map-{grid_code}.html"'} if download else None
    return HTMLResponse(html, headers=headers)
