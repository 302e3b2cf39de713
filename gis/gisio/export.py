"""Exporting cases (案件导出): GeoJSON, GeoPackage, Shapefile zip, KML, CSV and XLSX.

The cases a user may see whole (``case_scope``), filtered by area, category, status and report
date, are read through a server-side cursor in chunks and written chunk by chunk to a temporary
file that the caller streams out, so memory stays flat however many there are. PostGIS serialises
GeoJSON and reprojects (projected CGCS2000 zones); only GCJ-02, which PostGIS lacks, is converted
in Python. Field names: docs/office.md and gis.gisio.fields (Shapefile: ≤ 10 bytes, with a .cpg).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Date, Select, Text, cast, func, literal, select

from gis import tables as t
from gis.access import Principal, case_scope
from gis.cases import assignee, c, cat, lead, overdue_expr, v
from gis.errors import InvalidParameter
from gis.geojson import all_of, feature, geometry_json, json_labels
from gis.layers import area_condition
from gis.lifecycle import CASE_STATUSES, labels_zh

CHUNK: Final = 5000
MEDIA_TYPES: Final[dict[str, str]] = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "shp.zip": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORT_ROLES: Final = ("grid_manager", "inspector", "water_staff", "roads_staff", "village_official", "viewer", "admin")
GEOGRAPHIC: Final = ("EPSG:4326", "EPSG:4490")
tw = t.region.alias("tw")


@dataclass(frozen=True)
class ExportQuery:
    """Which cases to export (导出条件) and in which CRS."""

    area: str | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    crs: str = "EPSG:4326"


def output_crs(fmt: str, requested: str | None) -> str:
    """The CRS a format may be written in: GeoJSON and KML WGS84 only; CSV/XLSX also GCJ-02;
    GeoPackage and Shapefile also the projected CGCS2000 zones EPSG:4491–4554."""
    value = (requested or "EPSG:4326").strip().upper().replace("GCJ02", "GCJ-02")
    value = f"EPSG:{value}" if value.isdigit() else value
    allowed = list(GEOGRAPHIC)
    if fmt in ("csv", "xlsx"):
        allowed.append("GCJ-02")
    projected = (
        fmt in ("gpkg", "shp.zip")
        and value.startswith("EPSG:")
        and value[5:].isdigit()
        and 4491 <= int(value[5:]) <= 4554
    )
    if value in allowed or projected:
        return value
    extra = "、国家2000 高斯投影带 EPSG:4491–4554" if fmt in ("gpkg", "shp.zip") else ""
    raise InvalidParameter(
        "crs",
        f"{fmt} 导出可用坐标系：{'、'.join(allowed)}{extra}。",
        f"{fmt} can be exported in: {', '.join(allowed)}" + (", CGCS2000 zones EPSG:4491–4554." if extra else "."),
        value=requested,
    )


def _conditions(p: Principal, q: ExportQuery) -> Any:
    local_day = cast(func.timezone("Asia/Shanghai", c.c.reported_at), Date)
    return all_of(
        case_scope(p, c),
        c.c.category.in_(q.categories) if q.categories else None,
        c.c.status.in_(q.statuses) if q.statuses else None,
        area_condition(c, q.area),
        local_day >= q.date_from if q.date_from else None,
        local_day <= q.date_to if q.date_to else None,
    )


def responsible_names() -> Any:
    """The names of a case's responsible units (责任单位), joined with 、."""
    u = t.unit.alias("ru")
    names = select(func.string_agg(u.c.name, literal("、"))).where(u.c.id == func.any(c.c.responsible_unit_ids))
    return names.scalar_subquery()


def _fields() -> dict[str, Any]:
    return {
        "code": c.c.code,
        "category": c.c.category,
        "category_label": cat.c.label_zh,
        "subtype": c.c.subtype,
        "title": c.c.title,
        "description": c.c.description,
        "status": c.c.status,
        "status_label": json_labels(labels_zh(CASE_STATUSES)).op("->>")(c.c.status),
        "reported_at": c.c.reported_at,
        "deadline": c.c.deadline,
        "review_on": c.c.review_on,
        "closed_at": c.c.closed_at,
        "overdue": overdue_expr(),
        "county_code": c.c.county_code,
        "township_code": c.c.township_code,
        "township_name": tw.c.name,
        "village_code": c.c.village_code,
        "village_name": v.c.name,
        "grid_code": c.c.grid_code,
        "lead_unit": lead.c.name,
        "responsible_units": responsible_names(),
        "assignee_unit": assignee.c.name,
        "external_id": c.c.external_id,
        "location_approximate": c.c.location_approximate,
        "attributes": cast(c.c.attributes, Text),
    }


def base_select(p: Principal, q: ExportQuery, columns: list[Any]) -> Select[Any]:
    """``columns`` of the cases ``p`` may see that match ``q``, with the joins they use, by id."""
    return (
        select(*columns)
        .select_from(c)
        .join(cat, cat.c.code == c.c.category)
        .join(v, v.c.code == c.c.village_code)
        .join(tw, tw.c.code == c.c.township_code)
        .outerjoin(lead, lead.c.id == c.c.lead_unit_id)
        .outerjoin(assignee, assignee.c.id == c.c.assignee_unit_id)
        .where(_conditions(p, q))
        .order_by(c.c.id)
    )


def feature_rows(conn: Connection, p: Principal, q: ExportQuery) -> Iterator[list[str]]:
    """GeoJSON Feature texts built by PostGIS, in chunks."""
    stmt = base_select(p, q, [cast(feature(c.c.id, geometry_json(c.c.geom), _fields()), Text)])
    with conn.execute(stmt, execution_options={"stream_results": True, "yield_per": CHUNK}) as result:
        for part in result.partitions(CHUNK):
            yield [str(row[0]) for row in part]


def record_rows(conn: Connection, p: Principal, q: ExportQuery) -> Iterator[list[dict[str, Any]]]:
    """Attribute records with WKB geometry (reprojected by PostGIS when projected), in chunks."""
    geom: Any = c.c.geom
    if q.crs.startswith("EPSG:") and q.crs not in GEOGRAPHIC:
        geom = func.ST_Transform(geom, int(q.crs[5:]))
    point = func.ST_PointOnSurface(c.c.geom)
    columns = [
        *(value.label(name) for name, value in _fields().items()),
        func.ST_AsBinary(geom).label("wkb"),
        func.ST_X(point).label("lon"),
        func.ST_Y(point).label("lat"),
    ]
    stmt = base_select(p, q, columns)
    with conn.execute(stmt, execution_options={"stream_results": True, "yield_per": CHUNK}) as result:
        for part in result.partitions(CHUNK):
            yield [dict(row._mapping) for row in part]


def write_geojson(conn: Connection, p: Principal, q: ExportQuery, out: Path) -> int:
    """A FeatureCollection (RFC 7946) written feature by feature; returns the count."""
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        handle.write('{"type":"FeatureCollection","features":[')
        for chunk in feature_rows(conn, p, q):
            handle.write(("," if count else "") + ",".join(chunk))
            count += len(chunk)
        handle.write("]}")
    return count


def attributes_text(record: dict[str, Any]) -> str:
    """The attributes JSON as compact text (``{}`` when empty)."""
    value = record.get("attributes") or "{}"
    return json.dumps(json.loads(value), ensure_ascii=False, separators=(",", ":"))
