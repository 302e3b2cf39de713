"""Features of a collection (要素查询), OGC API – Features ``/items``: one statement per page.

Paging is by ``offset`` over ``ORDER BY id`` (the OGC way). ``numberMatched`` is given only when
it is exact and cheap: the matching ids are counted up to a budget and the member is left out when
there are more — never a full ``COUNT(*)`` over the table on every page. When the page carries a
spatial predicate (bbox or a spatial CQL2 operator) the matching ids are first collected in a
``MATERIALIZED`` CTE: without that guard the planner may walk the primary key in id order and
filter every row (the trap measured after ``CLUSTER``), instead of using the GiST index.
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
    Integer,
    Select,
    Text,
    and_,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gis.errors import NotFound
from gis.geojson import feature
from gis.ogc.crs import CRS84, OgcCrs, output_geometry
from gis.ogc.sources import Source

COUNT_BUDGET: Final = 10_000


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
        parts.append(column >= literal(start, DateTime(timezone=True)))
    if end is not None:
        parts.append(column <= literal(end, DateTime(timezone=True)))
    return and_(*parts) if parts else None


def matching(source: Source, q: ItemsQuery) -> Select[Any]:
    """The ids of the features matching every condition (no order, no limit)."""
    temporal = _temporal(source, q)
    conditions = [source.where, *q.conditions, *([temporal] if temporal is not None else [])]
    return source.base.with_only_columns(source.id_col.label("id")).where(and_(*conditions))


def page_statement(source: Source, q: ItemsQuery) -> Select[Any]:
    """One statement: the page's features (plus one look-ahead row) and the bounded count."""
    ids = matching(source, q)
    if q.spatial:
        guard = ids.cte("matched").prefix_with("MATERIALIZED")
        rows = source.base.join(guard, guard.c.id == source.id_col)
        counted: Any = select(guard.c.id).limit(q.count_budget + 1).subquery("counted")
    else:
        rows = source.base.where(matching_where(source, q))
        counted = ids.limit(q.count_budget + 1).subquery("counted")
    rn = func.row_number().over(order_by=source.id_col).label("rn")
    shaped = feature_expression(source, q.crs).label("feature")
    page = rows.add_columns(shaped, rn).order_by(source.id_col).limit(q.limit + 1).offset(q.offset).subquery("page")
    in_page = page.c.rn <= q.offset + q.limit
    features = func.json_agg(aggregate_order_by(page.c.feature, page.c.id)).filter(in_page)
    return select(
        cast(func.coalesce(features, cast(literal("[]"), JSON)), Text),
        cast(func.count().filter(in_page), Integer),
        func.count() > q.limit,
        select(func.count()).select_from(counted).scalar_subquery(),
    ).select_from(page)


def matching_where(source: Source, q: ItemsQuery) -> ColumnElement[bool]:
    """The WHERE clause of :func:`matching` (for the unguarded plan)."""
    temporal = _temporal(source, q)
    return and_(source.where, *q.conditions, *([temporal] if temporal is not None else []))


def items_page(conn: Connection, source: Source, q: ItemsQuery) -> ItemsPage:
    """Run the page statement; ``matched`` is None when the count went past the budget."""
    features, returned, more, counted = conn.execute(page_statement(source, q)).one()
    matched = int(counted) if counted is not None and counted <= q.count_budget else None
    return ItemsPage(str(features), int(returned or 0), bool(more), matched)


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
