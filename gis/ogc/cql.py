"""CQL2 filters to SQL (CQL2 过滤), OGC API – Features Part 3, over a whitelist of properties.

The text or JSON is parsed by the ``cql2`` library; its JSON tree is then translated here into
SQLAlchemy expressions with bound parameters. ``cql2``'s own ``to_sql`` is not used: it passes
any property name through unchecked (``reporter_phone LIKE '138%'`` would be an oracle) and emits
spatial literals without an SRID. Here every property must be one of the collection's queryables,
literals are bound, spatial literals get SRID 4326 (transformed from ``filter-crs`` if declared),
and ``S_DWITHIN`` counts metres on the ellipsoid behind an index-friendly bounding box.

Supported: ``AND OR NOT``, ``= <> < <= > >=``, ``LIKE``, ``IN``, ``BETWEEN``, ``IS NULL``,
``CASEI``, ``S_INTERSECTS S_WITHIN S_CONTAINS S_DISJOINT S_EQUALS S_TOUCHES S_CROSSES S_OVERLAPS
S_DWITHIN``, ``T_AFTER T_BEFORE T_INTERSECTS T_DURING T_EQUALS``, timestamps, dates, intervals,
``BBOX`` and GeoJSON/WKT geometry literals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Text,
    and_,
    cast,
    func,
    literal,
    not_,
    or_,
)

import shapely
from shapely.geometry import mapping, shape

from gis.geoinput import read_geometry
from gis.ogc.cql_parse import bad_filter, parse_filter
from gis.ogc.cql_values import coerce_literal, time_span
from gis.ogc.crs import CRS84, OgcCrs
from gis.ogc.sources import PRIVATE, Queryable

COMPARE: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
SPATIAL: Final[dict[str, str]] = {
    "s_intersects": "ST_Intersects",
    "s_within": "ST_Within",
    "s_contains": "ST_Contains",
    "s_disjoint": "ST_Disjoint",
    "s_equals": "ST_Equals",
    "s_touches": "ST_Touches",
    "s_crosses": "ST_Crosses",
    "s_overlaps": "ST_Overlaps",
}
SQL_TYPES: Final = {"integer": BigInteger, "number": Float, "boolean": Boolean, "date": Date, "date-time": DateTime}


@dataclass
class Translator:
    """Turns one CQL2 JSON tree into SQL over ``queryables`` (翻译器); notes whether it is spatial."""

    queryables: dict[str, Queryable]
    filter_crs: OgcCrs = CRS84
    max_vertices: int = 10_000
    spatial: bool = False

    def condition(self, node: Any) -> ColumnElement[bool]:
        """A boolean SQL expression for a CQL2 predicate node."""
        if isinstance(node, bool):
            return literal(node)
        if not isinstance(node, dict) or "op" not in node:
            raise bad_filter("需要一个条件（如 status = 'closed'）。", "expected a predicate (e.g. status = 'closed').")
        op, args = str(node["op"]).lower(), list(node.get("args", []))
        if op in ("and", "or"):
            parts = [self.condition(a) for a in args]
            return and_(*parts) if op == "and" else or_(*parts)
        if op == "not":
            return not_(self.condition(self._one(op, args)))
        if op in COMPARE:
            return self._compare(op, args)
        handler = _HANDLERS.get(op)
        if handler is None:
            raise bad_filter(f"不支持的运算符“{op}”。", f"operator '{op}' is not supported.", operator=op)
        return handler(self, op, args)

    def _one(self, op: str, args: list[Any]) -> Any:
        if len(args) != 1:
            raise bad_filter(f"{op} 需要 1 个参数。", f"{op} takes one argument.")
        return args[0]

    def prop(self, node: Any) -> Queryable | None:
        """The queryable a ``{"property": …}`` node names (None for other nodes); refuse the rest."""
        if isinstance(node, dict) and node.get("op", "").lower() == "casei":
            inner = self.prop(self._one("casei", list(node.get("args", []))))
            return Queryable(func.lower(inner.expr), inner.type, inner.title) if inner else None
        if not (isinstance(node, dict) and "property" in node):
            return None
        name = str(node["property"])
        found = self.queryables.get(name)
        if found is None:
            known = ", ".join(k for k in self.queryables if k != "geometry")
            why_zh, why_en = (
                ("是非公开属性", "is private") if name in PRIVATE else ("不是可查询属性", "is not queryable")
            )
            raise bad_filter(
                f"属性“{name}”{why_zh}。可查询属性：{known}（见 /queryables）。",
                f"property '{name}' {why_en}. Queryable properties: {known} (see the collection's /queryables).",
                property=name,
            )
        return found

    def value(self, node: Any, kind: str) -> ColumnElement[Any]:
        """A property or a literal, bound with the SQL type ``kind`` asks for."""
        found = self.prop(node)
        if found is not None:
            return found.expr
        if isinstance(node, dict) and node.get("op", "").lower() == "casei":
            return func.lower(self.value(self._one("casei", list(node["args"])), kind))
        return literal(coerce_literal(node, kind), SQL_TYPES.get(kind, Text))

    def _compare(self, op: str, args: list[Any]) -> ColumnElement[bool]:
        left, right = self._pair(op, args)
        return COMPARE[op](left, right)  # type: ignore[no-any-return]

    def _pair(self, op: str, args: list[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        if len(args) != 2:
            raise bad_filter(f"{op} 需要 2 个参数。", f"{op} takes two arguments.")
        kind = self._kind(args)
        if kind == "geometry":
            raise bad_filter(
                "几何属性请用空间运算符（S_INTERSECTS 等）。", "compare geometries with S_INTERSECTS and co."
            )
        return self.value(args[0], kind), self.value(args[1], kind)

    def _kind(self, args: list[Any]) -> str:
        for arg in args:
            found = self.prop(arg)
            if found is not None:
                return found.type
        raise bad_filter("条件中至少要有一个属性。", "a comparison needs at least one property.")

    def geometry(self, node: Any) -> ColumnElement[Any]:
        """The geometry property or a spatial literal in EPSG:4326."""
        found = self.prop(node)
        if found is not None:
            if found.type != "geometry":
                raise bad_filter("空间运算符的参数须为 geometry 属性或几何。", "spatial operators take geometry.")
            return found.expr
        return self._literal_geometry(node)

    def _literal_geometry(self, node: Any) -> ColumnElement[Any]:
        if isinstance(node, dict) and "bbox" in node:
            box = [float(x) for x in node["bbox"]]
            if len(box) not in (4, 6):
                raise bad_filter("BBOX 需要 4 或 6 个数。", "BBOX takes 4 or 6 numbers.")
            x1, y1, x2, y2 = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
            node = mapping(shapely.box(x1, y1, x2, y2))
        if not (isinstance(node, dict) and "type" in node and "coordinates" in node):
            raise bad_filter("空间运算符需要几何（如 POINT(106.6 38.8)）。", "a geometry literal is expected.")
        return literal_geometry(node, self.filter_crs, self.max_vertices)


def literal_geometry(node: dict[str, Any], crs: OgcCrs, max_vertices: int) -> ColumnElement[Any]:
    """A checked geometry literal as ``ST_GeomFromWKB(…, 4326)`` (from ``crs``, transformed if projected)."""
    try:
        geom = shape(node)
    except (ValueError, TypeError, AttributeError, IndexError):
        raise bad_filter("几何字面量无效。", "a geometry literal is malformed.") from None
    if crs.lat_first:
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    if crs.geographic:
        accepted = read_geometry(mapping(geom), max_vertices=max_vertices, field="filter")
        return func.ST_GeomFromWKB(func.decode(shapely.to_wkb(accepted.geom, hex=True), "hex"), 4326)
    if not geom.is_valid or shapely.get_num_coordinates(geom) > max_vertices:
        raise bad_filter("投影坐标几何无效或顶点过多。", "the projected geometry literal is invalid or too large.")
    projected = func.ST_GeomFromWKB(func.decode(shapely.to_wkb(geom, hex=True), "hex"), crs.srid)
    return func.ST_Transform(projected, 4326)


def _like(t: Translator, op: str, args: list[Any]) -> ColumnElement[bool]:
    left, right = t._pair(op, args)
    return left.like(right)


def _between(t: Translator, _op: str, args: list[Any]) -> ColumnElement[bool]:
    if len(args) != 3:
        raise bad_filter("BETWEEN 需要属性、下限和上限。", "BETWEEN takes a property, a low and a high value.")
    kind = t._kind(args[:1])
    return t.value(args[0], kind).between(t.value(args[1], kind), t.value(args[2], kind))


def _in(t: Translator, _op: str, args: list[Any]) -> ColumnElement[bool]:
    if len(args) != 2 or not isinstance(args[1], list) or not args[1]:
        raise bad_filter("IN 需要属性和非空列表。", "IN takes a property and a non-empty list.")
    kind = t._kind(args[:1])
    return t.value(args[0], kind).in_([t.value(item, kind) for item in args[1]])


def _is_null(t: Translator, op: str, args: list[Any]) -> ColumnElement[bool]:
    found = t.prop(t._one(op, args))
    if found is None:
        raise bad_filter("IS NULL 需要一个属性。", "IS NULL takes a property.")
    return found.expr.is_(None)


def _spatial(t: Translator, op: str, args: list[Any]) -> ColumnElement[bool]:
    if len(args) != 2:
        raise bad_filter(f"{op} 需要 2 个参数。", f"{op} takes two arguments.")
    t.spatial = True
    result: ColumnElement[bool] = getattr(func, SPATIAL[op])(t.geometry(args[0]), t.geometry(args[1]))
    return result


def _dwithin(t: Translator, _op: str, args: list[Any]) -> ColumnElement[bool]:
    """``S_DWITHIN(geometry, literal, metres)``: ellipsoidal metres, with a bbox that uses the index."""
    if len(args) not in (3, 4) or isinstance(args[2], dict | list | bool) or args[2] is None:
        raise bad_filter("S_DWITHIN 需要 几何, 几何, 距离（米）。", "S_DWITHIN takes geometry, geometry, distance (m).")
    metres = float(args[2])
    if not 0 <= metres <= 100_000:
        raise bad_filter("S_DWITHIN 的距离须在 0–100000 米。", "S_DWITHIN distance must be 0–100000 metres.")
    t.spatial = True
    a, b = t.geometry(args[0]), t.geometry(args[1])
    target = b if t.prop(args[1]) is None else a
    column = a if target is b else b
    lat = func.least(89.0, func.greatest(func.abs(func.ST_YMin(target)), func.abs(func.ST_YMax(target))))
    dx = metres / 111_320.0 / func.cos(func.radians(lat))
    box = func.ST_Expand(target, dx, metres / 110_574.0)
    near = func.ST_DWithin(func.geography(column), func.geography(target), metres)
    return and_(column.op("&&")(box), near)


def _temporal(t: Translator, op: str, args: list[Any]) -> ColumnElement[bool]:
    if len(args) != 2:
        raise bad_filter(f"{op} 需要 2 个参数。", f"{op} takes two arguments.")
    found = t.prop(args[0])
    if found is None or found.type not in ("date", "date-time"):
        raise bad_filter(f"{op} 的第一个参数须为时间属性（如 reported_at）。", f"{op} needs a temporal property first.")
    start, end = time_span(args[1])
    col = found.expr if found.type == "date-time" else func.timezone("Asia/Shanghai", cast(found.expr, DateTime()))
    stamp = DateTime(timezone=True)
    if op == "t_after":
        return col > literal(end, stamp) if end is not None else literal(False)
    if op == "t_before":
        return col < literal(start, stamp) if start is not None else literal(False)
    low = col >= literal(start, stamp) if start is not None else literal(True)
    high = col <= literal(end, stamp) if end is not None else literal(True)
    return and_(low, high)


_HANDLERS: Final[dict[str, Callable[[Translator, str, list[Any]], ColumnElement[bool]]]] = {
    "like": _like,
    "between": _between,
    "in": _in,
    "isnull": _is_null,
    "s_dwithin": _dwithin,
    **dict.fromkeys(SPATIAL, _spatial),
    **dict.fromkeys(("t_after", "t_before", "t_intersects", "t_during", "t_equals"), _temporal),
}


def filter_condition(
    raw: str, lang: str | None, queryables: dict[str, Queryable], filter_crs: OgcCrs, max_vertices: int
) -> tuple[ColumnElement[bool], bool]:
    """The SQL condition of a CQL2 ``filter`` and whether it is spatial (the planner guard needs it)."""
    translator = Translator(queryables, filter_crs, max_vertices)
    tree = parse_filter(raw, lang)
    return translator.condition(tree), translator.spatial
