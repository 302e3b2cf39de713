"""Features of a collection (要素查询), OGC API – Features ``/items``: one statement per page.

Paging is by ``offset`` over a total order: ``ORDER BY id``, or, when a ``bbox`` is given and the
ids come from the source's own table (cases, regions; not projects or facilities, nor a filter on a
joined column), by distance from the box's centre and then id (nearest first: a GiST index walk that stops after the
page, so a page costs the same however many features the box holds — with id order every match
in the box had to be found and sorted first, ten times the work on a table ten times as dense).
The page's ids are chosen first, from the collection's own table when the filters allow (an index
walk in id order: the partial indexes of migration 0007), and only those rows are joined for
their properties. ``numberMatched`` is given only when it is exact and cheap: offset + returned on
a short page (no count at all), otherwise the matching ids counted up to a budget, the member left
out when there are more — never a full ``COUNT(*)`` over the table on every page. When a page in
id order carries a spatial predicate (a spatial CQL2 operator) the matching ids are first
collected in a ``MATERIALIZED`` CTE: without that guard the planner may walk the primary key in id
order and filter every row (the trap measured after ``CLUSTER``), instead of using the GiST index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    FromClause,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.util import find_tables

from gis.errors import NotFound
from gis.geojson import feature
from gis.ogc.crs import CRS84, OgcCrs, output_geometry
from gis.ogc.sources import Source

COUNT_BUDGET: Final = 10_000
MAX_SHAPES: Final = 32  # page statements kept per source (simple filters could combine without end)


@dataclass(frozen=True)
class ItemsQuery:
    """What ``/items`` asked for (要素查询条件), parsed and checked."""

    limit: int
    offset: int = 0
    conditions: tuple[ColumnElement[bool], ...] = ()
    spatial: bool = False
    crs: OgcCrs = CRS84
    interval: tuple[datetime | None, datetime | None] | None = None
    count_budget: int = COUNT_BUDGET
    #: What the statement's text depends on besides the source, crs and interval ends: the filtered
    #: property names and the bbox CRS (None: not reusable — a CQL2 filter renders its own literals).
    shape: tuple[Any, ...] | None = None
    #: The bound values of ``conditions`` by parameter name (bbox corners, simple filter values).
    values: dict[str, Any] = field(default_factory=dict)
    #: With a bbox: its centre (EPSG:4326); the page is ordered by distance from it, then by id.
    near: ColumnElement[Any] | None = None


@dataclass
class ItemsPage:
    """One page as PostGIS built it: the features array text and what the links need."""

    features: str
    returned: int
    more: bool
    matched: int | None = None
    ids: list[Any] = field(default_factory=list)


def feature_expression(source: Source, crs: OgcCrs) -> ColumnElement[Any]:
    """A GeoJSON Feature built by ``json_build_object`` with its geometry in ``crs``."""
    return feature(source.id_col, cast(output_geometry(source.geom, crs), JSON), source.properties)


def _temporal(source: Source, q: ItemsQuery) -> ColumnElement[bool] | None:
    if q.interval is None or source.temporal is None:
        return None
    start, end = q.interval
    column = source.temporal
    parts = []
    if start is not None:
        parts.append(column >= bindparam("vm_start", start, DateTime(timezone=True)))
    if end is not None:
        parts.append(column <= bindparam("vm_end", end, DateTime(timezone=True)))
    return and_(*parts) if parts else None


def _bound_values(q: ItemsQuery) -> dict[str, Any]:
    """Every value the page statement binds by name: paging, the conditions' values, the interval."""
    start, end = q.interval or (None, None)
    paging = {"vm_limit": q.limit, "vm_limit_next": q.limit + 1, "vm_offset": q.offset, "vm_edge": q.offset + q.limit}
    return paging | q.values | {"vm_start": start, "vm_end": end}


def _conditions(source: Source, q: ItemsQuery) -> list[ColumnElement[bool]]:
    temporal = _temporal(source, q)
    return [source.where, *q.conditions, *([temporal] if temporal is not None else [])]


def matching(source: Source, q: ItemsQuery) -> Select[Any]:
    """The ids of the features matching every condition (no order, no limit).

    When every condition names only the source's own table (``Source.table``) the ids come from that
    table alone, without the joins the properties need: the count and the page's ids then cost an
    index (or a short heap) walk, not a join per row.
    """
    conditions = _conditions(source, q)
    named = find_tables(and_(*conditions), check_columns=True, include_aliases=True)
    if source.table is not None and all(found is source.table for found in named):
        return select(source.id_col.label("id")).select_from(source.table).where(*conditions)
    return source.base.with_only_columns(source.id_col.label("id")).where(and_(*conditions))


def _page_ids(source: Source, q: ItemsQuery) -> tuple[Select[Any], Subquery, tuple[ColumnElement[Any], ...]]:
    """The matching ids (to count), the page's ids plus a look-ahead row, and the page's order.

    Near a bbox's centre (when the ids come from the source's own table): see :func:`_nearest`.
    In id order with a spatial predicate: the matches are collected first (``MATERIALIZED``), then
    the top ids sorted out of them.
    """
    ids = matching(source, q)
    limit_next = bindparam("vm_limit_next", q.limit + 1, Integer)
    offset = bindparam("vm_offset", q.offset, Integer)
    if q.near is not None and source.table is not None and ids.get_final_froms() == [source.table]:
        nearest = _nearest(source.geom, source.table, ids, q.near, q.offset + q.limit)
        page_ids = nearest.limit(limit_next).offset(offset).subquery("page_ids")
        return ids, page_ids, (page_ids.c.distance, page_ids.c.id)
    pool: Select[Any] = select(ids.cte("matched").prefix_with("MATERIALIZED").c.id) if q.spatial else ids
    page_ids = pool.order_by(pool.selected_columns[0]).limit(limit_next).offset(offset).subquery("page_ids")
    return pool, page_ids, (page_ids.c.id,)


def _nearest(
    geom: ColumnElement[Any], table: FromClause, ids: Select[Any], centre: ColumnElement[Any], edge_at: int
) -> Select[Any]:
    """The matching ids with their distance from ``centre`` (planar, an order only), by distance then id.

    Exact and bounded: a GiST nearest-first walk (``<->``) finds the distance of the page's
    look-ahead row (``vm_edge`` = offset + limit), then only the matches within that reach are sorted
    by (distance, id) — ties at the edge included, so the order is total and the same on every page.
    The walk reads the row's ``ctid``: PostgreSQL refuses a lossy nearest-first walk as an
    index-only scan, which the points index of migration 0008 would otherwise invite.
    """
    distance = geom.op("<->", return_type=Float)(centre)
    heap_row: ColumnClause[Any] = ColumnClause("ctid", _selectable=table)
    walk = ids.with_only_columns(distance.label("distance"), heap_row).order_by(distance)
    edge = walk.offset(bindparam("vm_edge", edge_at, Integer)).limit(1).subquery("edge")
    edge_distance = select(edge.c.distance).where(edge.c.ctid.is_not(None)).scalar_subquery()  # keeps ctid read
    reach = func.coalesce(edge_distance * 1.000001 + 1e-9, 360.0)
    within = geom.op("&&")(func.ST_Expand(centre, reach))
    return ids.add_columns(distance.label("distance")).where(within).order_by(distance, ids.selected_columns[0])


def page_statement(source: Source, q: ItemsQuery) -> Select[str, int, bool, int]:
    """One statement: the page's features (plus one look-ahead row) and ``numberMatched`` when cheap.

    The page's ids are picked first (ids only: a top-N sort or an ordered index walk), then only
    those rows are joined for their properties. ``numberMatched`` is free when the page is short
    (offset + returned); otherwise the matching ids are counted up to the budget — the scalar
    subquery sits in a ``CASE`` branch, so PostgreSQL never runs it for a short page.
    """
    pool, page_ids, order = _page_ids(source, q)
    limit, offset = bindparam("vm_limit", q.limit, Integer), bindparam("vm_offset", q.offset, Integer)
    rn = func.row_number().over(order_by=order).label("rn")
    shaped = feature_expression(source, q.crs).label("feature")
    page = source.base.join(page_ids, page_ids.c.id == source.id_col).add_columns(shaped, rn).subquery("page")
    in_page = page.c.rn <= limit
    features = func.json_agg(aggregate_order_by(page.c.feature, page.c.rn)).filter(in_page)
    counted = pool.limit(q.count_budget + 1).subquery("counted")
    budgeted = select(func.count()).select_from(counted).scalar_subquery()
    short = and_(func.count() <= limit, or_(func.count() > 0, offset == 0))
    matched = case((short, offset + func.count()), else_=func.nullif(budgeted, q.count_budget + 1))
    return select(
        cast(func.coalesce(features, cast(literal("[]"), JSON)), Text),
        cast(func.count().filter(in_page), Integer),
        func.count() > limit,
        cast(matched, Integer),
    ).select_from(page)


def _statement_key(q: ItemsQuery) -> tuple[Any, ...] | None:
    """Everything the page statement's text depends on, for one source (None: build it anew)."""
    if q.shape is None:
        return None
    ends = None if q.interval is None else (q.interval[0] is not None, q.interval[1] is not None)
    return (q.shape, q.spatial, q.crs.uri, ends, q.count_budget, q.near is not None)


@dataclass(frozen=True)
class _Compiled:
    """A page statement as the driver runs it: SQL text, parameters and SQLAlchemy's value converters."""

    sql: str
    params: dict[str, Any]
    converters: dict[str, Any]

    def run_with(self, values: dict[str, Any]) -> dict[str, Any]:
        """The parameters with ``values`` (converted) in place of the compiled statement's own."""
        found = {k: v for k, v in values.items() if k in self.params}
        return self.params | {k: self.converters[k](v) if k in self.converters else v for k, v in found.items()}


def _compile(conn: Connection, source: Source, q: ItemsQuery) -> _Compiled | None:
    """Compile the page statement (None when a converter could not be applied by name)."""
    compiled = page_statement(source, q).compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    escaped = compiled.escaped_bind_names
    converters = {}
    for key, bind in compiled.binds.items():
        convert = bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if convert is not None:
            converters[escaped.get(key, key)] = convert
    params = {escaped.get(k, k): v for k, v in compiled.params.items()}
    if not set(converters) <= set(params):  # an expanded IN list of converted values: leave it to SQLAlchemy
        return None
    return _Compiled(str(compiled), {k: converters[k](v) if k in converters else v for k, v in params.items()},
                     converters)  # fmt: skip


def _compiled(conn: Connection, source: Source, q: ItemsQuery) -> tuple[str, dict[str, Any]] | None:
    """The page statement's SQL text and parameters, compiled once per source and query shape.

    Every value that differs between two queries of one shape is a named bound parameter
    (:func:`_bound_values`), so a kept text is run with this query's values, converted as
    SQLAlchemy would; the other parameters are the same for the shape (labels, the count budget).
    """
    key = _statement_key(q)
    kept = source.statements.get(key) if key is not None else None
    if kept is None:
        kept = _compile(conn, source, q)
        if kept is None:
            return None
        if key is not None and len(source.statements) < MAX_SHAPES:
            source.statements[key] = kept
    return kept.sql, kept.run_with(_bound_values(q))


def items_page(conn: Connection, source: Source, q: ItemsQuery) -> ItemsPage:
    """Run the page statement; ``matched`` is None when the count went past the budget."""
    prepared = _compiled(conn, source, q)
    result = conn.exec_driver_sql(*prepared) if prepared else conn.execute(page_statement(source, q))
    features, returned, more, matched = result.one()
    return ItemsPage(str(features), int(returned or 0), bool(more), None if matched is None else int(matched))


def one_feature(conn: Connection, source: Source, feature_id: str, crs: OgcCrs) -> str:
    """One feature of the collection as GeoJSON text, or a 404."""
    key: Any = feature_id
    if source.collection.source != "region":
        if not feature_id.isdigit() or len(feature_id) > 18:
            raise _missing(source, feature_id)
        key = int(feature_id)
    stmt = (
        source.base.with_only_columns(cast(feature_expression(source, crs), Text))
        .where(source.where, source.id_col == key)
        .limit(1)
    )
    found = conn.execute(stmt).scalar_one_or_none()
    if found is None:
        raise _missing(source, feature_id)
    return str(found)


def _missing(source: Source, feature_id: str) -> NotFound:
    cid = source.collection.id
    return NotFound(
        f"图层 {cid} 中没有要素“{feature_id}”。",
        f"Collection {cid} has no feature '{feature_id}'.",
        collection=cid,
        feature=feature_id,
    )
