"""Incoming GeoJSON checks (几何校验): every refusal has a reason code and a Chinese + English message."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

import shapely
from shapely.geometry import shape

from gis.crs import Datum, gcj02_to_wgs84, to_wgs84
from gis.errors import InvalidGeometry, InvalidParameter
from gis.geoinput import ALL_TYPES, AcceptedGeometry, read_geometry, read_point

CJK = re.compile(r"[\u4e00-\u9fff]")
SEATS_FILE = Path(__file__).resolve().parents[1] / "data" / "sources" / "township_seats.geojson"

SQUARE = [[106.2, 38.2], [106.3, 38.2], [106.3, 38.3], [106.2, 38.3], [106.2, 38.2]]
HOLE = [[106.24, 38.24], [106.24, 38.26], [106.26, 38.26], [106.26, 38.24], [106.24, 38.24]]
BOW_TIE = [[106.2, 38.2], [106.3, 38.3], [106.3, 38.2], [106.2, 38.3], [106.2, 38.2]]


def point(*numbers: Any) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(numbers)}


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def refused(value: Any, reason: str, **kwargs: Any) -> InvalidGeometry:
    """Assert a refusal with ``reason``, a Chinese message and an English one; return the error."""
    field = kwargs.get("field", "geometry")
    with pytest.raises(InvalidGeometry) as caught:
        read_geometry(value, **kwargs)
    error = caught.value
    assert error.extra["reason"] == reason, error.detail_en
    assert error.extra["field"] == field
    assert CJK.search(error.detail_zh), error.detail_zh
    assert not CJK.search(error.detail_en) and re.search(r"[a-z]{3}", error.detail_en), error.detail_en
    assert error.detail_zh.startswith(field) and error.detail_en.startswith(field)
    return error


def ring_of(n: int) -> list[list[float]]:
    """A closed ring of exactly ``n`` positions (n − 1 distinct), round and valid."""
    ring = [
        [106.5 + 0.05 * math.cos(2 * math.pi * i / (n - 1)), 38.5 + 0.05 * math.sin(2 * math.pi * i / (n - 1))]
        for i in range(n - 1)
    ]
    return [*ring, ring[0]]


# --- not GeoJSON geometry -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["POINT(106.2 38.2)", None, [106.2, 38.2], 42, {"coordinates": [106.2, 38.2]}, {"type": 1, "coordinates": [1, 2]}],
)
def test_not_a_geojson_object(value: Any) -> None:
    error = refused(value, "not_geojson")
    assert "GeoJSON" in error.detail_zh and "GeoJSON" in error.detail_en


@pytest.mark.parametrize("kind", ["Feature", "FeatureCollection"])
def test_feature_refused_with_a_hint_to_send_the_geometry(kind: str) -> None:
    value = {"type": kind, "geometry": point(106.2, 38.2), "properties": {}}
    error = refused(value, "not_geometry")
    assert "geometry" in error.detail_zh and "only its geometry" in error.detail_en


def test_geometry_collection_refused() -> None:
    error = refused({"type": "GeometryCollection", "geometries": [point(106.2, 38.2)]}, "type_not_allowed")
    assert "GeometryCollection" in error.detail_en and "MultiPolygon" in error.detail_zh


def test_unknown_type_names_the_allowed_ones_and_hints_at_case() -> None:
    error = refused({"type": "Circle", "coordinates": [106.2, 38.2]}, "unknown_type")
    assert all(kind in error.detail_en for kind in ALL_TYPES)
    error = refused({"type": "point", "coordinates": [106.2, 38.2]}, "unknown_type")
    assert "应为 Point" in error.detail_zh and "did you mean Point" in error.detail_en


def test_type_not_allowed_here() -> None:
    error = refused(polygon(SQUARE), "type_not_allowed", allowed_types=("Point", "MultiPoint"))
    assert error.extra["allowed"] == ["Point", "MultiPoint"]
    assert "Point、MultiPoint" in error.detail_zh and "allowed types: Point, MultiPoint" in error.detail_en


def test_read_point_refuses_anything_but_a_point() -> None:
    with pytest.raises(InvalidGeometry) as caught:
        read_point({"type": "LineString", "coordinates": [[106.2, 38.2], [106.3, 38.3]]})
    assert caught.value.extra == {
        "field": "position",
        "reason": "type_not_allowed",
        "type": "LineString",
        "allowed": ["Point"],
    }


def test_legacy_crs_member_refused() -> None:
    value = {**point(500000.0, 4200000.0), "crs": {"type": "name", "properties": {"name": "EPSG:4545"}}}
    error = refused(value, "legacy_crs_member")
    assert "crs" in error.detail_zh and "WGS84" in error.detail_zh
    assert "RFC 7946" in error.detail_en and "separate 'crs' field" in error.detail_en


def test_unknown_declared_crs_is_a_parameter_error() -> None:
    with pytest.raises(InvalidParameter) as caught:
        read_geometry(point(106.2, 38.2), crs="EPSG:3857")
    assert caught.value.extra["parameter"] == "crs"


# --- coordinates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"type": "Point"},
        {"type": "Point", "coordinates": "106.2,38.2"},
        point("106.2", 38.2),
        point(True, 38.2),
        point(106.2, False),
        point(None, 38.2),
        point({"lon": 106.2}, 38.2),
        point([106.2], 38.2),
        point(106.2),
        point(106.2, 38.2, 1100.0, 5.0),
        {"type": "Polygon", "coordinates": [[106.2, 38.2], [106.3, 38.3]]},  # one level too shallow
        {"type": "LineString", "coordinates": [[[106.2, 38.2]], [[106.3, 38.3]]]},  # one level too deep
    ],
)
def test_bad_coordinates(value: dict[str, Any]) -> None:
    refused(value, "bad_coordinates")


def test_bad_coordinates_message_names_the_value_and_the_place() -> None:
    ring: list[Any] = [*SQUARE[:2], ["106.3", 38.3], *SQUARE[3:]]
    error = refused({"type": "Polygon", "coordinates": [ring]}, "bad_coordinates")
    assert error.extra["path"] == [0, 2]
    assert '"106.3"' in error.detail_zh and "第 1 个环第 3 个点" in error.detail_zh
    assert "ring 1, position 3" in error.detail_en and "must be numbers" in error.detail_en


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"Point","coordinates":[NaN,38]}',
        '{"type":"Point","coordinates":[106.2,Infinity]}',
        '{"type":"LineString","coordinates":[[106.2,38.2],[-Infinity,38.3]]}',
        '{"type":"Point","coordinates":[106.2,38.2,NaN]}',
    ],
)
def test_nan_and_infinity_from_json_loads_refused(text: str) -> None:
    refused(json.loads(text), "not_finite")


def test_swapped_lon_lat() -> None:
    error = refused(point(38.87, 106.61), "swapped_lon_lat")
    assert "经纬度顺序颠倒" in error.detail_zh and "[106.61, 38.87]" in error.detail_zh
    assert "swapped" in error.detail_en and "GeoJSON is [lon, lat]" in error.detail_en


@pytest.mark.parametrize("pair", [(500000.0, 4300000.0), (11852000.0, 4700000.0), (36500000.0, 4200000.0)])
def test_projected_metres(pair: tuple[float, float]) -> None:
    error = refused(point(*pair), "projected_coordinates")
    assert "投影坐标" in error.detail_zh and "EPSG:4545" in error.detail_zh
    assert "projected CRS in metres" in error.detail_en
    assert all(name in error.detail_en for name in ("EPSG:4326", "EPSG:4490", "GCJ-02", "BD-09"))


@pytest.mark.parametrize("pair", [(200.0, 38.2), (-180.5, 38.2), (106.2, -95.0), (10**400, 38.2)])
def test_plain_out_of_range(pair: tuple[float, float]) -> None:
    error = refused(point(*pair), "out_of_range")
    assert "超出范围" in error.detail_zh and "±180" in error.detail_en


def test_out_of_range_after_conversion() -> None:
    error = refused(point(-179.999, 38.0), "out_of_range", crs="BD-09")
    assert "BD-09" in error.detail_zh and "after conversion" in error.detail_en


# --- structure ------------------------------------------------------------------------------


def test_unclosed_ring_refused_although_shapely_would_close_it() -> None:
    value = polygon(SQUARE, HOLE[:-1])
    assert shape(value).is_valid  # shapely silently closes the ring
    error = refused(value, "unclosed_ring")
    assert error.extra["path"] == [1]
    assert "第 2 个环未闭合" in error.detail_zh and "ring 2 is not closed" in error.detail_en


def test_unclosed_ring_in_a_multipolygon_names_polygon_and_ring() -> None:
    value = {"type": "MultiPolygon", "coordinates": [[SQUARE], [HOLE[:-1]]]}
    error = refused(value, "unclosed_ring")
    assert error.extra["path"] == [1, 0]
    assert "polygon 2, ring 1" in error.detail_en and "第 2 个面第 1 个环" in error.detail_zh


@pytest.mark.parametrize(
    "value",
    [
        polygon([[106.2, 38.2], [106.3, 38.2], [106.2, 38.2]]),
        polygon([[106.2, 38.2]]),
        {"type": "LineString", "coordinates": [[106.2, 38.2], [106.2, 38.2]]},
        {"type": "LineString", "coordinates": [[106.2, 38.2]]},
        {"type": "MultiLineString", "coordinates": [[[106.2, 38.2], [106.3, 38.3]], [[106.2, 38.2]]]},
    ],
)
def test_too_few_points(value: dict[str, Any]) -> None:
    refused(value, "too_few_points")


@pytest.mark.parametrize(
    "value",
    [
        point(),
        polygon(),
        {"type": "MultiPoint", "coordinates": []},
        {"type": "LineString", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": [[SQUARE], []]},
    ],
)
def test_empty(value: dict[str, Any]) -> None:
    refused(value, "empty")


def test_vertex_limit_counts_every_position() -> None:
    assert shapely.get_num_coordinates(read_geometry(polygon(ring_of(10_000))).geom) == 10_000
    error = refused(polygon(ring_of(10_001)), "too_many_vertices")
    assert (error.extra["count"], error.extra["limit"]) == (10_001, 10_000)
    assert "10001" in error.detail_zh and "简化" in error.detail_zh and "simplify" in error.detail_en
    refused(polygon(SQUARE, HOLE), "too_many_vertices", max_vertices=9)


@pytest.mark.parametrize(
    ("rings", "zh", "en"),
    [
        ([BOW_TIE], "自相交", "Self-intersection"),
        ([SQUARE, [[106.5, 38.5], [106.6, 38.5], [106.6, 38.6], [106.5, 38.5]]], "内环", "Hole lies outside shell"),
    ],
)
def test_invalid_geometry_explained_and_not_repaired(rings: list[list[list[float]]], zh: str, en: str) -> None:
    error = refused(polygon(*rings), "invalid")
    assert zh in error.detail_zh and "绘图工具" in error.detail_zh
    assert en in error.detail_en and "drawing tool" in error.detail_en
    assert len(error.extra["location"]) == 2
    assert re.search(r"\[106\.\d+, 38\.\d+\]", error.detail_en)


# --- accepted -------------------------------------------------------------------------------


def accepted(value: dict[str, Any], **kwargs: Any) -> AcceptedGeometry:
    result = read_geometry(value, **kwargs)
    assert result.geom.is_valid and not result.geom.has_z
    assert shape(result.geojson).equals_exact(result.geom, tolerance=0.0)
    json.dumps(result.geojson, allow_nan=False)
    return result


@pytest.mark.parametrize(
    "value",
    [
        point(106.2, 38.2),
        {"type": "LineString", "coordinates": [[106.2, 38.2], [106.3, 38.3], [106.35, 38.3]]},
        polygon(SQUARE, HOLE),
        {"type": "MultiPoint", "coordinates": [[106.2, 38.2], [106.3, 38.3]]},
        {"type": "MultiLineString", "coordinates": [[[106.2, 38.2], [106.3, 38.3]], [[106.4, 38.4], [106.5, 38.5]]]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [[[107, 39], [107.1, 39], [107.1, 39.1], [107, 39]]]]},
    ],
)
def test_accepted_types_unchanged_in_wgs84(value: dict[str, Any]) -> None:
    result = accepted(value)
    assert result.datum is Datum.WGS84
    assert result.geojson == value
    assert result.geom.geom_type == value["type"]


def test_polygon_with_hole_keeps_it() -> None:
    result = accepted(polygon(SQUARE, HOLE))
    assert len(result.geojson["coordinates"]) == 2
    assert result.geom.area == pytest.approx(0.01 - 0.0004)


def test_altitude_is_accepted_and_dropped() -> None:
    result = read_point(point(106.2, 38.2, 1105.5))
    assert result.geojson == {"type": "Point", "coordinates": [106.2, 38.2]}
    assert not result.geom.has_z


def test_gcj02_point_is_converted() -> None:
    result = read_point(point(106.127462, 37.933722), crs="GCJ-02")
    assert result.datum is Datum.GCJ02
    assert result.geojson["coordinates"] == pytest.approx(list(gcj02_to_wgs84(106.127462, 37.933722)), abs=1e-9)


def test_township_seats_declared_gcj02_land_on_their_wgs84_points() -> None:
    for seat in json.loads(SEATS_FILE.read_text(encoding="utf-8"))["features"]:
        result = read_point(point(*seat["properties"]["gcj02"]), crs="gcj02")
        assert result.geojson["coordinates"] == pytest.approx(seat["geometry"]["coordinates"], abs=1e-6)


def test_bd09_polygon_converted_vertex_by_vertex() -> None:
    result = accepted(polygon(SQUARE, HOLE), crs="bd09ll")
    assert result.datum is Datum.BD09
    expected = [[list(to_wgs84(x, y, Datum.BD09)) for x, y in ring] for ring in (SQUARE, HOLE)]
    assert result.geojson["coordinates"] == [[pytest.approx(p, abs=1e-9) for p in ring] for ring in expected]


@pytest.mark.parametrize("crs", ["EPSG:4490", "CGCS2000", "urn:ogc:def:crs:EPSG::4490"])
def test_cgcs2000_is_identity(crs: str) -> None:
    result = accepted(polygon(SQUARE), crs=crs)
    assert result.datum is Datum.CGCS2000
    assert result.geojson == polygon(SQUARE)


def test_field_name_is_carried() -> None:
    error = refused(point(38.87, 106.61), "swapped_lon_lat", field="remedied_geometry")
    assert error.detail_zh.startswith("remedied_geometry：")
    with pytest.raises(InvalidGeometry) as caught:
        read_point(point(math.nan, 38.0))
    assert caught.value.extra["field"] == "position"
