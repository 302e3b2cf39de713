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


# --- imports (导入): rows staged and checked by gis.gisio.stage, written in one statement each ---------

IMPORT_BATCH = """
INSERT INTO import_batch (filename, sha256, format, declared_crs, user_id, row_count, created, unchanged)
VALUES (%(filename)s, %(sha256)s, %(format)s, %(crs)s, %(user_id)s, %(rows)s, 0, %(unchanged)s)
RETURNING id
"""

# One case per new staged row: grid from import_grid, code numbered per county and local year of
# the report, units resolved by name or code (unknown names kept as text in attributes).
INSERT_IMPORTED_CASES = """
WITH src AS (
  SELECT r.*, p.geom, p.approx, g.grid, timestamptz 'epoch' + r.reported_us * interval '1 microsecond' AS reported_at,
         timestamptz 'epoch' + r.closed_us * interval '1 microsecond' AS closed_at,
         date '1970-01-01' + r.deadline_days AS deadline, date '1970-01-01' + r.review_days AS review_on,
         CASE WHEN r.lead_unit IS NOT NULL THEN (SELECT u.id FROM unit u
           WHERE u.name = r.lead_unit OR u.code = r.lead_unit ORDER BY u.id LIMIT 1) END AS lead_id,
         CASE WHEN r.responsible_units IS NOT NULL THEN (SELECT array_agg(DISTINCT u.id)
           FROM regexp_split_to_table(r.responsible_units, '[、,，;；]') x
           JOIN unit u ON u.name = trim(x) OR u.code = trim(x)) END AS responsible_ids,
         CASE WHEN r.responsible_units IS NOT NULL THEN (SELECT count(*)
           FROM regexp_split_to_table(r.responsible_units, '[、,，;；]') x WHERE trim(x) <> '') ELSE 0 END
           AS responsible_n
  FROM import_row r JOIN import_place p ON p.rn = r.rn JOIN import_grid g ON g.rn = r.rn
  WHERE NOT EXISTS (SELECT 1 FROM import_existing e WHERE e.rn = r.rn)
), numbered AS (
  SELECT s.*, left(s.grid, 6) AS county,
         extract(year FROM coalesce(s.reported_at, now()) AT TIME ZONE 'Asia/Shanghai')::integer AS yr
  FROM src s
), counted AS (
  SELECT n.*, coalesce(cc.last_seq, 0) + row_number() OVER (PARTITION BY n.county, n.yr
           ORDER BY coalesce(n.reported_at, now()), n.rn) AS seq
  FROM numbered n LEFT JOIN case_code_counter cc ON cc.county_code = n.county AND cc.year = n.yr
), inserted AS (
  INSERT INTO cases (code, category, subtype, attributes, geom, county_code, township_code, village_code, grid_code,
                     status, title, description, deadline, lead_unit_id, responsible_unit_ids, reported_at, closed_at,
                     closed_on_time, review_on, source, version, created_by, external_id, import_batch_id,
                     location_approximate, created_at, updated_at)
  SELECT c.county || '-' || c.yr || '-' || lpad(c.seq::text, 6, '0'), c.category, c.subtype,
         CAST(c.attributes AS jsonb)
           || CASE WHEN c.lead_unit IS NOT NULL AND c.lead_id IS NULL
                   THEN jsonb_build_object('lead_unit_text', c.lead_unit) ELSE '{}' END
           || CASE WHEN c.responsible_n > coalesce(cardinality(c.responsible_ids), 0)
                   THEN jsonb_build_object('responsible_units_text', c.responsible_units) ELSE '{}' END,
         c.geom, c.county, left(c.grid, 9), left(c.grid, 12), c.grid, c.status,
         coalesce(c.title, v.name || coalesce(c.subtype, cat.label_zh)), coalesce(c.description, ''), c.deadline,
         c.lead_id, coalesce(c.responsible_ids, '{}'), coalesce(c.reported_at, now()),
         CASE WHEN c.status = 'closed' THEN c.closed_at END,
         CASE WHEN c.status = 'closed' AND c.deadline IS NOT NULL
              THEN (c.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= c.deadline END,
         CASE WHEN c.status = 'suspended' THEN c.review_on END, 'import',
         CASE WHEN c.status = 'reported' THEN 1 ELSE 2 END, %(user_id)s, c.external_id, %(batch_id)s, c.approx,
         now(), now()
  FROM counted c JOIN region v ON v.code = left(c.grid, 12) JOIN category cat ON cat.code = c.category
  ORDER BY c.grid, c.rn
  RETURNING 1
)
INSERT INTO case_code_counter AS cc (county_code, year, last_seq)
SELECT county, yr, max(seq) FROM counted GROUP BY county, yr
ON CONFLICT (county_code, year) DO UPDATE SET last_seq = greatest(cc.last_seq, EXCLUDED.last_seq)
"""

# The ``report`` event of every imported case (with the batch id), then one event that brings it to
# the ledger's state (立案、派遣、处置、销号 …) when that is not "reported".
INSERT_IMPORTED_EVENTS = """
WITH arg AS (
  SELECT CAST(%(batch_id)s AS bigint) AS batch, CAST(%(actor)s AS text) AS actor, CAST(%(user_id)s AS integer) AS uid,
         CAST(%(role)s AS text) AS role, CAST(%(filename)s AS text) AS file
), imported AS (
  SELECT c.id, c.county_code, c.status, c.reported_at, c.closed_at, r.rn, r.progress, r.inspector
  FROM cases c JOIN import_row r ON r.external_id = c.external_id, arg
  WHERE c.import_batch_id = arg.batch
)
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, actor_id, actor_role, at,
                        note, data)
SELECT i.id, i.county_code, 'report', NULL, 'reported', arg.actor, arg.uid, arg.role, i.reported_at,
       CASE WHEN i.status = 'reported' THEN i.progress END,
       jsonb_build_object('batch_id', arg.batch, 'row', i.rn, 'file', arg.file)
FROM imported i, arg
UNION ALL
SELECT i.id, i.county_code,
       CASE i.status WHEN 'registered' THEN 'register' WHEN 'assigned' THEN 'assign' WHEN 'in_progress' THEN 'start'
                     WHEN 'resolved' THEN 'resolve' WHEN 'closed' THEN 'close' WHEN 'rejected' THEN 'reject'
                     ELSE 'suspend' END,
       'reported', i.status, CASE WHEN i.status = 'closed' THEN coalesce(i.inspector, arg.actor) ELSE arg.actor END,
       arg.uid, arg.role, CASE WHEN i.status = 'closed' THEN i.closed_at ELSE greatest(now(), i.reported_at) END,
       coalesce(i.progress, '据台账导入 imported from the ledger'),
       jsonb_build_object('batch_id', arg.batch, 'row', i.rn, 'imported_state', true)
FROM imported i, arg WHERE i.status <> 'reported'
"""


def insert_imported(cur: psycopg.Cursor[Any], batch: dict[str, Any]) -> int:
    """Write the staged, checked import rows as cases with their events; returns the new case count."""
    cur.execute(
        "SELECT count(*) FROM import_row r JOIN import_grid g ON g.rn = r.rn "
        "WHERE NOT EXISTS (SELECT 1 FROM import_existing e WHERE e.rn = r.rn)"
    )
    created = int(cur.fetchone()[0])  # type: ignore[index]
    cur.execute(INSERT_IMPORTED_CASES, batch)
    cur.execute(INSERT_IMPORTED_EVENTS, batch)
    cur.execute("UPDATE import_batch SET created = %(created)s WHERE id = %(batch_id)s", batch | {"created": created})
    return created
