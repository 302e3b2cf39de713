"""Cases (问题案件) read as GeoJSON built by PostGIS, each row in the view its reader may have.

Within the caller's scope (``gis.access.case_scope``) a case is shown whole: exact location, grid,
description and, for the roles that follow cases up, the reporter's name and phone. Everyone else
gets the public view: no reporter, and categories with a private location (危房, 户厕: somebody's
home) only at village level — the village committee point, no grid, no description — which a bbox
also uses, so a small bbox cannot locate a house.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, Select, and_, case, cast, func, literal, not_, null, or_, select

from gis import tables as t
from gis.access import SEES_REPORTER, Principal, case_scope
from gis.filters import BBox
from gis.geojson import PageLinks, all_of, feature, geometry_json, json_labels
from gis.layers import Layer, LayerQuery, area_condition, check_states, envelope
from gis.lifecycle import CASE_STATUSES, RUNNING_STATUSES, labels_zh

c = t.cases.alias("c")
cat = t.category.alias("cat")
v = t.region.alias("v")
lead = t.unit.alias("lead")
assignee = t.unit.alias("assignee")
rep = t.case_reporter.alias("rep")


@dataclass(frozen=True)
class CaseQuery:
    """Filters of ``GET /cases`` (案件查询条件); ``mine`` keeps only cases in the caller's scope."""

    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    area: str | None = None
    bbox: BBox | None = None
    overdue: bool | None = None
    mine: bool = False
    review_due: bool | None = None
    after: int | None = None
    limit: int = 100


def local_today() -> ColumnElement[Any]:
    """Today's date in Asia/Shanghai: a deadline day ends at local midnight."""
    return cast(func.timezone("Asia/Shanghai", func.now()), Date)


def overdue_expr() -> ColumnElement[bool]:
    """Overdue (逾期): the deadline day has passed and the case is not closed (or rejected)."""
    return and_(c.c.deadline < local_today(), c.c.status.in_(RUNNING_STATUSES))


def _village_point() -> ColumnElement[Any]:
    return func.coalesce(v.c.seat, func.ST_PointOnSurface(v.c.geom))


def _reporter(whole: ColumnElement[bool]) -> ColumnElement[Any]:
    shown = func.json_build_object("name", rep.c.name, "phone", rep.c.phone, "erased", rep.c.erased_at.isnot(None))
    return case((and_(whole, rep.c.case_id.isnot(None)), shown), else_=null())


def _properties(p: Principal, whole: ColumnElement[bool], hidden: ColumnElement[bool]) -> dict[str, Any]:
    props = {
        "code": c.c.code,
        "category": c.c.category,
        "category_label": cat.c.label_zh,
        "category_label_en": cat.c.label_en,
        "subtype": c.c.subtype,
        "attributes": c.c.attributes,
        "status": c.c.status,
        "status_label": json_labels(labels_zh(CASE_STATUSES)).op("->>")(c.c.status),
        "title": c.c.title,
        "description": case((hidden, null()), else_=c.c.description),
        "deadline": c.c.deadline,
        "overdue": overdue_expr(),
        "closed_on_time": c.c.closed_on_time,
        "reported_at": c.c.reported_at,
        "closed_at": c.c.closed_at,
        "county_code": c.c.county_code,
        "township_code": c.c.township_code,
        "village_code": c.c.village_code,
        "village_name": v.c.name,
        "grid_code": case((hidden, null()), else_=c.c.grid_code),
        "lead_unit": lead.c.name,
        "assignee_unit": assignee.c.name,
        "possible_duplicates": c.c.possible_duplicates,
        "duplicate_of": c.c.duplicate_of,
        "review_on": c.c.review_on,
        "extension_requested": c.c.extension_requested,
        "round": c.c.round,
        "location_precision": case((hidden, literal("village")), else_=literal("exact")),
        "in_scope": whole,
        "version": c.c.version,
        "synthetic": c.c.synthetic,
    }
    if p.role in SEES_REPORTER:
        props["reporter"] = _reporter(whole)
    return props


def _base(p: Principal) -> Select[Any]:
    stmt = (
        select(c.c.id.label("id"))
        .select_from(c)
        .join(cat, cat.c.code == c.c.category)
        .join(v, v.c.code == c.c.village_code)
        .outerjoin(lead, lead.c.id == c.c.lead_unit_id)
        .outerjoin(assignee, assignee.c.id == c.c.assignee_unit_id)
    )
    return stmt.outerjoin(rep, rep.c.case_id == c.c.id) if p.role in SEES_REPORTER else stmt


def _feature(p: Principal) -> ColumnElement[Any]:
    whole = case_scope(p, c)
    hidden = and_(cat.c.private_location, not_(whole))
    geometry = case((hidden, _village_point()), else_=c.c.geom)
    return feature(c.c.id, geometry_json(geometry), _properties(p, whole, hidden))


def _bbox_condition(p: Principal, box: BBox) -> ColumnElement[bool]:
    env = envelope(box)
    private_codes = select(t.category.c.code).where(t.category.c.private_location)
    villages = select(t.region.c.code).where(
        t.region.c.level == "village",
        func.ST_Intersects(func.coalesce(t.region.c.seat, func.ST_PointOnSurface(t.region.c.geom)), env),
    )
    exact = func.ST_Intersects(c.c.geom, env)
    return or_(
        and_(exact, or_(c.c.category.not_in(private_codes), case_scope(p, c))),
        and_(c.c.category.in_(private_codes), not_(case_scope(p, c)), c.c.village_code.in_(villages)),
    )


def _review_condition(due: bool) -> ColumnElement[bool]:
    """Suspended cases whose review date has come (挂账到期复查), or not yet."""
    when = c.c.review_on <= local_today() if due else c.c.review_on > local_today()
    return and_(c.c.status == "suspended", when)


def _conditions(p: Principal, q: CaseQuery) -> ColumnElement[bool]:
    return all_of(
        c.c.category.in_(q.categories) if q.categories else None,
        c.c.status.in_(q.statuses) if q.statuses else None,
        area_condition(c, q.area),
        _bbox_condition(p, q.bbox) if q.bbox else None,
        (overdue_expr() if q.overdue else ~overdue_expr()) if q.overdue is not None else None,
        case_scope(p, c) if q.mine else None,
        _review_condition(q.review_due) if q.review_due is not None else None,
        c.c.id > q.after if q.after is not None else None,
    )


@lru_cache(maxsize=256)
def _layer(p: Principal) -> Layer:
    """The case layer in the caller's view, built once per principal (a frozen value: its areas, role, ids).

    Building the joins and ~30 property expressions costs more CPU than running the query; the
    statements only hold SQL, so they are shared by every request of the same caller.
    """
    return Layer(c, _base(p), _feature(p), "problem", "案件", "Case")


def case_page(conn: Connection, q: CaseQuery, links: PageLinks, p: Principal) -> str:
    """One page of cases as a GeoJSON FeatureCollection text, ordered by id."""
    check_states("status", q.statuses, CASE_STATUSES)
    layer_q = LayerQuery(q.categories, q.statuses, q.area, q.bbox, q.after, q.limit)
    return _layer(p).page(conn, layer_q, _conditions(p, q), links)


def case_feature(conn: Connection, case_id: int, p: Principal) -> str:
    """One case as a GeoJSON Feature text, in the view the caller may have."""
    return _layer(p).one(conn, case_id)


# Public helpers for the other read paths of cases (OGC API items, vector tiles, Open311): the same
# joins, properties and public view as ``/cases``, so every interface shows a case the same way.


def case_base(p: Principal) -> Select[Any]:
    """The joined select of cases (案件基础查询): category, village, units, reporter for some roles."""
    return _base(p)


def case_properties(p: Principal, whole: ColumnElement[bool], hidden: ColumnElement[bool]) -> dict[str, Any]:
    """Case properties as key → SQL expression, in the view ``whole``/``hidden`` describe."""
    return _properties(p, whole, hidden)


def village_point() -> ColumnElement[Any]:
    """The village committee point (村委会位置) shown instead of a private location."""
    return _village_point()
