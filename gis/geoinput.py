"""Incoming GeoJSON geometry, checked before anything is written (几何校验).

Every write calls ``read_geometry`` (or ``read_point``) first. The raw JSON structure is checked
before shapely sees it, because shapely silently closes rings and accepts NaN, and PostGIS honours a
legacy ``crs`` member and stores out-of-range or non-finite values (notes/clients.md §6.3). A bad
geometry raises ``InvalidGeometry`` with extras ``field`` and ``reason`` (a machine-readable code) and
a Chinese and an English message that say what is wrong and how to fix it.

Positions are ``[lon, lat]`` or ``[lon, lat, altitude]``: RFC 7946 allows a third number, which is
accepted and dropped (VillageMap stores 2-D). Coordinates are in the declared datum (``crs``; WGS84
by default) and converted to WGS84 after the checks. Locations in messages count from 1 ("ring 2,
position 3"); the ``path`` extra gives the 0-based indices into ``coordinates``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gis.crs import Datum, geometry_to_wgs84, parse_crs
from gis.errors import InvalidGeometry
from gis.geoinput_messages import EN, LEVELS, REASON, VALIDITY_ZH, ZH

ALL_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")
# How many array levels sit above a position: Point 0 … MultiPolygon 3.
_DEPTH = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}
Path = tuple[int, ...]


@dataclass(frozen=True)
class AcceptedGeometry:
    """A geometry that passed every check (几何校验通过), converted to WGS84."""

    geom: BaseGeometry  # shapely, 2-D, WGS84 lon/lat (converted from the declared datum)
    datum: Datum  # what the client declared
    geojson: dict[str, Any]  # the WGS84 geometry as a GeoJSON dict (for logging/echo)


def read_point(value: Any, *, crs: str | None = None, field: str = "position") -> AcceptedGeometry:
    """Read exactly one GeoJSON Point (点位), checked and converted like ``read_geometry``."""
    return read_geometry(value, crs=crs, allowed_types=("Point",), max_vertices=1, field=field)


def read_geometry(
    value: Any,
    *,
    crs: str | None = None,
    allowed_types: Sequence[str] = ALL_TYPES,
    max_vertices: int = 10_000,
    field: str = "geometry",
) -> AcceptedGeometry:
    """Check a GeoJSON geometry (几何校验) and return it as 2-D WGS84; raise ``InvalidGeometry`` if bad.

    ``crs`` is the declared datum (``gis.crs.parse_crs``; an unknown one raises
    ``InvalidParameter("crs", …)``). Checks, in order: GeoJSON object and type, legacy ``crs``
    member, nesting and numbers, finite values, vertex count, lon/lat ranges (swapped pairs and
    projected metres get their own reasons), closed rings and enough points, shapely validity; after
    conversion to WGS84 the ranges and validity are checked again. Nothing is ever repaired.
    """
    if not set(allowed_types) <= set(ALL_TYPES):
        raise ValueError(f"allowed_types must be a subset of {ALL_TYPES}, got {allowed_types}")
    datum = parse_crs(crs)
    gtype = _check_type(value, allowed_types, field)
    coords = _read_coordinates(value.get("coordinates"), gtype, field)
    positions = list(_positions(coords, _DEPTH[gtype]))
    if not positions:
        raise _fail(field, "empty")
    if len(positions) > max_vertices:
        raise _fail(field, "too_many_vertices", count=len(positions), limit=max_vertices)
    for path, (lon, lat) in positions:
        _check_range(field, gtype, path, lon, lat)
    _check_parts(field, gtype, coords)
    geom = shape({"type": gtype, "coordinates": coords})
    _check_valid(field, geom)
    wgs = geometry_to_wgs84(geom, datum)
    if datum not in (Datum.WGS84, Datum.CGCS2000):
        _check_converted(field, wgs, datum)
    return AcceptedGeometry(geom=wgs, datum=datum, geojson=_as_lists(mapping(wgs)))


def _fail(field: str, key: str, gtype: str = "", path: Path = (), /, **values: Any) -> InvalidGeometry:
    """The error for message ``key``, led by the 1-based location of ``path`` unless the text places it.

    Values not ending in ``_zh``/``_en`` also become extras, next to ``field``, ``reason`` and ``path``.
    """
    where_zh, where_en = _where(gtype, path)
    zh = ZH[key].format(where_zh=where_zh, where_en=where_en, **values)
    en = EN[key].format(where_zh=where_zh, where_en=where_en, **values)
    if path and "{where_zh}" not in ZH[key]:
        zh, en = f"{where_zh}：{zh}", f"{where_en}: {en}"
    extra = {k: v for k, v in values.items() if not k.endswith(("_zh", "_en"))} | ({"path": list(path)} if path else {})
    return InvalidGeometry(f"{field}：{zh}", f"{field}: {en}", field=field, reason=REASON.get(key, key), **extra)


def _where(gtype: str, path: Sequence[int]) -> tuple[str, str]:
    """A 1-based location, e.g. ('第 1 个面第 2 个环第 3 个点', 'polygon 1, ring 2, position 3')."""
    levels = LEVELS.get(gtype, ())
    parts = [(f"第 {i + 1} 个{zh}", f"{en} {i + 1}") for (zh, en), i in zip(levels, path, strict=False)]
    if len(path) > len(levels):
        parts.append((f"第 {path[-1] + 1} 个点", f"position {path[-1] + 1}"))
    return "".join(zh for zh, _ in parts), ", ".join(en for _, en in parts)


def _check_type(value: Any, allowed_types: Sequence[str], field: str) -> str:
    """The ``type`` member: a geometry type taken here, and no legacy ``crs`` member."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise _fail(field, "not_geojson", got=_show(value))
    gtype: str = value["type"]
    allowed = {
        "allowed": list(allowed_types),
        "allowed_zh": "、".join(allowed_types),
        "allowed_en": ", ".join(allowed_types),
    }
    if gtype in ("Feature", "FeatureCollection"):
        raise _fail(field, "feature", type=gtype)
    if gtype not in ALL_TYPES and gtype != "GeometryCollection":
        hint = next((t for t in ALL_TYPES if t.lower() == gtype.lower()), None)
        hints = {"hint_zh": f"（应为 {hint}，区分大小写）", "hint_en": f" (did you mean {hint}? case matters)"}
        raise _fail(
            field, "unknown_type", type=_show(gtype), **(hints if hint else dict.fromkeys(hints, "")), **allowed
        )
    if gtype not in allowed_types:
        raise _fail(field, "type_not_allowed", type=gtype, **allowed)
    if "crs" in value:
        raise _fail(field, "legacy_crs_member")
    return gtype


def _read_coordinates(node: Any, gtype: str, field: str, path: Path = ()) -> Any:
    """Nested lists down to positions; each position becomes a 2-D ``(lon, lat)`` tuple of floats."""
    if not isinstance(node, (list, tuple)):
        raise _fail(field, "not_array", gtype, path, got=_show(node))
    if len(path) == _DEPTH[gtype]:
        return _read_position(node, gtype, field, path)
    return [_read_coordinates(child, gtype, field, (*path, i)) for i, child in enumerate(node)]


def _read_position(node: Sequence[Any], gtype: str, field: str, path: Path) -> tuple[float, float]:
    if not node and not path:
        raise _fail(field, "empty")
    if not 2 <= len(node) <= 3:
        raise _fail(field, "position_size", gtype, path, count=len(node))
    for number in node:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise _fail(field, "not_number", gtype, path, got=_show(number))
        if isinstance(number, float) and not math.isfinite(number):
            raise _fail(field, "not_finite", gtype, path, got=json.dumps(number))
    try:
        return float(node[0]), float(node[1])
    except OverflowError:  # an integer beyond float range
        raise _fail(field, "out_of_range", gtype, path, pair=_show(list(node))) from None


def _show(value: Any) -> str:
    """A short JSON rendering of an offending value for messages."""
    text = json.dumps(value, ensure_ascii=False, default=lambda v: type(v).__name__)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(value: float) -> str:
    return f"{value:.10g}"


def _positions(coords: Any, depth: int, path: Path = ()) -> Iterator[tuple[Path, tuple[float, float]]]:
    if depth == 0:
        yield path, coords
        return
    for i, child in enumerate(coords):
        yield from _positions(child, depth - 1, (*path, i))


def _check_range(field: str, gtype: str, path: Path, lon: float, lat: float) -> None:
    """Longitude within ±180 and latitude within ±90; say so if the pair looks projected or swapped."""
    if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return
    pair = f"[{_num(lon)}, {_num(lat)}]"
    if max(abs(lon), abs(lat)) > 1000.0:
        raise _fail(field, "projected_coordinates", gtype, path, pair=pair)
    if abs(lat) > 90.0 and abs(lon) <= 90.0:
        raise _fail(field, "swapped_lon_lat", gtype, path, pair=pair, fixed=f"[{_num(lat)}, {_num(lon)}]")
    raise _fail(field, "out_of_range", gtype, path, pair=pair)


def _check_parts(field: str, gtype: str, coords: Any) -> None:
    """Lines with at least 2 distinct positions; rings closed, with at least 4 positions; no empty part."""
    if gtype == "LineString":
        _check_line(field, gtype, (), coords)
    elif gtype == "MultiLineString":
        for i, line in enumerate(coords):
            _check_line(field, gtype, (i,), line)
    elif gtype == "Polygon":
        for j, ring in enumerate(coords):
            _check_ring(field, gtype, (j,), ring)
    elif gtype == "MultiPolygon":
        for i, polygon in enumerate(coords):
            if not polygon:
                raise _fail(field, "empty_part", gtype, (i,))
            for j, ring in enumerate(polygon):
                _check_ring(field, gtype, (i, j), ring)


def _check_line(field: str, gtype: str, path: Path, line: list[tuple[float, float]]) -> None:
    if len(set(line)) < 2:
        line_zh, line_en = _where(gtype, path) if path else ("线", "the line")
        raise _fail(field, "line_few", gtype, path, count=len(set(line)), line_zh=line_zh, line_en=line_en)


def _check_ring(field: str, gtype: str, path: Path, ring: list[tuple[float, float]]) -> None:
    if ring and ring[0] != ring[-1]:
        first, last = (f"[{_num(x)}, {_num(y)}]" for x, y in (ring[0], ring[-1]))
        raise _fail(field, "unclosed_ring", gtype, path, first=first, last=last)
    if len(ring) < 4:
        raise _fail(field, "ring_few", gtype, path, count=len(ring))


def _check_valid(field: str, geom: BaseGeometry, after: Datum | None = None) -> None:
    """Refuse an empty or invalid (OGC) geometry with GEOS's reason translated; never repair it."""
    if geom.is_empty:
        raise _fail(field, "empty")
    if geom.is_valid:
        return
    explained = explain_validity(geom)
    match = re.fullmatch(r"\s*(.*?)\s*\[\s*(\S+)\s+(\S+)\s*\]\s*", explained)
    problem, location = (match.group(1), [float(match.group(2)), float(match.group(3))]) if match else (explained, None)
    raise _fail(
        field,
        "invalid",
        problem=problem,
        problem_zh=VALIDITY_ZH.get(problem, problem),
        at=f"[{_num(location[0])}, {_num(location[1])}]" if location else "?",
        validity=explained,
        location=location,
        after_zh=f"（由 {after.value} 转换为 WGS84 后）" if after else "",
        after_en=f" (after conversion from {after.value} to WGS84)" if after else "",
    )


def _check_converted(field: str, wgs: BaseGeometry, datum: Datum) -> None:
    """After conversion to WGS84: still within lon/lat range, still valid."""
    xy = shapely.get_coordinates(wgs)
    bad = np.flatnonzero((np.abs(xy[:, 0]) > 180.0) | (np.abs(xy[:, 1]) > 90.0))
    if bad.size:
        lon, lat = (float(v) for v in xy[int(bad[0])])
        raise _fail(
            field,
            "converted_range",
            pair=f"[{_num(lon)}, {_num(lat)}]",
            datum=datum.value,
            index=int(bad[0]),
        )
    _check_valid(field, wgs, after=datum)


def _as_lists(value: Any) -> Any:
    """``shapely.geometry.mapping`` output with tuples turned into lists (plain JSON arrays)."""
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value
