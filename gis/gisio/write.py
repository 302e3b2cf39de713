"""Writing a checked import (写入导入数据): cases, their codes and their events, set-based.

Set-based, three statements: (1) the counters of the batch's counties and years locked (so an app
report numbered meanwhile waits rather than takes a code twice), then on narrow rows each new case's
code numbered per county and local year of the report the way ``vm_next_case_code`` does it (the
counter's last number plus the row's rank by report time, then row), its id drawn from the identity
sequence in grid order, and the counters moved on; (2) one INSERT … SELECT of the cases (grid found
in PostGIS, units resolved by name or code, unknown names kept as text in the attributes); (3) one
of their events: every case's ``report`` event with the batch id and file row, and the event that
brings it to the ledger's state when that is not "reported". Ids known in advance, events need no
join to cases.

A large batch may run in bulk mode (gis.gisio.bulkmode): the same statements, with the secondary
indexes and foreign keys of the two tables rebuilt once afterwards instead of row by row.
"""

from __future__ import annotations

from typing import Any

import psycopg

from gis.gisio import bulkmode
from gis.gisio.report import Progress

IMPORT_BATCH = """
INSERT INTO import_batch (filename, sha256, format, declared_crs, user_id, row_count, created, unchanged)
VALUES (%(filename)s, %(sha256)s, %(format)s, %(crs)s, %(user_id)s, %(rows)s, 0, %(unchanged)s)
RETURNING id
"""

# Codes first, on narrow rows: rank per county and local year by report time, then row; ids drawn
# from the identity sequence in grid order (cases of a grid lie together on disk): one by one, or
# from a block reserved up front (``first_id``; bulk mode, where the table lock keeps others out).
RESERVE = """
SELECT setval(pg_get_serial_sequence('cases', 'id'), nextval(pg_get_serial_sequence('cases', 'id')) + %(n)s - 1)
       - %(n)s + 1
"""
# The counters of the batch's counties and years, created if new and locked (a no-op update) before
# numbering: an app report (``vm_next_case_code``) meanwhile waits for the import, never shares a code.
LOCK_COUNTERS = """
INSERT INTO case_code_counter AS cc (county_code, year, last_seq)
SELECT DISTINCT left(g.grid, 6), r.report_year, 0 FROM import_row r JOIN import_grid g ON g.rn = r.rn ORDER BY 1, 2
ON CONFLICT (county_code, year) DO UPDATE SET last_seq = cc.last_seq
"""
NUMBER = """
CREATE TEMP TABLE import_new ON COMMIT DROP AS
WITH fresh AS (
  SELECT r.rn, g.grid, left(g.grid, 6) AS county, r.report_year AS yr,
         coalesce(timestamptz 'epoch' + r.reported_us * interval '1 microsecond', now()) AS reported_at
  FROM import_row r JOIN import_grid g ON g.rn = r.rn
  WHERE NOT EXISTS (SELECT 1 FROM import_existing e WHERE e.rn = r.rn)
), counted AS (
  SELECT f.*, coalesce(cc.last_seq, 0)
           + row_number() OVER (PARTITION BY f.county COLLATE "C", f.yr ORDER BY f.reported_at, f.rn) AS seq
  FROM fresh f LEFT JOIN case_code_counter cc ON cc.county_code = f.county AND cc.year = f.yr
)
SELECT CASE WHEN CAST(%(first_id)s AS bigint) IS NULL THEN nextval(pg_get_serial_sequence('cases', 'id'))
            ELSE CAST(%(first_id)s AS bigint) - 1 + o.k END AS id, o.*
FROM (
  SELECT c.*, row_number() OVER (ORDER BY c.grid COLLATE "C", c.rn) AS k FROM counted c
  ORDER BY c.grid COLLATE "C", c.rn
) o
"""
COUNTERS = """
INSERT INTO case_code_counter AS cc (county_code, year, last_seq)
SELECT county, yr, max(seq) FROM import_new GROUP BY county, yr
ON CONFLICT (county_code, year) DO UPDATE SET last_seq = greatest(cc.last_seq, EXCLUDED.last_seq);
"""

# Units by name or code (unknown names kept as text in the attributes).
INSERT_CASES = """
INSERT INTO cases (id, code, category, subtype, attributes, geom, county_code, township_code, village_code,
                   grid_code, status, title, description, deadline, lead_unit_id, responsible_unit_ids,
                   reported_at, closed_at, closed_on_time, review_on, source, version, created_by, external_id,
                   import_batch_id, location_approximate, created_at, updated_at)
SELECT n.id, n.county || '-' || n.yr || '-' || lpad(n.seq::text, 6, '0'), r.category, r.subtype,
       CAST(coalesce(r.attributes, '{}') AS jsonb)
         || CASE WHEN r.lead_unit IS NOT NULL AND u.lead_id IS NULL
                 THEN jsonb_build_object('lead_unit_text', r.lead_unit) ELSE '{}' END
         || CASE WHEN u.responsible_n > coalesce(cardinality(u.responsible_ids), 0)
                 THEN jsonb_build_object('responsible_units_text', r.responsible_units) ELSE '{}' END,
       p.geom, n.county, left(n.grid, 9), left(n.grid, 12), n.grid, r.status,
       coalesce(r.title, v.name || coalesce(r.subtype, cat.label_zh)), coalesce(r.description, ''), t.deadline,
       u.lead_id, coalesce(u.responsible_ids, '{}'), n.reported_at,
       CASE WHEN r.status = 'closed' THEN t.closed_at END,
       CASE WHEN r.status = 'closed' AND t.deadline IS NOT NULL
            THEN (t.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= t.deadline END,
       CASE WHEN r.status = 'suspended' THEN date '1970-01-01' + r.review_days END, 'import',
       CASE WHEN r.status = 'reported' THEN 1 ELSE 2 END, %(user_id)s, r.external_id, %(batch_id)s, p.approx,
       now(), now()
FROM import_new n JOIN import_row r ON r.rn = n.rn JOIN import_place p ON p.rn = n.rn
JOIN region v ON v.code = left(n.grid, 12) JOIN category cat ON cat.code = r.category
CROSS JOIN LATERAL (SELECT timestamptz 'epoch' + r.closed_us * interval '1 microsecond' AS closed_at,
                           date '1970-01-01' + r.deadline_days AS deadline) t
CROSS JOIN LATERAL (
  SELECT CASE WHEN r.lead_unit IS NOT NULL THEN (SELECT u.id FROM unit u
           WHERE u.name = r.lead_unit OR u.code = r.lead_unit ORDER BY u.id LIMIT 1) END AS lead_id,
         CASE WHEN r.responsible_units IS NOT NULL THEN (SELECT array_agg(DISTINCT u.id)
           FROM regexp_split_to_table(r.responsible_units, '[、,，;；]') x
           JOIN unit u ON u.name = trim(x) OR u.code = trim(x)) END AS responsible_ids,
         CASE WHEN r.responsible_units IS NOT NULL THEN (SELECT count(*)
           FROM regexp_split_to_table(r.responsible_units, '[、,，;；]') x WHERE trim(x) <> '') ELSE 0 END
           AS responsible_n
  OFFSET 0
) u
"""

# Every case's ``report`` event (batch id, file row), then the one that brings it to the ledger's state.
INSERT_EVENTS = """
WITH arg AS (
  SELECT CAST(%(batch_id)s AS bigint) AS batch, CAST(%(actor)s AS text) AS actor, CAST(%(user_id)s AS integer) AS uid,
         CAST(%(role)s AS text) AS role, CAST(%(filename)s AS text) AS file
)
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, actor_id, actor_role, at,
                        note, data)
SELECT n.id, n.county, 'report', NULL, 'reported', arg.actor, arg.uid, arg.role, n.reported_at,
       CASE WHEN r.status = 'reported' THEN r.progress END,
       jsonb_build_object('batch_id', arg.batch, 'row', n.rn, 'file', arg.file)
FROM import_new n JOIN import_row r ON r.rn = n.rn, arg
UNION ALL
SELECT n.id, n.county,
       CASE r.status WHEN 'registered' THEN 'register' WHEN 'assigned' THEN 'assign' WHEN 'in_progress' THEN 'start'
                     WHEN 'resolved' THEN 'resolve' WHEN 'closed' THEN 'close' WHEN 'rejected' THEN 'reject'
                     ELSE 'suspend' END,
       'reported', r.status, CASE WHEN r.status = 'closed' THEN coalesce(r.inspector, arg.actor) ELSE arg.actor END,
       arg.uid, arg.role,
       CASE WHEN r.status = 'closed' THEN timestamptz 'epoch' + r.closed_us * interval '1 microsecond'
            ELSE greatest(now(), n.reported_at) END,
       coalesce(r.progress, '据台账导入 imported from the ledger'),
       jsonb_build_object('batch_id', arg.batch, 'row', n.rn, 'imported_state', true)
FROM import_new n JOIN import_row r ON r.rn = n.rn, arg WHERE r.status <> 'reported'
"""


def write_batch(
    cur: psycopg.Cursor[Any], batch: dict[str, Any], new: int, bulk: bool | None, progress: Progress
) -> int:
    """Write the staged, checked rows as cases with their events; returns how many cases were created.

    ``new``: the staged rows not imported before (each has a grid, else the file was rejected).
    ``bulk``: True or False forces bulk mode on or off; None lets the batch's size decide.
    """
    created = new
    saved = bulkmode.enter(cur) if bulkmode.wanted(cur, created, bulk) else None
    first = int(cur.execute(RESERVE, {"n": created}).fetchone()[0]) if saved is not None else None  # type: ignore[index]
    cur.execute(LOCK_COUNTERS)
    cur.execute(NUMBER, {"first_id": first})
    cur.execute("ANALYZE import_new")
    cur.execute(COUNTERS)
    cur.execute(INSERT_CASES, batch)
    if cur.rowcount != created:
        raise RuntimeError(f"import: {cur.rowcount} cases written, {created} expected")
    cur.execute(INSERT_EVENTS, batch)
    progress("insert", created, created)
    if saved is not None:
        bulkmode.leave(cur, saved, progress)
    cur.execute("UPDATE import_batch SET created = %(created)s WHERE id = %(batch_id)s", batch | {"created": created})
    return created
