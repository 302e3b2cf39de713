"""The sorted bbox page keeps its index plan (查询计划): checked with EXPLAIN after CLUSTER.

The plain ``WHERE geom && box ORDER BY id LIMIT n`` may flip to a walk of the primary key once the
table is clustered on its GiST index (measured in performance notes §2.4); the items query collects
the matching ids in a MATERIALIZED CTE first, so the GiST index drives the plan whatever the
statistics say.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from gis.access import ANONYMOUS
from gis.ogc.catalogue import find_collection
from gis.ogc.items import page_statement
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


def test_bbox_page_uses_the_gist_index_after_cluster(conn: Connection) -> None:
    conn.execute(text("CLUSTER cases USING cases_geom_idx"))
    conn.execute(text("ANALYZE cases"))
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("bbox", "106.55,38.85,106.65,38.95"), ("limit", "10")], source, (100, 1000), 10_000)
    assert q.spatial
    nodes = _explain(conn, page_statement(source, q))
    cte = [n for n in nodes if n.get("Subplan Name", "").startswith("CTE matched")]
    assert cte, [n["Node Type"] for n in nodes]
    under_cte = _nodes(cte[0])
    assert any(n.get("Index Name") == "cases_geom_idx" for n in under_cte), [n["Node Type"] for n in under_cte]
    assert not any(n.get("Index Name") == "cases_pkey" and "Filter" in n for n in nodes)
    plain = conn.execute(
        text(
            "EXPLAIN SELECT id FROM cases WHERE category = 'garbage_point' AND geom && "
            "ST_MakeEnvelope(106.55, 38.85, 106.65, 38.95, 4326) ORDER BY id LIMIT 10"
        )
    ).scalars()
    print("plain bbox + ORDER BY id plan after CLUSTER:\n" + "\n".join(plain))  # noqa: T201  (evidence in -s output)


def test_unfiltered_page_walks_the_primary_key_without_a_full_count(conn: Connection) -> None:
    source = source_for(find_collection(conn, "garbage_point_points"), ANONYMOUS)
    q = items_query([("limit", "10")], source, (100, 1000), 10_000)
    assert not q.spatial
    nodes = _explain(conn, page_statement(source, q))
    limits = [n for n in nodes if n["Node Type"] == "Limit"]
    assert limits  # the count is bounded by a LIMIT (budget + 1), never a COUNT(*) over the table
