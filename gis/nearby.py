"""Likely duplicates nearby (附近疑似重复): open cases of a category around a point, before reporting.

The same rule ``POST /cases`` applies when it flags ``possible_duplicates`` — open cases (not closed
or rejected) of the category within its ``duplicate_radius_m``, measured on the ellipsoid — but
asked *before* sending, so a villager can see that the pile by the road is already reported.

One statement builds the FeatureCollection, nearest first (distance, then id). Public view rules
apply: a category with a private location (危房, 户厕: somebody's home) is listed only for cases in
the caller's scope — otherwise the question "is there a 危房 within 30 m of here?" would locate a
house. A degree envelope around the point only lets the GiST index pick candidates; the radius
itself is checked on the geography.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Numeric,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from geoalchemy2 import Geography

from gis import tables as t
from gis.access import Principal, case_scope
from gis.errors import NotFound
from gis.geoinput import read_point
from gis.geojson import feature, geometry_json, json_labels, json_object
from gis.lifecycle import CASE_STATUSES, OPEN_STATUSES, labels_zh
from gis.report import wkb

MAX_NEARBY = 20
#: Metres per degree of latitude is at least 110 574 m and per degree of longitude at least
#: 111 319 m·cos(lat) on WGS84, so these divisors give an envelope that always holds the radius.
_M_PER_DEG_FLOOR = 110_000.0

c = t.cases.alias("c")
cat = t.category.alias("cat")
outer = t.category.alias("oc")


def _point() -> ColumnElement[Any]:
    return func.ST_GeomFromWKB(func.decode(bindparam("wkb", type_=Text), "hex"), 4326)


def _candidates(p: Principal) -> Any:
    pt = _point()
    radius = cat.c.duplicate_radius_m
    distance = func.ST_Distance(cast(c.c.geom, Geography), cast(pt, Geography))
    box = func.ST_Expand(
        pt,
        radius / (_M_PER_DEG_FLOOR * func.cos(func.radians(func.ST_Y(pt)))),
        radius / _M_PER_DEG_FLOOR,
    )
    props = {
        "code": c.c.code,
        "category": c.c.category,
        "title": c.c.title,
        "subtype": c.c.subtype,
        "status": c.c.status,
        "status_label": json_labels(labels_zh(CASE_STATUSES)).op("->>")(c.c.status),
        "reported_at": c.c.reported_at,
        "distance_m": func.round(cast(distance, Numeric), 1),
    }
    return (
        select(c.c.id, distance.label("d"), feature(c.c.id, geometry_json(c.c.geom), props).label("f"))
        .where(
            cat.c.code == bindparam("category", type_=Text),
            c.c.category == cat.c.code,
            c.c.status.in_(OPEN_STATUSES),
            c.c.geom.op("&&")(box),
            func.ST_DWithin(cast(c.c.geom, Geography), cast(pt, Geography), radius),
            or_(not_(cat.c.private_location), case_scope(p, c)),
        )
        .order_by(distance, c.c.id)
        .limit(MAX_NEARBY)
        .subquery("near")
    )


def nearby_cases(conn: Connection, p: Principal, category: str, lon: float, lat: float, crs: str | None) -> str:
    """Open cases of ``category`` within its duplicate radius of (lon, lat), as FeatureCollection text."""
    position = read_point({"type": "Point", "coordinates": [lon, lat]}, crs=crs, field="lon,lat")
    near = _candidates(p)
    features = func.coalesce(
        func.json_agg(aggregate_order_by(near.c.f, near.c.d, near.c.id)), literal_column("'[]'::json")
    )
    ordered = select(features).select_from(near).scalar_subquery()
    body = json_object(
        {
            "type": "FeatureCollection",
            "category": outer.c.code,
            "radius_m": cast(outer.c.duplicate_radius_m, Float),
            "position": func.json_build_array(*position.geojson["coordinates"][:2]),
            "features": ordered,
        }
    )
    stmt = select(cast(body, Text)).where(outer.c.code == bindparam("category"), outer.c.kind == "problem")
    found = conn.execute(stmt, {"wkb": wkb(position.geom), "category": category}).scalar_one_or_none()
    if found is None:
        raise NotFound(f"没有问题类别“{category}”。", f"No problem category '{category}'.", code=category)
    return str(found)
