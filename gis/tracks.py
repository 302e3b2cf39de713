"""Patrol tracks in (巡查轨迹解析): GeoJSON with per-point times, or GPX, checked before any write.

A track is a line of positions with one timestamp each, in time order. Accepted:

- GeoJSON: a ``LineString`` geometry with a separate ``times`` list, or a ``Feature`` whose
  ``properties`` carry ``times`` or ``coordTimes`` (the convention of togeojson and many apps);
  positions may carry altitude (dropped) and be declared in GCJ-02/BD-09 with ``crs``;
- GPX 1.0/1.1: every ``trkpt`` of every ``trkseg`` of every ``trk``, in document order, each with
  its ``<time>``. GPX is WGS84 by definition. Documents with a DOCTYPE are refused (no entities).

Timestamps are ISO 8601 and must say their zone (GPX writes UTC ``Z``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import LineString

from gis.errors import InvalidField
from gis.geoinput import read_geometry

MAX_GPX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Track:
    """A checked track (轨迹): WGS84 line, one aware timestamp per vertex, where it came from."""

    line: LineString
    times: tuple[datetime, ...]
    source: str  # "geojson" | "gpx"
    datum: str


def read_geojson_track(track: Any, times: Any, crs: str | None, *, max_vertices: int) -> Track:
    """A GeoJSON LineString (or Feature) with per-point times → :class:`Track`."""
    geometry, stamps = track, times
    if isinstance(track, dict) and track.get("type") == "Feature":
        props = track.get("properties") or {}
        geometry = track.get("geometry")
        stamps = times if times is not None else props.get("times", props.get("coordTimes"))
    accepted = read_geometry(geometry, crs=crs, allowed_types=("LineString",), max_vertices=max_vertices, field="track")
    line = accepted.geom
    assert isinstance(line, LineString)
    parsed = _times(stamps, len(line.coords))
    return Track(line, parsed, "geojson", str(accepted.datum))


def read_gpx_track(document: str, *, max_vertices: int) -> Track:
    """A GPX document's track points → :class:`Track` (WGS84, times required)."""
    if len(document.encode("utf-8", errors="ignore")) > MAX_GPX_BYTES:
        raise _gpx_error(f"GPX 文件超过 {MAX_GPX_BYTES // 1024 // 1024} MB。", "The GPX document is too large.")
    if "<!DOCTYPE" in document.upper() or "<!ENTITY" in document.upper():
        raise _gpx_error("GPX 中不能有 DOCTYPE 或实体声明。", "GPX must not contain a DOCTYPE or entities.")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise _gpx_error(f"GPX 不是有效的 XML：{exc}。", f"The GPX is not well-formed XML: {exc}.") from None
    if _local(root.tag) != "gpx":
        raise _gpx_error("根元素须为 <gpx>。", "The root element must be <gpx>.")
    coords, stamps = [], []
    for point in (e for e in root.iter() if _local(e.tag) == "trkpt"):
        coords.append([_attr(point, "lon"), _attr(point, "lat")])
        stamps.append(next((c.text for c in point if _local(c.tag) == "time"), None))
    if len(coords) < 2:
        raise _gpx_error("GPX 中至少需要 2 个轨迹点（trkpt）。", "The GPX needs at least 2 track points (trkpt).")
    accepted = read_geometry(
        {"type": "LineString", "coordinates": coords},
        allowed_types=("LineString",),
        max_vertices=max_vertices,
        field="gpx",
    )
    line = accepted.geom
    assert isinstance(line, LineString)
    return Track(line, _times(stamps, len(coords), field="gpx"), "gpx", "EPSG:4326")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(point: ET.Element, name: str) -> float:
    try:
        return float(point.attrib[name])
    except (KeyError, ValueError):
        raise _gpx_error(f"trkpt 缺少有效的 {name} 属性。", f"A trkpt lacks a valid '{name}' attribute.") from None


def _gpx_error(zh: str, en: str) -> InvalidField:
    return InvalidField("gpx", zh, en)


def _times(stamps: Any, count: int, field: str = "times") -> tuple[datetime, ...]:
    """One aware timestamp per vertex, never going back in time."""
    if not isinstance(stamps, list) or len(stamps) != count:
        got = len(stamps) if isinstance(stamps, list) else 0
        raise InvalidField(
            field,
            f"轨迹有 {count} 个点，须有同样多的时间（ISO 8601，带时区），收到 {got} 个。",
            f"The track has {count} positions and needs as many times (ISO 8601 with zone); got {got}.",
        )
    parsed = tuple(_stamp(value, i, field) for i, value in enumerate(stamps, start=1))
    for i in range(1, count):
        if parsed[i] < parsed[i - 1]:
            raise InvalidField(
                field,
                f"第 {i + 1} 个时间早于前一个：轨迹时间须按先后顺序。",
                f"Time {i + 1} is earlier than the one before: times must not go back.",
            )
    return parsed


def _stamp(value: Any, index: int, field: str) -> datetime:
    text = value.strip().replace("Z", "+00:00") if isinstance(value, str) else ""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise InvalidField(
            field,
            f"第 {index} 个时间“{value}”无效：须为带时区的 ISO 8601 时间，如 2022-01-05T09:00:00+08:00。",
            f"Time {index} '{value}' is invalid: use ISO 8601 with a zone, e.g. 2022-01-05T09:00:00+08:00.",
        )
    return stamp
