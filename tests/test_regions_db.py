"""Regions in PostGIS: each level tiles its parent, and cases find their grid spatially.

Tiling tolerance (documented in README): for every parent, the area of the symmetric difference
between it and the union of its children, and the total area where siblings overlap, are each
below 1 m² (measured on the ellipsoid). Floating-point clipping leaves far less than that.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

TOLERANCE_M2 = 1.0

COVER_SQL = text("""
SELECT p.code,
       ST_Area(ST_SymDifference(p.geom, ST_Union(c.geom))::geography) AS gap_m2
FROM region p JOIN region c ON c.parent_code = p.code
WHERE p.level = :level
GROUP BY p.code, p.geom
ORDER BY gap_m2 DESC
LIMIT 1
""")

OVERLAP_SQL = text("""
SELECT coalesce(max(overlap), 0) FROM (
  SELECT a.parent_code, sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)) AS overlap
  FROM region a JOIN region b
    ON a.parent_code = b.parent_code AND a.code < b.code AND a.geom && b.geom
       AND ST_Relate(a.geom, b.geom, '2********')
  WHERE a.level = :level
  GROUP BY a.parent_code
) per_parent
""")


@pytest.mark.parametrize("parent_level", ["county", "township", "village"])
def test_children_cover_their_parent(conn: Connection, parent_level: str) -> None:
    code, gap = conn.execute(COVER_SQL, {"level": parent_level}).one()
    assert gap < TOLERANCE_M2, f"{code}: children leave {gap:.3f} m² uncovered or outside"


@pytest.mark.parametrize("child_level", ["township", "village", "grid"])
def test_siblings_do_not_overlap(conn: Connection, child_level: str) -> None:
    overlap = conn.execute(OVERLAP_SQL, {"level": child_level}).scalar_one()
    assert overlap < TOLERANCE_M2


def test_counts_and_the_seed_villages(conn: Connection) -> None:
    counts: dict[str, int] = {
        str(k): int(v) for k, v in conn.execute(text("SELECT level, count(*) FROM region GROUP BY level"))
    }
    assert counts["county"] == 2 and counts["village"] == 336
    assert counts["grid"] >= 2 * 336
    names: dict[str, str] = dict(
        conn.execute(
            text("SELECT code, name FROM region WHERE code IN ('640221202', '640221202204', '640221202204001')")
        ).all()
    )
    assert names["640221202"] == "渠口乡" and names["640221202204"] == "金桥村"
    assert "640221202204001" in names


def test_every_sample_case_lies_in_its_grid(conn: Connection) -> None:
    wrong = conn.execute(
        text("""
        SELECT count(*) FROM cases c JOIN region g ON g.code = c.grid_code
        WHERE NOT ST_Intersects(g.geom, c.geom) OR vm_grid_for(c.geom) <> c.grid_code
        """)
    ).scalar_one()
    assert wrong == 0


def _two_neighbouring_grids(conn: Connection) -> tuple[str, str]:
    row = conn.execute(
        text("""
        SELECT a.code, b.code FROM region a JOIN region b
          ON a.parent_code = b.parent_code AND a.code < b.code AND a.geom && b.geom
        WHERE a.level = 'grid' AND a.parent_code = '640221202204'
          AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 200
        ORDER BY a.code, b.code LIMIT 1
        """)
    ).one()
    return str(row[0]), str(row[1])


def test_a_point_on_a_shared_border_goes_to_the_smaller_code(conn: Connection) -> None:
    a, b = _two_neighbouring_grids(conn)
    found = conn.execute(
        text("""
        WITH edge AS (SELECT ST_LineMerge(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) AS line
                      FROM region a, region b WHERE a.code = :a AND b.code = :b)
        SELECT vm_grid_for(ST_LineInterpolatePoint(
                 CASE WHEN GeometryType(line) = 'LINESTRING' THEN line ELSE ST_GeometryN(line, 1) END, 0.5))
        FROM edge
        """),
        {"a": a, "b": b},
    ).scalar_one()
    assert found == min(a, b)


@pytest.mark.parametrize("longer_in", ["a", "b"])
def test_a_line_crossing_two_grids_goes_where_most_of_it_lies(conn: Connection, longer_in: str) -> None:
    a, b = _two_neighbouring_grids(conn)
    short, long_ = (0.15, 0.6) if longer_in == "b" else (0.6, 0.15)
    row = conn.execute(
        text("""
        WITH edge AS (SELECT ST_LineMerge(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) AS line,
                             ST_PointOnSurface(a.geom) AS pa, ST_PointOnSurface(b.geom) AS pb,
                             a.geom AS ga, b.geom AS gb
                      FROM region a, region b WHERE a.code = :a AND b.code = :b),
        mid AS (SELECT ST_LineInterpolatePoint(CASE WHEN GeometryType(line) = 'LINESTRING'
                         THEN line ELSE ST_GeometryN(line, 1) END, 0.5) AS m, * FROM edge),
        crossing AS (SELECT ST_MakeLine(ST_LineInterpolatePoint(ST_MakeLine(m, pa), :fa),
                                        ST_LineInterpolatePoint(ST_MakeLine(m, pb), :fb)) AS g, ga, gb FROM mid)
        SELECT vm_grid_for(g), ST_Length(ST_Intersection(g, ga)::geography),
               ST_Length(ST_Intersection(g, gb)::geography), ST_Length(g::geography)
        FROM crossing
        """),
        {"a": a, "b": b, "fa": short, "fb": long_},
    ).one()
    found, in_a, in_b, total = row
    assert in_a + in_b == pytest.approx(total, rel=0.02), "the test line must lie in the two grids"
    assert found == (a if in_a > in_b else b)
    assert found == (b if longer_in == "b" else a)
