"""Projects (建设项目): road and water works with their physical progress, read as GeoJSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Numeric, Select, and_, cast, func, literal_column, select

from geoalchemy2 import Geography

from gis import tables as t
from gis import tables_works as tw
from gis.cases import local_today
from gis.geojson import PageLinks, feature, geometry_json, json_labels
from gis.layers import Layer, LayerQuery, check_states, common_conditions
from gis.lifecycle import PROJECT_STATUSES, labels_zh

p = tw.project.alias("p")
cat = t.category.alias("cat")
lead = t.unit.alias("lead")
KIND_CATEGORY = {"road": "road_project", "water": "water_project"}


def _measured_km() -> ColumnElement[Any]:
    """Length of the line parts on the ellipsoid (几何长度, km); 0 for points and polygons."""
    lines = func.ST_CollectionExtract(p.c.geom, 2)
    return func.round(cast(func.ST_Length(cast(lines, Geography)) / 1000.0, Numeric), 3)


def _responsible_units() -> ColumnElement[Any]:
    u = t.unit.alias("u")
    return (
        select(func.coalesce(func.array_agg(u.c.name), literal_column("'{}'::text[]")))
        .where(u.c.id == func.any(p.c.responsible_unit_ids))
        .scalar_subquery()
    )


def _properties() -> dict[str, Any]:
    return {
        "code": p.c.code,
        "category": p.c.category,
        "category_label": cat.c.label_zh,
        "subtype": p.c.subtype,
        "name": p.c.name,
        "description": p.c.description,
        "status": p.c.status,
        "status_label": json_labels(labels_zh(PROJECT_STATUSES)).op("->>")(p.c.status),
        "year": p.c.year,
        "planned_km": p.c.planned_km,
        "built_km": p.c.built_km,
        "measured_km": _measured_km(),
        "guardrail_km": p.c.guardrail_km,
        "speed_bumps": p.c.speed_bumps,
        "area_mu": p.c.area_mu,
        "investment_wan": p.c.investment_wan,
        "progress_pct": p.c.progress_pct,
        "lead_unit": lead.c.name,
        "responsible_units": _responsible_units(),
        "construction_unit": p.c.construction_unit,
        "supervision_unit": p.c.supervision_unit,
        "start_date": p.c.start_date,
        "end_date": p.c.end_date,
        "deadline": p.c.deadline,
        "overdue": and_(p.c.deadline < local_today(), p.c.status.not_in(["completed", "accepted"])),
        "county_code": p.c.county_code,
        "township_code": p.c.township_code,
        "village_code": p.c.village_code,
        "version": p.c.version,
        "synthetic": p.c.synthetic,
    }


def _layer() -> Layer:
    base = (
        select(p.c.id.label("id"))
        .select_from(p)
        .join(cat, cat.c.code == p.c.category)
        .outerjoin(lead, lead.c.id == p.c.lead_unit_id)
    )
    shape = feature(p.c.id, geometry_json(p.c.geom), _properties())
    return Layer(p, base, shape, "project", "项目", "Project")


def project_page(conn: Connection, q: LayerQuery, links: PageLinks) -> str:
    """``GET /projects``: one page of projects as a FeatureCollection text."""
    check_states("status", q.states, PROJECT_STATUSES)
    return _layer().page(conn, q, common_conditions(p, q, "status"), links)


def project_feature(conn: Connection, project_id: int) -> str:
    """``GET /projects/{id}``: one project as a Feature text."""
    return _layer().one(conn, project_id)


def project_base() -> Select[Any]:
    """The joined select of projects (项目基础查询) the OGC API and tiles share with ``/projects``."""
    return _layer().base


def project_properties() -> dict[str, Any]:
    """Project properties as key → SQL expression (the same as ``/projects``)."""
    return _properties()
