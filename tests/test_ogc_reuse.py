"""Items statements built once and reused (要素语句复用): sources per caller, page SQL per query shape.

``source_for`` keeps a collection's source per collection definition and principal, and each
source keeps its page statements per query shape (gis.ogc.items). These tests check that every
value of a query is a bound parameter of its own (two queries of one shape give the same SQL text
and the same other parameters), that a reused statement answers exactly as a freshly built one,
and that a changed collection or caller gets a source of its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from gis.access import ANONYMOUS, Principal
from gis.ogc.catalogue import find_collection
from gis.ogc.items import ItemsPage, items_page, page_statement
from gis.ogc.params import items_query
from gis.ogc.sources import Source, _build_source, source_for

LIMITS = (100, 1000)
SAME_SHAPE = [
    [("bbox", "106.55,38.85,106.65,38.95"), ("limit", "10"), ("status", "closed"), ("datetime", "2020-01-01/..")],
    [("bbox", "106.1,38.2,106.9,39.0"), ("limit", "3"), ("offset", "4"), ("status", "reported"),
     ("datetime", "2024-06-01/..")],
]  # fmt: skip
QUERIES = [
    [("limit", "5")],
    [("limit", "5"), ("offset", "5")],
    [("limit", "1000"), ("status", "rejected")],
    [("limit", "10"), ("offset", "100000")],
    *SAME_SHAPE,
    [("bbox", "38.85,106.55,38.95,106.65"), ("bbox-crs", "EPSG:4326"), ("limit", "7")],
    [("bbox", "106.60,38.86,106.63,38.88"), ("limit", "4"), ("crs", "EPSG:3857")],
    [("datetime", "../2000-01-01"), ("limit", "2")],
    [("filter", "status = 'closed'"), ("limit", "6")],
]


def _compiled(conn: Connection, source: Source, params: list[tuple[str, str]]) -> tuple[str, dict[str, Any]]:
    q = items_query(params, source, LIMITS, 10_000)
    compiled = page_statement(source, q).compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


def test_every_value_of_a_query_is_a_named_bound_parameter(conn: Connection) -> None:
    source = _build_source(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    (text_a, params_a), (text_b, params_b) = (_compiled(conn, source, p) for p in SAME_SHAPE)
    assert text_a == text_b
    differing = {k for k in params_a if params_a[k] != params_b.get(k)}
    assert differing == {"vm_x1", "vm_y1", "vm_x2", "vm_y2", "vm_limit", "vm_limit_next", "vm_offset", "vm_edge",
                         "vm_eq0", "vm_start"}  # fmt: skip
    assert "106.55" not in text_a and "'closed'" not in text_a  # values travel as parameters only


def _page(conn: Connection, source: Source, params: list[tuple[str, str]]) -> ItemsPage:
    return items_page(conn, source, items_query(params, source, LIMITS, 10_000))


def test_a_reused_statement_answers_as_a_fresh_one(conn: Connection) -> None:
    col = find_collection(conn, "garbage_point_points")
    kept = _build_source(col, ANONYMOUS)
    for params in QUERIES * 2:  # the second round runs every shape from its kept statement
        fresh = _page(conn, _build_source(col, ANONYMOUS), params)
        again = _page(conn, kept, params)
        assert (again.features, again.returned, again.more, again.matched) == (
            fresh.features, fresh.returned, fresh.more, fresh.matched), params  # fmt: skip
    assert 0 < len(kept.statements) < len(QUERIES)  # the two queries of one shape share a statement
    assert any(_page(conn, kept, p).returned for p in QUERIES)  # the comparison saw features


def test_sources_are_kept_per_collection_definition_and_caller(conn: Connection) -> None:
    col = find_collection(conn, "garbage_point_points")
    assert source_for(col, ANONYMOUS) is source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    inspector = Principal(7, "someone", "inspector", None, ("640221",))
    moved = replace(inspector, areas=("640302",))
    assert source_for(col, inspector) is not source_for(col, moved)
    changed = replace(col, attributes={**col.attributes, "depth": {"type": "number", "label_en": "depth"}})
    assert "depth" in source_for(changed, ANONYMOUS).queryables
    assert "depth" not in source_for(col, ANONYMOUS).queryables
