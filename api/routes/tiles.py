"""Vector tile routes (矢量瓦片): per collection and multi-layer, tileset metadata, TileJSON, a map page.

Tiles are built by PostGIS in one statement (:mod:`gis.ogc.tiles`), gzip-compressed when the
client accepts it, with an ETag and cache headers (public for the public view, private with a
token). ``X-Tile-Aggregated`` names the layers that were aggregated into counted clusters.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.auth import PrincipalDep
from api.deps import ConnDep, strict_query
from api.responses import STATIC_PREFIX
from api.routes.docs import html_doc
from api.routes.ogc_support import OGC_ERRORS, OgcRoute, base_url, templates, wanted_format
from gis.access import Principal
from gis.attribution import ATTRIBUTION
from gis.ogc.catalogue import Collection, data_extent, find_collection, listed_collections
from gis.ogc.documents import MVT
from gis.ogc.sources import source_for
from gis.ogc.tiledocs import tilejson, tileset_doc, tilesets_doc
from gis.ogc.tiles import build_tile, check_tile

router = APIRouter(tags=["vector tiles 矢量瓦片"], route_class=OgcRoute)
Z = Annotated[int, Path(description="缩放级别 / zoom (tile matrix)")]
X = Annotated[int, Path(description="列 / column (tileCol)")]
Y = Annotated[int, Path(description="行 / row (tileRow)")]
CollectionId = Annotated[str, Path(alias="collectionId", max_length=80)]
_TILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "Mapbox 矢量瓦片 / Mapbox vector tile",
          "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
    304: {"description": "未改变 / not modified (ETag)"},
}  # fmt: skip
TILE_DOC: Final = _TILE | OGC_ERRORS
_META: dict[int | str, dict[str, Any]] = {
    200: {"description": "瓦片集说明或 TileJSON / tileset metadata or TileJSON",
          "content": {"application/json": {"schema": {"type": "object"}}}},
}  # fmt: skip
META_DOC: Final = _META | OGC_ERRORS
MAP_DOC: Final = html_doc("矢量瓦片地图 / the county map from vector tiles")
ALL_TITLE: Final = "VillageMap 全部图层 all layers"


def _tile_response(request: Request, data: bytes, aggregated: list[str], p: Principal) -> Response:
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300" if p.anonymous else "private, max-age=60",
        "Vary": "Accept-Encoding, Authorization",
        "X-Tile-Aggregated": ",".join(aggregated) or "none",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        data = gzip.compress(data, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=MVT, headers=headers)


def _metadata(request: Request, cols: list[Collection], url: str, title: str, extent: list[float]) -> JSONResponse:
    if wanted_format(request, ("json", "tilejson")) == "tilejson":
        return JSONResponse(tilejson(cols, url, extent, title))
    return JSONResponse(tileset_doc(cols, url, title))


@router.get("/tiles", responses=META_DOC, dependencies=[strict_query()])
def tilesets(request: Request) -> JSONResponse:
    """瓦片集列表 / the multi-layer tilesets (WebMercatorQuad)."""
    return JSONResponse(tilesets_doc(f"{base_url(request)}/tiles", ALL_TITLE))


@router.get("/tiles/WebMercatorQuad", responses=META_DOC, dependencies=[strict_query()])
def tileset(request: Request, conn: ConnDep) -> JSONResponse:
    """多图层瓦片集说明（f=tilejson 为 TileJSON）/ multi-layer tileset metadata or TileJSON."""
    url = f"{base_url(request)}/tiles/WebMercatorQuad"
    return _metadata(request, listed_collections(conn), url, ALL_TITLE, data_extent(conn))


@router.get("/tiles/WebMercatorQuad/{z}/{x}/{y}", responses=TILE_DOC, dependencies=[strict_query()])
def all_layers_tile(request: Request, conn: ConnDep, p: PrincipalDep, z: Z, x: X, y: Y) -> Response:
    """多图层瓦片 / one tile with a layer per collection (aggregated where dense)."""
    tile = check_tile(z, x, y)
    sources = [source_for(c, p) for c in listed_collections(conn)]
    data, aggregated = build_tile(conn, sources, tile)
    return _tile_response(request, data, aggregated, p)


@router.get("/collections/{collectionId}/tiles", responses=META_DOC, dependencies=[strict_query()])
def collection_tilesets(request: Request, conn: ConnDep, collection_id: CollectionId) -> JSONResponse:
    """图层瓦片集列表 / the collection's tilesets."""
    col = find_collection(conn, collection_id)
    return JSONResponse(tilesets_doc(f"{base_url(request)}/collections/{col.id}/tiles", col.title))


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad", responses=META_DOC, dependencies=[strict_query()])
def collection_tileset(request: Request, conn: ConnDep, collection_id: CollectionId) -> JSONResponse:
    """图层瓦片集说明（f=tilejson 为 TileJSON）/ the collection's tileset metadata or TileJSON."""
    col = find_collection(conn, collection_id)
    url = f"{base_url(request)}/collections/{col.id}/tiles/WebMercatorQuad"
    return _metadata(request, [col], url, col.title, data_extent(conn))


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}", responses=TILE_DOC,
            dependencies=[strict_query()])  # fmt: skip
def collection_tile(
    request: Request, conn: ConnDep, p: PrincipalDep, collection_id: CollectionId, z: Z, x: X, y: Y
) -> Response:
    """图层瓦片 / one tile of one collection (aggregated into counted clusters where dense)."""
    tile = check_tile(z, x, y)
    data, aggregated = build_tile(conn, [source_for(find_collection(conn, collection_id), p)], tile)
    return _tile_response(request, data, aggregated, p)


@router.get("/maps/tiles", response_class=HTMLResponse, dependencies=[strict_query()], responses=MAP_DOC)
def tile_map(request: Request, conn: ConnDep) -> HTMLResponse:
    """全县矢量瓦片地图 / the whole county drawn from vector tiles (MapLibre, served locally)."""
    cols = listed_collections(conn)
    context = {"collections": cols, "extent": data_extent(conn), "vendor": STATIC_PREFIX, "attribution": ATTRIBUTION,
               "tiles": f"{base_url(request)}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"}  # fmt: skip
    page: HTMLResponse = templates.TemplateResponse(request, "ogc_tile_map.html", context)
    return page
