"""Assembling the patrol map (巡查图组装): PostGIS reads (gis/) → display data → renderer (maps/).

Shared by ``GET /grids/{code}/patrol-map`` and ``villagemap render-map``. The caller's view decides
what is on the map: private-location cases and the latest patrol track only within their scope,
photos of private categories likewise. For a Gaode view every GeoJSON is shifted to GCJ-02 here,
after reading and before drawing — never stored shifted. Thumbnails are links to VillageMap's own
photo routes on a served page and ``data:`` URIs in a self-contained file.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from gis.access import Principal
from gis.attribution import ATTRIBUTION
from gis.crs import Datum
from gis.display import navigation_points, shift_geojson
from gis.maps_data import case_extras, private_cases_in_scope
from gis.patrol import patrol_map_layers
from gis.patrol_reads import latest_patrol
from gis.patrol_route import RouteRequest, patrol_route
from gis.photos import PhotoStore
from maps.basemaps import BaseMapOptions
from maps.patrol import CategoryStyle, PatrolMapData

MAX_INLINE_THUMBS = 100


@dataclass(frozen=True)
class MapView:
    """How a patrol map is asked for (视图): route or not, datum, inline or served, base maps."""

    route: RouteRequest | None
    gcj02: bool = False
    inline: bool = False
    tianditu_token: str = ""
    other_page_url: str | None = None


def patrol_map_data(layers: dict[str, Any]) -> PatrolMapData:
    """Turn the layers from PostGIS into what the map renderer takes (public view, no route)."""
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


def patrol_map_for(
    conn: Connection, p: Principal, grid_code: str, view: MapView, photos: PhotoStore | None
) -> PatrolMapData:
    """Everything the patrol map of ``grid_code`` shows to ``p``, ready to render."""
    layers = patrol_map_layers(conn, grid_code)
    private = private_cases_in_scope(conn, p, grid_code)
    if private["features"]:
        layers["cases"] = {**layers["cases"], "features": [*layers["cases"]["features"], *private["features"]]}
        layers["categories"] = [*layers["categories"], *private["categories"]]
    route = json.loads(patrol_route(conn, p, view.route)) if view.route is not None else None
    patrol = latest_patrol(conn, p, grid_code)
    ids = [int(f["properties"]["id"]) for f in layers["cases"]["features"]]
    extras = _extras(case_extras(conn, p, ids), view, photos)
    data = replace(
        patrol_map_data(layers),
        route=route,
        patrol=patrol,
        extras=extras,
        basemaps=BaseMapOptions("GCJ-02" if view.gcj02 else "EPSG:4326", view.tianditu_token, view.other_page_url),
    )
    return shifted(data) if view.gcj02 else data


def _extras(found: dict[int, dict[str, Any]], view: MapView, photos: PhotoStore | None) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    inlined = 0
    for case_id, extra in found.items():
        at = [round(extra["lon"], 6), round(extra["lat"], 6)]
        item: dict[str, Any] = {"nav": navigation_points(extra["lon"], extra["lat"]), "at": at}
        photo = extra["photo"]
        if photo and not view.inline:
            item["thumb_url"] = f"/cases/{case_id}/photos/{photo}/thumb"
        elif photo and photos is not None and inlined < MAX_INLINE_THUMBS:
            item["thumb_url"] = thumbnail_ref(case_id, str(photo), True, photos)
            inlined += 1
        out[case_id] = item
    return out


def shifted(data: PatrolMapData) -> PatrolMapData:
    """The same map with every geometry in GCJ-02 (for Gaode tiles); navigation points unchanged."""
    gcj = Datum.GCJ02
    return replace(
        data,
        grid=shift_geojson(data.grid, gcj),
        village=shift_geojson(data.village, gcj),
        neighbours=shift_geojson(data.neighbours, gcj),
        lines=shift_geojson(data.lines, gcj),
        cases=shift_geojson(data.cases, gcj),
        route=shift_geojson(data.route, gcj) if data.route else None,
        patrol=shift_geojson(data.patrol, gcj) if data.patrol else None,
    )


def thumbnail_ref(case_id: int, photo: str, inline_file: bool, photos: PhotoStore | None) -> str:
    """A photo's thumbnail: VillageMap's own URL on a served page, a ``data:`` URI in a file."""
    if not inline_file or photos is None:
        return f"/cases/{case_id}/photos/{photo}/thumb"
    return "data:image/jpeg;base64," + base64.b64encode(photos.thumbnail(photo).read_bytes()).decode("ascii")


def shift_base(base: dict[str, Any]) -> dict[str, Any]:
    """An area's base layers shifted to GCJ-02 (display only)."""
    return {key: shift_geojson(value, Datum.GCJ02) for key, value in base.items()}


def shift_layers(layers: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The named FeatureCollections of a layer dict shifted to GCJ-02 (display only)."""
    return {key: shift_geojson(value, Datum.GCJ02) if key in keys else value for key, value in layers.items()}


def shift_features(collection: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection shifted to GCJ-02 (display only)."""
    shifted_fc: dict[str, Any] = shift_geojson(collection, Datum.GCJ02)
    return shifted_fc
