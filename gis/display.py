"""Coordinates for display only (显示用坐标): GCJ-02 shifting for Gaode base maps, navigation links.

Chinese web maps draw GCJ-02 (高德 Gaode, 腾讯) or BD-09 (百度): a WGS84 feature drawn on them sits a
few hundred metres off. For a Gaode view the page's GeoJSON is shifted here, after it was read
and before it is drawn; nothing shifted is ever stored. Navigation apps expect their own datum too:
:func:`navigation_points` gives one position per app family.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import mapping, shape

from gis.crs import Datum, from_wgs84, geometry_from_wgs84

#: Properties holding a [lon, lat] pair that must move with the geometry (e.g. label anchors).
POINT_PROPERTIES = ("label_point",)


def shift_geojson(value: Any, datum: Datum) -> Any:
    """A copy of a GeoJSON object (geometry, Feature, FeatureCollection, or a dict/list of them)
    with every coordinate converted from WGS84 to ``datum`` — for display, never for storage."""
    if datum in (Datum.WGS84, Datum.CGCS2000):
        return value
    if isinstance(value, list):
        return [shift_geojson(item, datum) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("type")
    if kind == "FeatureCollection":
        return {**value, "features": [shift_geojson(f, datum) for f in value.get("features", [])]}
    if kind == "Feature":
        props = dict(value.get("properties") or {})
        for key in POINT_PROPERTIES:
            if _is_pair(props.get(key)):
                props[key] = _round(from_wgs84(float(props[key][0]), float(props[key][1]), datum))
        return {**value, "geometry": _shift_geometry(value.get("geometry"), datum), "properties": props}
    if kind in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        return _shift_geometry(value, datum)
    return {key: shift_geojson(item, datum) for key, item in value.items()}


def _shift_geometry(geometry: Any, datum: Datum) -> Any:
    if not geometry:
        return geometry
    shifted = mapping(geometry_from_wgs84(shape(geometry), datum))
    return _lists(shifted)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], float | int):
            return [round(float(v), 7) for v in value]
        return [_lists(item) for item in value]
    return value


def _is_pair(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, float | int) for v in value)


def _round(pair: tuple[float, float]) -> list[float]:
    return [round(pair[0], 7), round(pair[1], 7)]


def navigation_points(lon: float, lat: float) -> dict[str, list[float]]:
    """Where a navigation app should take the user (导航坐标): WGS84 (system maps, ``geo:``),
    GCJ-02 (高德 Gaode, 腾讯 Tencent) and BD-09 (百度 Baidu)."""
    return {
        "wgs84": _round((lon, lat)),
        "gcj02": _round(from_wgs84(lon, lat, Datum.GCJ02)),
        "bd09": _round(from_wgs84(lon, lat, Datum.BD09)),
    }
