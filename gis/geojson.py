"""GeoJSON built inside PostGIS (GeoJSON 输出): RFC 7946 features and paged collections.

Geometry is serialised by ``ST_AsGeoJSON`` with exterior rings counter-clockwise and at most 7
decimals (about 1 cm); Python never sees a coordinate on a read path. A page is one statement:
the rows, the features, ``numberReturned`` and the ``self``/``next`` links come back as one text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

DECIMALS = 7


class JsonKey(ColumnElement[str]):
    """A JSON member name (属性名) fixed by the code, written into the SQL as a quoted literal.

    Keys are part of the statement's shape, not data: as literals (quoted by SQLAlchemy, part of the
    compiled-statement cache key) they keep a feature statement under psycopg's limits for caching
    its query conversion (≤ 50 parameters, ≤ 4 KiB); as bound parameters a case Feature had 57.
    """

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [("key", InternalTraversal.dp_string)]  # noqa: RUF012 (SQLAlchemy API)
    type = Text()

    def __init__(self, key: str) -> None:
        self.key = key


@compiles(JsonKey)
def _json_key(element: JsonKey, compiler: SQLCompiler, **_kw: Any) -> str:
    return compiler.render_literal_value(element.key, Text())


def geometry_json(geom: ColumnElement[Any]) -> ColumnElement[Any]:
    """RFC 7946 geometry: exterior rings counter-clockwise, holes clockwise, ≤ 7 decimals."""
    return cast(func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(geom), DECIMALS), JSON)


def feature(fid: ColumnElement[Any], geom: ColumnElement[Any], properties: dict[str, Any]) -> ColumnElement[Any]:
    """A GeoJSON Feature object built by ``json_build_object``."""
    return func.json_build_object(JsonKey("type"), JsonKey("Feature"), JsonKey("id"), fid, JsonKey("geometry"), geom,
                                  JsonKey("properties"), json_object(properties))  # fmt: skip


def json_object(pairs: dict[str, Any]) -> ColumnElement[Any]:
    """``json_build_object`` from a dict of key → SQL expression (or plain value)."""
    args: list[Any] = []
    for key, value in pairs.items():
        args.extend((JsonKey(key), value))
    return func.json_build_object(*args)


def json_labels(labels: dict[str, str]) -> ColumnElement[Any]:
    """A code → label map as one bound jsonb parameter (look up with ``->>``)."""
    import json

    return cast(literal(json.dumps(labels, ensure_ascii=False), Text), JSONB)


@dataclass(frozen=True)
class PageLinks:
    """Where this page is and how the next one is asked for (``after`` the last id)."""

    self_href: str
    next_prefix: str
    media_type: str = "application/geo+json"


def paged(query: Select[Any], order_key: ColumnElement[Any], limit: int) -> Subquery:
    """One page plus one look-ahead row, ordered by a unique key, numbered ``rn``."""
    rn = func.row_number().over(order_by=order_key).label("rn")
    return query.add_columns(rn).order_by(order_key).limit(limit + 1).subquery("page")


def collection(page: Subquery, limit: int, links: PageLinks) -> Select[str]:
    """The FeatureCollection text of a ``paged`` subquery with columns ``id``, ``feature``."""
    in_page = page.c.rn <= limit
    more = func.count() > limit
    last_id = func.max(page.c.id).filter(in_page)
    self_link = func.jsonb_build_array(_link("self", literal(links.self_href, Text), links))
    next_link = case(
        (
            more,
            func.jsonb_build_array(_link("next", literal(links.next_prefix, Text) + cast(last_id, Text), links)),
        ),
        else_=literal_column("'[]'::jsonb"),
    )
    body = func.json_build_object(
        "type",
        "FeatureCollection",
        "numberReturned",
        cast(func.count().filter(in_page), Integer),
        "features",
        func.coalesce(func.json_agg(_ordered(page)).filter(in_page), literal_column("'[]'::json")),
        "links",
        self_link.op("||")(next_link),
    )
    return select(cast(body, Text)).select_from(page)


def _ordered(page: Subquery) -> ColumnElement[Any]:
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    return aggregate_order_by(page.c.feature, page.c.id)


def _link(rel: str, href: ColumnElement[Any], links: PageLinks) -> ColumnElement[Any]:
    return func.jsonb_build_object("rel", rel, "type", links.media_type, "href", href)


def all_of(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """AND of the conditions that are present (``None`` means no condition)."""
    present = [c for c in conditions if c is not None]
    return and_(*present) if present else literal(True)
