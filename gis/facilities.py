"""Facilities (设施): collection points and monitoring stations kept working, read as GeoJSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select

from gis import tables as t
from gis import tables_works as tw
from gis.geojson import PageLinks, feature, geometry_json, json_labels
from gis.layers import Layer, LayerQuery, check_states, common_conditions
from gis.lifecycle import FACILITY_STATES, labels_zh

f = tw.facility.alias("f")
cat = t.category.alias("cat")
unit = t.unit.alias("owner")


def _properties() -> dict[str, Any]:
    return {
        "code": f.c.code,
        "category": f.c.category,
        "category_label": cat.c.label_zh,
        "subtype": f.c.subtype,
        "name": f.c.name,
        "state": f.c.state,
        "state_label": json_labels(labels_zh(FACILITY_STATES)).op("->>")(f.c.state),
        "unit": unit.c.name,
        "target_date": f.c.target_date,
        "county_code": f.c.county_code,
        "township_code": f.c.township_code,
        "village_code": f.c.village_code,
        "grid_code": f.c.grid_code,
        "version": f.c.version,
        "synthetic": f.c.synthetic,
    }


def _layer() -> Layer:
    base = (
        select(f.c.id.label("id"))
        .select_from(f)
        .join(cat, cat.c.code == f.c.category)
        .outerjoin(unit, unit.c.id == f.c.unit_id)
    )
    shape = feature(f.c.id, geometry_json(f.c.geom), _properties())
    return Layer(f, base, shape, "facility", "设施", "Facility")


def facility_page(conn: Connection, q: LayerQuery, links: PageLinks) -> str:
    """``GET /facilities``: one page of facilities as a FeatureCollection text."""
    check_states("state", q.states, FACILITY_STATES)
    return _layer().page(conn, q, common_conditions(f, q, "state"), links)


def facility_feature(conn: Connection, facility_id: int) -> str:
    """``GET /facilities/{id}``: one facility as a Feature text."""
    return _layer().one(conn, facility_id)


def facility_base() -> Select[Any]:
    """The joined select of facilities (设施基础查询) the OGC API and tiles share with ``/facilities``."""
    return _layer().base


def facility_properties() -> dict[str, Any]:
    """Facility properties as key → SQL expression (the same as ``/facilities``)."""
    return _properties()
