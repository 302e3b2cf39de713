"""The routable road network (路网): roads and lanes of the base map, noded, with metric costs.

``build_road_network`` derives ``road_vertex``/``road_edge`` (the pgRouting edge-table shape:
``id, source, target, cost, reverse_cost``) from ``base_line`` rows of kind ``road`` and ``lane``,
per county, entirely in PostGIS:

- every line is cut where it crosses or touches another (``ST_Node``: 沿黄路 meets the village
  roads only where it crosses them, so without noding it would be an island);
- each piece between two nodes is one edge, attributed to the base line it came from (the nearest
  one to its midpoint; a road wins over a lane where both run together);
- edge ends are snapped to a 1e-7° grid (about 1 cm) and equal snapped ends are one vertex;
- ``cost`` and ``reverse_cost`` are the edge's length in metres on the WGS84 ellipsoid (both ways
  open: village roads and lanes are walked and ridden in both directions).

The network is derived data: rebuilt from the base map, never edited by hand.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

BUILD = text("""
WITH src AS (
  SELECT b.id, b.kind, b.name, b.county_code, (ST_Dump(b.geom)).geom AS geom
  FROM base_line b
  WHERE b.kind IN ('road', 'lane') AND b.county_code IS NOT NULL
), piece AS MATERIALIZED (
  SELECT n.county_code, (ST_Dump(n.noded)).geom AS geom
  FROM (SELECT county_code, ST_Node(ST_Collect(geom ORDER BY id)) AS noded FROM src GROUP BY county_code) n
), seg AS MATERIALIZED (
  SELECT p.county_code, p.geom, s.id AS base_line_id, s.kind, s.name,
         round(ST_X(ST_StartPoint(p.geom)) * 1e7)::bigint AS sx, round(ST_Y(ST_StartPoint(p.geom)) * 1e7)::bigint AS sy,
         round(ST_X(ST_EndPoint(p.geom)) * 1e7)::bigint AS ex, round(ST_Y(ST_EndPoint(p.geom)) * 1e7)::bigint AS ey,
         ST_Length(p.geom::geography) AS metres
  FROM piece p
  CROSS JOIN LATERAL (
    SELECT s.id, s.kind, s.name FROM src s
    WHERE s.county_code = p.county_code
    ORDER BY s.geom <-> ST_LineInterpolatePoint(p.geom, 0.5), s.kind = 'lane', s.id
    LIMIT 1) s
  WHERE ST_Length(p.geom::geography) > 0
), ends AS (
  SELECT county_code, sx AS x, sy AS y FROM seg UNION SELECT county_code, ex, ey FROM seg
), vertex AS (
  INSERT INTO road_vertex (county_code, geom)
  SELECT county_code, ST_SetSRID(ST_MakePoint(x / 1e7, y / 1e7), 4326) FROM ends ORDER BY county_code, x, y
  RETURNING id, county_code, round(ST_X(geom) * 1e7)::bigint AS x, round(ST_Y(geom) * 1e7)::bigint AS y
), edge AS (
  INSERT INTO road_edge (source, target, cost, reverse_cost, kind, name, base_line_id, county_code, geom)
  SELECT vs.id, vt.id, seg.metres, seg.metres, seg.kind, seg.name, seg.base_line_id, seg.county_code, seg.geom
  FROM seg
  JOIN vertex vs ON (vs.county_code, vs.x, vs.y) = (seg.county_code, seg.sx, seg.sy)
  JOIN vertex vt ON (vt.county_code, vt.x, vt.y) = (seg.county_code, seg.ex, seg.ey)
  ORDER BY seg.county_code, seg.base_line_id, seg.sx, seg.sy, seg.ex, seg.ey
  RETURNING id
)
SELECT count(*) FROM edge
""")

EXISTING = text("SELECT count(*) FROM road_edge")
CLEAR = (text("DELETE FROM road_edge"), text("DELETE FROM road_vertex"))


def build_road_network(conn: Connection, *, rebuild: bool = False) -> int:
    """Build the road network (生成路网) from the base map's roads and lanes; returns the edge count.

    When a network already exists it is kept (and its edge count returned) unless ``rebuild``,
    which replaces it — the network is derived data, not a record.
    """
    existing = int(conn.execute(EXISTING).scalar_one())
    if existing and not rebuild:
        return existing
    for statement in CLEAR:
        conn.execute(statement)
    built = int(conn.execute(BUILD).scalar_one())
    conn.execute(text("ANALYZE road_vertex"))
    conn.execute(text("ANALYZE road_edge"))
    return built


COMPONENTS = text("""
SELECT e.county_code, c.component, count(DISTINCT c.node) AS vertices
FROM pgr_connectedComponents('SELECT id, source, target, cost, reverse_cost FROM road_edge') c
JOIN road_vertex v ON v.id = c.node
JOIN LATERAL (SELECT county_code FROM road_edge WHERE source = c.node OR target = c.node LIMIT 1) e ON true
GROUP BY e.county_code, c.component
ORDER BY e.county_code, vertices DESC, c.component
""")


def components(conn: Connection) -> list[tuple[str, int, int]]:
    """Connected parts of the network (连通分量): (county, component id, vertices), biggest first."""
    return [(str(r[0]), int(r[1]), int(r[2])) for r in conn.execute(COMPONENTS).all()]
