"""Vector tileset metadata (瓦片集说明): OGC API – Tiles tileset documents and TileJSON 3.0.

The tile path is ``…/tiles/WebMercatorQuad/{z}/{x}/{y}`` (VillageMap's contract, the XYZ order
MapLibre templates use). The tileset's ``item`` link is a URI template whose variables are named
``{tileMatrix}/{tileCol}/{tileRow}``, so a client that fills the template by name asks for the
right tile.
"""

from __future__ import annotations

from typing import Any, Final

from gis.attribution import ATTRIBUTION_EN
from gis.ogc.catalogue import FAMILIES, Collection
from gis.ogc.documents import JSON, MVT, link
from gis.ogc.tiles import MAX_ZOOM

TMS_URI: Final = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857: Final = "http://www.opengis.net/def/crs/EPSG/0/3857"
FIELDS: Final = {"code": "String", "category": "String", "status": "String", "state": "String", "subtype": "String",
                 "name": "String", "level": "String", "collapsed": "Boolean", "aggregated": "Boolean",
                 "count": "Number"}  # fmt: skip


def _layer(col: Collection) -> dict[str, Any]:
    return {
        "id": col.id,
        "title": col.title,
        "dataType": "vector",
        "geometryDimension": FAMILIES[col.family][0],
        "minTileMatrix": "0",
        "maxTileMatrix": str(MAX_ZOOM),
    }


def tileset_doc(cols: list[Collection], tiles_url: str, title: str) -> dict[str, Any]:
    """The tileset metadata of ``tiles_url`` (``…/tiles/WebMercatorQuad``), one layer per collection."""
    return {
        "title": title,
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "layers": [_layer(c) for c in cols],
        "links": [
            link(tiles_url, "self", JSON, title),
            link(f"{tiles_url}?f=tilejson", "alternate", JSON, "TileJSON"),
            link(f"{tiles_url}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}", "item", MVT, "瓦片 tile", templated=True),
            link(TMS_URI, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", JSON, "WebMercatorQuad"),
        ],
    }


def tilesets_doc(tiles_url: str, title: str) -> dict[str, Any]:
    """``…/tiles``: the one tileset (WebMercatorQuad) with its links."""
    entry = {"title": title, "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI,
             "links": [link(f"{tiles_url}/WebMercatorQuad", "self", JSON, title)]}  # fmt: skip
    return {"tilesets": [entry], "links": [link(tiles_url, "self", JSON, title)]}


def tilejson(cols: list[Collection], tiles_url: str, extent: list[float], title: str) -> dict[str, Any]:
    """TileJSON 3.0.0 for MapLibre and other XYZ clients."""
    west, south, east, north = extent
    return {
        "tilejson": "3.0.0",
        "name": title,
        "tiles": [f"{tiles_url}/{{z}}/{{x}}/{{y}}"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": extent,
        "center": [round((west + east) / 2, 6), round((south + north) / 2, 6), 9],
        "attribution": ATTRIBUTION_EN,
        "vector_layers": [{"id": c.id, "description": c.description, "fields": FIELDS} for c in cols],
    }
