"""Bulk mode for large imports (大批量导入模式): rebuild indexes and foreign keys once, not per row.

Writing a million cases row by row into tables with eight indexes and ten foreign keys costs a
foreign-key check per key and row and a random index insertion per index and row. When a batch
is large compared with the table (at least ``MIN_ROWS`` new cases and the table holding at most
``MAX_TABLE_RATIO`` times as many), the import instead, inside its own transaction:

1. locks ``cases`` and ``case_event`` in ACCESS EXCLUSIVE mode, and the tables their foreign keys
   point to (region, unit, category, app_user, import_batch) in SHARE ROW EXCLUSIVE mode, waiting
   at most ``LOCK_WAIT`` (else it falls back to the row-by-row path). Until the import commits,
   nobody can read or write cases or events, and the referenced tables cannot be written;
2. drops the secondary indexes and the foreign-key and unique constraints of the two tables (the
   primary keys stay, so do the triggers that keep cases and events append-only);
3. after the insert, recreates every one of them from the definitions read from the catalogue
   before the drop: each unique index is built (so a duplicate still fails the import) and each
   foreign key validated over the whole table in one join.

If anything fails, the transaction rolls back and the drops with it: the schema is never left
without an index. ``maintenance_work_mem`` is raised for the transaction's index builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import errors, sql

from gis.gisio.report import Progress

MIN_ROWS: Final = 100_000
MAX_TABLE_RATIO: Final = 3
LOCK_WAIT: Final = "5s"
TABLES: Final = ("cases", "case_event")

# Foreign keys and unique constraints that no foreign key depends on, then plain secondary indexes.
DEFINITIONS = """
SELECT 'constraint', c.conname, pg_get_constraintdef(c.oid),
       CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text END
FROM pg_constraint c
WHERE c.conrelid = %(table)s::regclass AND c.contype IN ('f', 'u')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND c.contype = 'u'
                  AND f.confrelid = c.conrelid AND f.conindid = c.conindid)
UNION ALL
SELECT 'index', x.relname, pg_get_indexdef(i.indexrelid), NULL
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
WHERE i.indrelid = %(table)s::regclass AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
ORDER BY 1 DESC, 2
"""


@dataclass(frozen=True)
class Saved:
    """One dropped index or constraint and how to recreate it (已移除的索引或约束)."""

    table: str
    kind: str
    name: str
    definition: str
    references: str | None


def table_rows(cur: psycopg.Cursor[Any]) -> int:
    """The planner's estimate of the rows in ``cases`` (counted when never analysed)."""
    estimate = float(cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'cases'::regclass").fetchone()[0])  # type: ignore[index]
    if estimate >= 0:
        return int(estimate)
    return int(cur.execute("SELECT count(*) FROM cases").fetchone()[0])  # type: ignore[index]


def wanted(cur: psycopg.Cursor[Any], new: int, forced: bool | None) -> bool:
    """Whether this batch is written in bulk mode (``forced`` overrides the size rule)."""
    if forced is not None:
        return forced and new > 0
    return new >= MIN_ROWS and table_rows(cur) <= MAX_TABLE_RATIO * new


def _definitions(cur: psycopg.Cursor[Any]) -> list[Saved]:
    return [
        Saved(table, kind, name, definition, references)
        for table in TABLES
        for kind, name, definition, references in cur.execute(DEFINITIONS, {"table": table}).fetchall()
    ]


def _lock(cur: psycopg.Cursor[Any], saved: list[Saved]) -> bool:
    """Take every lock up front (no deadlock half-way); False when they are not free in time."""
    referenced = sorted({s.references for s in saved if s.references} - set(TABLES))
    previous = str(cur.execute("SELECT current_setting('lock_timeout')").fetchone()[0])  # type: ignore[index]
    cur.execute("SAVEPOINT vm_bulk_lock")
    cur.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
    try:
        cur.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(map(sql.Identifier, TABLES)))
        )
        if referenced:
            names = sql.SQL(", ").join(sql.SQL(name) for name in referenced)  # regclass text, quoted by PostgreSQL
            cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(names))
    except errors.LockNotAvailable:
        cur.execute("ROLLBACK TO SAVEPOINT vm_bulk_lock")  # also undoes the lock_timeout
        return False
    cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    cur.execute("RELEASE SAVEPOINT vm_bulk_lock")
    return True


def enter(cur: psycopg.Cursor[Any]) -> list[Saved] | None:
    """Lock, then drop the secondary indexes and constraints; None when the locks were not free."""
    saved = _definitions(cur)
    if not _lock(cur, saved):
        return None
    cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for item in saved:
        table, name = sql.Identifier(item.table), sql.Identifier(item.name)
        if item.kind == "constraint":
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, name))
        else:
            cur.execute(sql.SQL("DROP INDEX {}").format(name))
    return saved


def leave(cur: psycopg.Cursor[Any], saved: list[Saved], progress: Progress) -> None:
    """Recreate what ``enter`` dropped: indexes built, unique and foreign keys checked on the whole table."""
    for done, item in enumerate(saved, start=1):
        if item.kind == "constraint":
            cur.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(item.table), sql.Identifier(item.name)
                )
                + sql.SQL(item.definition)
            )
        else:
            cur.execute(sql.SQL(item.definition))
        progress("index", done, len(saved))
