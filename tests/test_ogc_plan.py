"""The items pages keep their index plans (查询计划): checked with EXPLAIN after CLUSTER.

The plain ``WHERE geom && box ORDER BY id LIMIT n`` may flip to a walk of the primary key once the
table is clustered on its GiST index (measured in performance notes §2.4). A bbox page is ordered
nearest the box's centre first, which only a GiST index can deliver: a short nearest-first walk,
then a sort of the matches within its reach; other spatial pages collect their matching ids in a
MATERIALIZED CTE first, so the GiST index drives the plan whatever the statistics say.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from gis.access import ANONYMOUS
from gis.ogc.catalogue import find_collection
from gis.ogc.items import items_page, page_statement
from gis.ogc.params import items_query
from gis.ogc.sources import source_for


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def _explain(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return _nodes(plan[0]["Plan"])


def test_bbox_page_walks_a_gist_index_nearest_first_after_cluster(conn: Connection) -> None:
    """After CLUSTER the bbox page still comes from a GiST index: a nearest-first walk to the page's
    edge, then a sort of only the matches within reach (not of every match in the box). Run with
    ANALYZE: a nearest-first walk planned as an index-only scan would fail right here."""
    conn.execute(text("CLUSTER cases USING cases_geom_idx"))
    conn.execute(text("ANALYZE cases"))
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("bbox", "106.55,38.85,106.65,38.95"), ("limit", "10")], source, (100, 1000), 10_000)
    assert q.spatial and q.near is not None
    nodes = _analyze(conn, page_statement(source, q))
    gist = {"cases_geom_idx", "cases_points_geom_idx"}  # the table's GiST index or the points' one (0008)
    walks = [n for n in nodes if n.get("Index Name") in gist and "Order By" in n]
    assert [n["Node Type"] for n in walks] == ["Index Scan"], [(n["Node Type"], n.get("Index Name")) for n in nodes]
    assert walks[0]["Actual Rows"] == q.offset + q.limit + 1  # it stops at the page's look-ahead row
    matched = items_page(conn, source, q).matched
    assert matched is not None and matched > 5 * (q.limit + 1)
    assert all(n["Actual Rows"] < matched for n in nodes if n["Node Type"] == "Sort")
    assert not any(n.get("Index Name") == "cases_pkey" and "Filter" in n for n in nodes)
    plain = conn.execute(
        text(
            "EXPLAIN SELECT id FROM cases WHERE category = 'garbage_point' AND geom && "
            "ST_MakeEnvelope(106.55, 38.85, 106.65, 38.95, 4326) ORDER BY id LIMIT 10"
        )
    ).scalars()
    print("plain bbox + ORDER BY id plan after CLUSTER:\n" + "\n".join(plain))  # noqa: T201  (evidence in -s output)


def test_point_bbox_page_can_be_answered_from_the_points_index_alone(conn: Connection) -> None:
    """Every column the bbox page's count and its sort within reach read (category, id, the exact
    point) is in cases_points_geom_idx: with sequential and bitmap scans disabled those are index-only
    scans of it, so on a vacuumed table the densest box costs no heap row for them (the 1M bench's
    choice); only the short nearest-first walk visits rows."""
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("bbox", "106.55,38.85,106.65,38.95"), ("limit", "10")], source, (100, 1000), 10_000)
    nodes = _analyze(conn, page_statement(source, q))
    scans = [(n["Node Type"], n.get("Index Name")) for n in nodes if n.get("Relation Name") == "cases"]
    only = ("Index Only Scan", "cases_points_geom_idx")
    assert scans.count(only) == 2, scans  # the count, and the ids within reach
    assert set(scans) == {only, ("Index Scan", "cases_points_geom_idx"), ("Index Scan", "cases_pkey")}, scans


def _analyze(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return _nodes(plan[0]["Plan"])


def _count_plan(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The InitPlan that counts ``numberMatched`` up to the budget (the only one in the statement)."""
    found = [n for n in nodes if n.get("Parent Relationship") == "InitPlan"]
    assert len(found) == 1, [n.get("Subplan Name") for n in found]
    return found[0]


def test_unfiltered_page_walks_the_collection_index_and_counts_within_budget(conn: Connection) -> None:
    conn.execute(text("ANALYZE cases"))
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("limit", "10")], source, (100, 1000), 10_000)
    assert not q.spatial
    nodes = _analyze(conn, page_statement(source, q))
    assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "cases" for n in nodes)
    counting = _nodes(_count_plan(nodes))
    assert counting[0]["Actual Loops"] == 1  # a full page: counted ...
    assert any(n["Node Type"] == "Limit" and n["Actual Rows"] <= q.count_budget + 1 for n in counting)  # ... in budget
    assert {n["Relation Name"] for n in counting if "Relation Name" in n} == {"cases"}  # no joins for the count
    assert any(n.get("Index Name") == "cases_points_idx" for n in counting)  # the collection's partial index
    page_ids = [n for n in nodes if n.get("Index Name") == "cases_points_idx"]
    assert len(page_ids) == 2  # the page's ids come from it too, in id order (no sort of the collection)
    assert not any(n["Node Type"] == "Sort" for n in nodes)


def test_short_page_is_numbered_without_counting(conn: Connection) -> None:
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("limit", "1000"), ("status", "rejected")], source, (100, 1000), 10_000)
    rejected = conn.execute(
        text("SELECT count(*) FROM cases WHERE category = 'garbage_point' AND status = 'rejected'")
    ).scalar_one()
    assert 0 < rejected < q.limit
    assert _count_plan(_analyze(conn, page_statement(source, q)))["Actual Loops"] == 0  # never run
    page = items_page(conn, source, q)
    assert page.matched == page.returned == rejected and not page.more
    beyond = items_query([("limit", "10"), ("offset", str(rejected + 5)), ("status", "rejected")], source,
                         (100, 1000), 10_000)  # fmt: skip
    past = items_page(conn, source, beyond)
    assert past.returned == 0 and past.matched == rejected  # past the end: counted, still exact
