"""Bulk writes through COPY (批量导入): stage rows, then let PostGIS derive grids and codes.

Rows are copied into temporary staging tables, then one INSERT … SELECT per table finds each
geometry's grid (``vm_grid_for``), numbers the case codes per county and year, resolves unit
codes to ids and carries the county code onto events. Geometry travels as hex EWKB (SRID 4326).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

STAGING = """
CREATE TEMP TABLE stage_case (
  id bigint PRIMARY KEY, category varchar(40), subtype text, attributes jsonb, geom geometry,
  status varchar(12), title text, description text, deadline date, lead_unit text,
  responsible_units text[], assignee_unit text, assignee_user text, reported_at timestamptz,
  closed_at timestamptz, version integer, source varchar(16), synthetic boolean, review_on date
) ON COMMIT DROP;
CREATE TEMP TABLE stage_event (
  case_id bigint, action varchar(16), from_status varchar(12), to_status varchar(12),
  actor text, at timestamptz, position geometry, accuracy_m real, note text, data jsonb
) ON COMMIT DROP;
CREATE TEMP TABLE stage_reporter (case_id bigint, name text, phone text) ON COMMIT DROP;
"""

UNLOCATED = "SELECT id FROM stage_case WHERE vm_grid_for(geom) IS NULL ORDER BY id LIMIT 20"

INSERT_CASES = """
WITH located AS (
  SELECT s.*, vm_grid_for(s.geom) AS grid,
         extract(year FROM s.reported_at AT TIME ZONE 'Asia/Shanghai')::integer AS yr
  FROM stage_case s
), numbered AS (
  SELECT l.*, left(l.grid, 6) AS county,
         coalesce(cc.last_seq, 0)
           + row_number() OVER (PARTITION BY left(l.grid, 6), l.yr ORDER BY l.reported_at, l.id) AS seq
  FROM located l
  LEFT JOIN case_code_counter cc ON cc.county_code = left(l.grid, 6) AND cc.year = l.yr
), inserted AS (
  INSERT INTO cases (id, code, category, subtype, attributes, geom, county_code, township_code,
                     village_code, grid_code, status, title, description, deadline, lead_unit_id,
                     responsible_unit_ids, assignee_unit_id, assignee_user, reported_at, closed_at,
                     synthetic, source, version, created_at, updated_at, review_on, closed_on_time)
  SELECT n.id, n.county || '-' || n.yr || '-' || lpad(n.seq::text, 6, '0'), n.category, n.subtype,
         n.attributes, ST_SetSRID(n.geom, 4326), n.county, left(n.grid, 9), left(n.grid, 12), n.grid,
         n.status, n.title, n.description, n.deadline,
         (SELECT id FROM unit WHERE code = n.lead_unit),
         coalesce((SELECT array_agg(u.id ORDER BY u.id) FROM unit u
                   WHERE u.code = ANY (n.responsible_units)), '{}'),
         (SELECT id FROM unit WHERE code = n.assignee_unit), n.assignee_user, n.reported_at,
         n.closed_at, n.synthetic, n.source, n.version, n.reported_at,
         coalesce(n.closed_at, n.reported_at), n.review_on,
         CASE WHEN n.closed_at IS NULL OR n.deadline IS NULL THEN NULL
              ELSE (n.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= n.deadline END
  FROM numbered n
  RETURNING 1
)
INSERT INTO case_code_counter AS c (county_code, year, last_seq)
SELECT county, yr, max(seq) FROM numbered GROUP BY county, yr
ON CONFLICT (county_code, year) DO UPDATE SET last_seq = greatest(c.last_seq, EXCLUDED.last_seq)
"""

INSERT_EVENTS = """
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, at,
                        position, accuracy_m, note, data)
SELECT e.case_id, c.county_code, e.action, e.from_status, e.to_status, e.actor, e.at,
       ST_SetSRID(e.position, 4326), e.accuracy_m, e.note, e.data
FROM stage_event e JOIN cases c ON c.id = e.case_id
ORDER BY e.case_id, e.at
"""

INSERT_REPORTERS = """
INSERT INTO case_reporter (case_id, county_code, name, phone)
SELECT r.case_id, c.county_code, r.name, r.phone
FROM stage_reporter r JOIN cases c ON c.id = r.case_id
"""

CASE_COLUMNS = ("id", "category", "subtype", "attributes", "geom", "status", "title",
                "description", "deadline", "lead_unit", "responsible_units", "assignee_unit",
                "assignee_user", "reported_at", "closed_at", "version", "source", "synthetic", "review_on")  # fmt: skip
EVENT_COLUMNS = ("case_id", "action", "from_status", "to_status", "actor", "at", "position",
                 "accuracy_m", "note", "data")  # fmt: skip


class UnlocatedCases(ValueError):
    """Some staged cases touch no grid of the loaded counties (不在任何网格内)."""


def copy_rows(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY ``rows`` into ``table`` (identifiers quoted by psycopg); returns the row count."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def stage(cur: psycopg.Cursor[Any]) -> None:
    """Create the staging tables (dropped at commit)."""
    cur.execute(STAGING)


def insert_staged_cases(cur: psycopg.Cursor[Any]) -> None:
    """Move staged cases, events and reporters into the real tables; refuse unlocated cases."""
    missing = [row[0] for row in cur.execute(UNLOCATED)]
    if missing:
        raise UnlocatedCases(f"cases outside every grid (first ids): {missing}")
    cur.execute(INSERT_CASES)
    cur.execute(INSERT_EVENTS)
    cur.execute(INSERT_REPORTERS)
    reset_identity(cur, "cases")


def reset_identity(cur: psycopg.Cursor[Any], table: str) -> None:
    """Move an identity column's sequence past the ids written explicitly."""
    cur.execute(
        sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), coalesce(max(id), 0) + 1, false) FROM {}").format(
            sql.Literal(table), sql.Identifier(table)
        )
    )


WORK_STAGING = """
CREATE TEMP TABLE stage_work (
  code varchar(24), category varchar(40), subtype text, name text, geom geometry,
  county_code varchar(6), status varchar(20), values jsonb
) ON COMMIT DROP;
"""

# A project belongs to the village holding the largest part of it, and to that village's township.
INSERT_PROJECTS = """
INSERT INTO project (code, category, subtype, name, description, geom, county_code, township_code,
                     village_code, status, year, planned_km, built_km, guardrail_km, speed_bumps,
                     area_mu, investment_wan, progress_pct, lead_unit_id, start_date, end_date,
                     deadline, synthetic, source)
SELECT w.code, w.category, w.subtype, w.name, coalesce(w.values ->> 'description', ''),
       ST_SetSRID(w.geom, 4326), w.county_code, left(v.code, 9), v.code, w.status,
       (w.values ->> 'year')::integer, (w.values ->> 'planned_km')::numeric,
       (w.values ->> 'built_km')::numeric, (w.values ->> 'guardrail_km')::numeric,
       (w.values ->> 'speed_bumps')::integer, (w.values ->> 'area_mu')::numeric,
       (w.values ->> 'investment_wan')::numeric, coalesce((w.values ->> 'progress')::numeric, 0),
       (SELECT id FROM unit WHERE code = w.values ->> 'lead'),
       (w.values ->> 'start_date')::date, (w.values ->> 'end_date')::date,
       (w.values ->> 'deadline')::date, true, 'sample'
FROM stage_work w
CROSS JOIN LATERAL (SELECT vm_region_for(ST_SetSRID(w.geom, 4326), 'village') AS code) v
WHERE w.category IN (SELECT code FROM category WHERE kind = 'project')
ORDER BY w.code
"""

INSERT_FACILITIES = """
INSERT INTO facility (code, category, subtype, name, geom, county_code, township_code,
                      village_code, grid_code, state, unit_id, target_date, synthetic, source)
SELECT w.code, w.category, w.subtype, w.name, ST_SetSRID(w.geom, 4326), left(g.code, 6),
       left(g.code, 9), left(g.code, 12), g.code, w.status,
       (SELECT id FROM unit WHERE code = w.values ->> 'unit'),
       (w.values ->> 'target_date')::date, true, 'sample'
FROM stage_work w
CROSS JOIN LATERAL (SELECT vm_grid_for(ST_SetSRID(w.geom, 4326)) AS code) g
WHERE w.category IN (SELECT code FROM category WHERE kind = 'facility')
ORDER BY w.code
"""

WORK_COLUMNS = ("code", "category", "subtype", "name", "geom", "county_code", "status", "values")


def insert_staged_works(cur: psycopg.Cursor[Any]) -> None:
    """Move staged projects and facilities into their tables, regions derived spatially."""
    cur.execute(INSERT_PROJECTS)
    cur.execute(INSERT_FACILITIES)
