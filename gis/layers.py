"""What the read paths of cases, projects and facilities share (图层查询公共部分)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Text, bindparam, cast, func, select
from sqlalchemy.sql.selectable import NamedFromClause

from gis.checks import area_exists, checked_body, unknown_categories
from gis.errors import NotFound, unknown
from gis.filters import BBox, area_level
from gis.geojson import PageLinks, all_of, collection, paged

LEVEL_COLUMN = {
    "county": "county_code",
    "township": "township_code",
    "village": "village_code",
    "grid": "grid_code",
}


@dataclass(frozen=True)
class LayerQuery:
    """Filters every layer understands: categories, states, area, bbox and paging."""

    categories: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    area: str | None = None
    bbox: BBox | None = None
    after: int | None = None
    limit: int = 100


def envelope(box: BBox) -> ColumnElement[Any]:
    """The bbox as a polygon in the storage SRID (so the GiST index on the column is used)."""
    return func.ST_MakeEnvelope(box.west, box.south, box.east, box.north, 4326)


def area_condition(table: NamedFromClause, area: str | None) -> ColumnElement[bool] | None:
    """Rows of the area named by its code (the code column of the matching level)."""
    if area is None:
        return None
    column = LEVEL_COLUMN[area_level(area)]
    if column not in table.c:
        raise unknown("area", area, "该图层不支持的区域级别", "area level for this layer")
    return table.c[column] == area


def common_conditions(table: NamedFromClause, q: LayerQuery, state_column: str) -> ColumnElement[bool]:
    """Category, state, area, bbox and keyset conditions of a layer query."""
    return all_of(
        table.c.category.in_(q.categories) if q.categories else None,
        table.c[state_column].in_(q.states) if q.states else None,
        area_condition(table, q.area),
        func.ST_Intersects(table.c.geom, envelope(q.bbox)) if q.bbox else None,
        table.c.id > q.after if q.after is not None else None,
    )


def check_states(parameter: str, states: tuple[str, ...], vocabulary: dict[str, Any]) -> None:
    """Refuse state codes outside the vocabulary."""
    bad = [s for s in states if s not in vocabulary]
    if bad:
        raise unknown(parameter, ",".join(bad), "状态", "status")


@dataclass(frozen=True)
class Layer:
    """A table read as features: its base select (with joins), feature expression and id."""

    table: NamedFromClause
    base: Select[Any]
    feature: ColumnElement[Any]
    kind: str
    what_zh: str
    what_en: str

    def page(self, conn: Connection, q: LayerQuery, where: ColumnElement[bool], links: PageLinks) -> str:
        """One page as a FeatureCollection text, checks folded into the same statement."""
        rows = self.base.add_columns(self.feature.label("feature")).where(where)
        body = collection(paged(rows, self.table.c.id, q.limit), q.limit, links)
        stmt = select(area_exists(q.area), unknown_categories(q.categories, self.kind), body.scalar_subquery())
        return checked_body(conn.execute(stmt).one(), q.area)

    @cached_property
    def one_statement(self) -> Select[Any]:
        """The single-row statement (单条查询), built once per layer: the id is a bound parameter."""
        return self.base.with_only_columns(cast(self.feature, Text)).where(self.table.c.id == bindparam("fid"))

    def one(self, conn: Connection, fid: int) -> str:
        """One row as a Feature text, or NotFound."""
        found = conn.execute(self.one_statement, {"fid": fid}).scalar_one_or_none()
        if found is None:
            raise NotFound(f"{self.what_zh} {fid} 不存在。", f"{self.what_en} {fid} does not exist.", id=fid)
        return str(found)
