"""Regions (行政区划与网格): county → township → village → grid, addressed by their codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Numeric, Text, cast, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from geoalchemy2 import Geography

from gis import tables as t
from gis.errors import NotFound
from gis.filters import area_level
from gis.geojson import feature, geometry_json, json_labels

LEVEL_LABELS = {"county": "区县", "township": "乡镇", "village": "行政村", "grid": "网格"}
LEVEL_LABELS_EN = {"county": "county", "township": "township", "village": "village", "grid": "grid"}

r = t.region.alias("r")


def _children() -> Any:
    ch = t.region.alias("ch")
    item = func.json_build_object("code", ch.c.code, "name", ch.c.name)
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(item, ch.c.code)), literal_column("'[]'::json")))
        .where(ch.c.parent_code == r.c.code)
        .scalar_subquery()
    )


def _ancestors() -> Any:
    a = t.region.alias("a")
    item = func.json_build_object("code", a.c.code, "name", a.c.name, "level", a.c.level)
    prefixes = [func.left(r.c.code, 6), func.left(r.c.code, 9), func.left(r.c.code, 12)]
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(item, a.c.code)), literal_column("'[]'::json")))
        .where(a.c.code.in_(prefixes), a.c.code != r.c.code)
        .scalar_subquery()
    )


def _area_properties() -> dict[str, Any]:
    return {
        "code": r.c.code,
        "level": r.c.level,
        "level_label": json_labels(LEVEL_LABELS).op("->>")(r.c.level),
        "name": r.c.name,
        "official_name": r.c.official_name,
        "name_en": r.c.name_en,
        "parent_code": r.c.parent_code,
        "ancestors": _ancestors(),
        "children": _children(),
        "seat": func.coalesce(geometry_json(r.c.seat), literal_column("NULL::json")),
        "area_km2": func.round(cast(func.ST_Area(cast(r.c.geom, Geography)) / 1e6, Numeric), 3),
        "synthetic": r.c.synthetic,
        "source": r.c.source,
    }


def area_feature(conn: Connection, code: str) -> str:
    """``GET /areas/{code}``: the region, its geometry, parent chain and children (one statement)."""
    area_level(code, parameter="code")
    stmt = select(cast(feature(r.c.code, geometry_json(r.c.geom), _area_properties()), Text)).where(r.c.code == code)
    found = conn.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"区域 {code} 不存在：请检查代码（区县 6 位、乡镇 9 位、村 12 位、网格 15 位）。",
            f"Area {code} does not exist; check the code (county 6, township 9, village 12, grid 15 digits).",
            code=code,
        )
    return str(found)


def region_index(conn: Connection) -> list[dict[str, Any]]:
    """Counties and townships with their village counts, for the home page (首页目录)."""
    kids = t.region.alias("kids")
    n_villages = select(func.count()).where(kids.c.parent_code == r.c.code, kids.c.level == "village").scalar_subquery()
    stmt = (
        select(r.c.code, r.c.name, r.c.level, r.c.parent_code, r.c.synthetic, n_villages)
        .where(or_(r.c.level == "county", r.c.level == "township"))
        .order_by(r.c.code)
    )
    return [dict(row._mapping) | {"villages": row[5]} for row in conn.execute(stmt)]
