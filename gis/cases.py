"""Cases (问题案件): public reads as GeoJSON built by PostGIS.

Until roles arrive, every read here is the public view: reporter columns are never selected and
categories with a private location (危房, 户厕: somebody's home) are shown at village level only —
the village committee point, no grid, no description — and a bbox finds them by that point too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)

from gis import tables as t
from gis.filters import BBox
from gis.geojson import PageLinks, all_of, feature, geometry_json, json_labels
from gis.layers import Layer, LayerQuery, area_condition, check_states, envelope
from gis.lifecycle import CASE_STATUSES, RUNNING_STATUSES, labels_zh

c = t.cases.alias("c")
cat = t.category.alias("cat")
v = t.region.alias("v")
lead = t.unit.alias("lead")


@dataclass(frozen=True)
class CaseQuery:
    """Filters of ``GET /cases`` (案件查询条件)."""

    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    area: str | None = None
    bbox: BBox | None = None
    overdue: bool | None = None
    after: int | None = None
    limit: int = 100


def local_today() -> ColumnElement[Any]:
    """Today's date in Asia/Shanghai: a deadline day ends at local midnight."""
    return cast(func.timezone("Asia/Shanghai", func.now()), Date)


def overdue_expr() -> ColumnElement[bool]:
    """Overdue (逾期): the deadline day has passed and the case still waits for work."""
    return and_(c.c.deadline < local_today(), c.c.status.in_(RUNNING_STATUSES))


def _village_point() -> ColumnElement[Any]:
    return func.coalesce(v.c.seat, func.ST_PointOnSurface(v.c.geom))


def _public_geometry() -> ColumnElement[Any]:
    return case((cat.c.private_location, _village_point()), else_=c.c.geom)


def _properties() -> dict[str, Any]:
    private = cat.c.private_location
    return {
        "code": c.c.code,
        "category": c.c.category,
        "category_label": cat.c.label_zh,
        "category_label_en": cat.c.label_en,
        "subtype": c.c.subtype,
        "attributes": c.c.attributes,
        "status": c.c.status,
        "status_label": json_labels(labels_zh(CASE_STATUSES)).op("->>")(c.c.status),
        "title": c.c.title,
        "description": case((private, null()), else_=c.c.description),
        "deadline": c.c.deadline,
        "overdue": overdue_expr(),
        "reported_at": c.c.reported_at,
        "closed_at": c.c.closed_at,
        "county_code": c.c.county_code,
        "township_code": c.c.township_code,
        "village_code": c.c.village_code,
        "village_name": v.c.name,
        "grid_code": case((private, null()), else_=c.c.grid_code),
        "lead_unit": lead.c.name,
        "location_precision": case((private, literal("village")), else_=literal("exact")),
        "version": c.c.version,
        "synthetic": c.c.synthetic,
    }


def _base() -> Select[Any]:
    return (
        select(c.c.id.label("id"))
        .select_from(c)
        .join(cat, cat.c.code == c.c.category)
        .join(v, v.c.code == c.c.village_code)
        .outerjoin(lead, lead.c.id == c.c.lead_unit_id)
    )


def _feature() -> ColumnElement[Any]:
    return feature(c.c.id, geometry_json(_public_geometry()), _properties())


def _bbox_condition(box: BBox) -> ColumnElement[bool]:
    env = envelope(box)
    private_codes = select(t.category.c.code).where(t.category.c.private_location)
    villages = select(t.region.c.code).where(
        t.region.c.level == "village",
        func.ST_Intersects(func.coalesce(t.region.c.seat, func.ST_PointOnSurface(t.region.c.geom)), env),
    )
    return or_(
        and_(func.ST_Intersects(c.c.geom, env), c.c.category.not_in(private_codes)),
        and_(c.c.category.in_(private_codes), c.c.village_code.in_(villages)),
    )


def _conditions(q: CaseQuery) -> ColumnElement[bool]:
    return all_of(
        c.c.category.in_(q.categories) if q.categories else None,
        c.c.status.in_(q.statuses) if q.statuses else None,
        area_condition(c, q.area),
        _bbox_condition(q.bbox) if q.bbox else None,
        (overdue_expr() if q.overdue else ~overdue_expr()) if q.overdue is not None else None,
        c.c.id > q.after if q.after is not None else None,
    )


def _layer() -> Layer:
    return Layer(c, _base(), _feature(), "problem", "案件", "Case")


def case_page(conn: Connection, q: CaseQuery, links: PageLinks) -> str:
    """One page of cases as a GeoJSON FeatureCollection text, ordered by id."""
    check_states("status", q.statuses, CASE_STATUSES)
    layer_q = LayerQuery(q.categories, q.statuses, q.area, q.bbox, q.after, q.limit)
    return _layer().page(conn, layer_q, _conditions(q), links)


def case_feature(conn: Connection, case_id: int) -> str:
    """One case as a GeoJSON Feature text (公开视图)."""
    return _layer().one(conn, case_id)
