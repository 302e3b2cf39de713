"""Where a collection's features come from (图层数据源): base select, geometry, properties, queryables.

A case collection shows each case in the caller's view, exactly as ``/cases`` does (shared
expressions from :mod:`gis.cases`): inside the caller's scope the case is whole; outside it a
category with a private location (危房, 户厕) is shown at village level — the village committee
point, the village outline or its boundary, so the collection keeps one geometry type — with no
grid and no description. Filters use the same *shown* expressions, so neither a small bbox nor a
filter on a hidden property can locate a house. Only the properties named in the queryables can be
filtered on; reporter names and phones never are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    select,
)

from gis import tables as t
from gis.access import SEES_REPORTER, Principal, case_scope
from gis.cases import c, case_base, case_properties, rep, v, village_point
from gis.facilities import f, facility_base, facility_properties
from gis.ogc.catalogue import Collection
from gis.projects import p as proj
from gis.projects import project_base, project_properties

r = t.region.alias("r")

#: Names that are never queryable, whatever the caller (个人信息 / personal data and internals).
PRIVATE: Final[frozenset[str]] = frozenset(
    {"reporter", "reporter_name", "reporter_phone", "phone", "client_key", "created_by", "assignee_user"}
)


@dataclass(frozen=True)
class Queryable:
    """A property that filters may name (可查询属性): its SQL expression and JSON Schema type."""

    expr: ColumnElement[Any]
    type: str  # string | integer | number | boolean | date | date-time | geometry
    title: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A collection's features in one caller's view (图层查询)."""

    collection: Collection
    base: Select[Any]
    id_col: ColumnElement[Any]
    geom: ColumnElement[Any]
    where: ColumnElement[bool]
    properties: dict[str, Any]
    queryables: dict[str, Queryable] = field(default_factory=dict)
    temporal: ColumnElement[Any] | None = None
    geometry_indexed: bool = True
    #: The base's own table when its joins never drop nor repeat a row (NOT NULL foreign keys, outer
    #: joins to unique keys): the ids of a page may then be found in it alone (see items.matching).
    table: FromClause | None = None
    #: Page statements compiled for this source, by query shape (filled by items._compiled).
    statements: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def _q(expr: Any, kind: str, zh: str, en: str, enum: tuple[str, ...] = ()) -> Queryable:
    return Queryable(expr, kind, f"{zh} {en}", enum)


def _attribute_columns(col: Collection, hidden: ColumnElement[bool]) -> tuple[dict[str, Any], dict[str, Queryable]]:
    props: dict[str, Any] = {}
    queryables: dict[str, Queryable] = {}
    for key, spec in col.attributes.items():
        raw = c.c.attributes.op("->>")(key)
        kind = {"boolean": "boolean", "number": "number"}.get(spec.get("type", ""), "string")
        typed = cast(raw, Boolean) if kind == "boolean" else cast(raw, Float) if kind == "number" else raw
        props[key] = typed
        values = tuple(str(x) for x in spec.get("values", []))
        queryables[key] = _q(typed, kind, spec.get("label_zh", key), spec.get("label_en", key), values)
    del hidden
    return props, queryables


def _village_geometry(family: str) -> ColumnElement[Any]:
    if family == "points":
        return village_point()
    if family == "lines":
        return func.ST_Boundary(v.c.geom)
    return v.c.geom


def _case_queryables(props: dict[str, Any], geom: ColumnElement[Any], col: Collection) -> dict[str, Queryable]:
    q = {
        "code": _q(props["code"], "string", "编号", "case code"),
        "category": _q(props["category"], "string", "类别", "category"),
        "subtype": _q(props["subtype"], "string", "子类", "subtype", col.subtypes),
        "status": _q(props["status"], "string", "状态", "status", _STATUSES),
        "title": _q(props["title"], "string", "标题", "title"),
        "description": _q(props["description"], "string", "描述", "description"),
        "deadline": _q(props["deadline"], "date", "整改时限", "deadline"),
        "overdue": _q(props["overdue"], "boolean", "逾期", "overdue"),
        "reported_at": _q(props["reported_at"], "date-time", "上报时间", "reported at"),
        "closed_at": _q(props["closed_at"], "date-time", "结案时间", "closed at"),
        "county_code": _q(props["county_code"], "string", "区县代码", "county code"),
        "township_code": _q(props["township_code"], "string", "乡镇代码", "township code"),
        "village_code": _q(props["village_code"], "string", "村代码", "village code"),
        "village_name": _q(props["village_name"], "string", "村名", "village name"),
        "grid_code": _q(props["grid_code"], "string", "网格代码", "grid code"),
        "lead_unit": _q(props["lead_unit"], "string", "牵头单位", "lead unit"),
        "assignee_unit": _q(props["assignee_unit"], "string", "责任单位", "assignee unit"),
        "round": _q(props["round"], "integer", "轮次", "round"),
    }
    return q | {"geometry": _q(geom, "geometry", "几何", "geometry")}


_STATUSES: Final = ("reported", "registered", "assigned", "in_progress", "resolved", "closed", "rejected", "suspended")


def case_source(col: Collection, p: Principal) -> Source:
    """A case collection (问题图层) in ``p``'s view."""
    whole = case_scope(p, c)
    hidden = not_(whole) if col.private_location else false()
    geom = case((hidden, _village_geometry(col.family)), else_=c.c.geom) if col.private_location else c.c.geom
    props = {k: val for k, val in case_properties(p, whole, hidden).items() if k not in ("attributes", "reporter")}
    extra, attribute_q = _attribute_columns(col, hidden)
    props |= extra
    if p.role in SEES_REPORTER:
        props["reporter_name"] = case((whole, rep.c.name), else_=null())
        props["reporter_phone"] = case((whole, rep.c.phone), else_=null())
    # The dimension is rendered inline, so even a prepared statement matches the partial index of
    # the collection's geometry type (cases_points_idx …, migration 0007).
    dimension = literal(col.dimension, Integer, literal_execute=True)
    where = and_(c.c.category == col.category, func.ST_Dimension(c.c.geom) == dimension)
    queryables = _case_queryables(props, geom, col) | attribute_q
    return Source(col, case_base(p), c.c.id, geom, where, props, queryables, c.c.reported_at,
                  not col.private_location, c)  # fmt: skip


def project_source(col: Collection) -> Source:
    """A project collection (项目图层): projects are public."""
    props = project_properties()
    q = {
        key: _q(props[key], kind, zh, en)
        for key, kind, zh, en in (
            ("code", "string", "编号", "code"), ("category", "string", "类别", "category"),
            ("subtype", "string", "子类", "subtype"), ("name", "string", "名称", "name"),
            ("status", "string", "状态", "status"), ("year", "integer", "年度", "year"),
            ("planned_km", "number", "计划里程", "planned km"), ("built_km", "number", "已建里程", "built km"),
            ("progress_pct", "number", "进度", "progress %"), ("lead_unit", "string", "牵头单位", "lead unit"),
            ("deadline", "date", "时限", "deadline"), ("start_date", "date", "开工", "start date"),
            ("end_date", "date", "完工", "end date"), ("overdue", "boolean", "逾期", "overdue"),
            ("county_code", "string", "区县代码", "county code"),
            ("township_code", "string", "乡镇代码", "township code"),
            ("village_code", "string", "村代码", "village code"),
        )
    }  # fmt: skip
    q["geometry"] = _q(proj.c.geom, "geometry", "几何", "geometry")
    where = and_(proj.c.category == col.category, func.ST_Dimension(proj.c.geom) == col.dimension)
    return Source(col, project_base(), proj.c.id, proj.c.geom, where, props, q, proj.c.start_date)


def facility_source(col: Collection) -> Source:
    """A facility collection (设施图层): facilities are public."""
    props = facility_properties()
    q = {
        key: _q(props[key], kind, zh, en)
        for key, kind, zh, en in (
            ("code", "string", "编号", "code"), ("category", "string", "类别", "category"),
            ("subtype", "string", "子类", "subtype"), ("name", "string", "名称", "name"),
            ("state", "string", "状态", "state"), ("unit", "string", "单位", "unit"),
            ("target_date", "date", "目标日期", "target date"), ("county_code", "string", "区县代码", "county code"),
            ("township_code", "string", "乡镇代码", "township code"),
            ("village_code", "string", "村代码", "village code"), ("grid_code", "string", "网格代码", "grid code"),
        )
    }  # fmt: skip
    q["geometry"] = _q(f.c.geom, "geometry", "几何", "geometry")
    where = and_(f.c.category == col.category, func.ST_Dimension(f.c.geom) == col.dimension)
    return Source(col, facility_base(), f.c.id, f.c.geom, where, props, q, None)


def region_source(col: Collection) -> Source:
    """A region level (行政区划图层): counties, townships, villages or grids; ids are the codes."""
    props: dict[str, Any] = {
        "code": r.c.code,
        "name": r.c.name,
        "official_name": r.c.official_name,
        "name_en": r.c.name_en,
        "level": r.c.level,
        "parent_code": r.c.parent_code,
        "county_code": r.c.county_code,
        "synthetic": r.c.synthetic,
    }
    kinds = {"synthetic": "boolean"}
    q = {key: _q(expr, kinds.get(key, "string"), key, key) for key, expr in props.items()}
    q["geometry"] = _q(r.c.geom, "geometry", "几何", "geometry")
    base = select(r.c.code.label("id")).select_from(r)
    return Source(col, base, r.c.code, r.c.geom, r.c.level == col.level, props, q, None, table=r)


#: Sources built so far (数据源缓存), by collection definition and caller; see :func:`source_for`.
_SOURCES: dict[tuple[str, Principal], Source] = {}
SOURCES_KEPT: Final = 256


def source_for(col: Collection, p: Principal) -> Source:
    """The source of any collection, in ``p``'s view, built once per collection definition and caller.

    Building the joins and ~30 property expressions costs more CPU than running a page; a source
    only holds SQL, so it is shared by every request with the same collection (every field of it,
    as read from the catalogue this request) and the same principal (role, unit, areas, user).
    """
    key = (repr(col), p)
    found = _SOURCES.get(key)
    if found is None:
        if len(_SOURCES) >= SOURCES_KEPT:
            _SOURCES.clear()
        found = _SOURCES[key] = _build_source(col, p)
    return found


def _build_source(col: Collection, p: Principal) -> Source:
    if col.source == "case":
        return case_source(col, p)
    if col.source == "project":
        return project_source(col)
    if col.source == "facility":
        return facility_source(col)
    return region_source(col)


def tile_properties(source: Source) -> dict[str, Any]:
    """The few properties a vector tile carries (瓦片属性): code, category, status, subtype."""
    keep = ("code", "category", "status", "state", "subtype", "name", "level")
    return {k: cast(source.properties[k], Text) for k in keep if k in source.properties}
