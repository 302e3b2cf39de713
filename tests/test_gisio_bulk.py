"""Bulk mode of large imports (大批量导入模式): the same cases, codes and events as row by row.

Bulk mode (gis.gisio.bulkmode) drops the secondary indexes and foreign keys of ``cases`` and
``case_event`` inside the import's transaction and rebuilds them after one INSERT. It is forced on
small files here and compared with the row-by-row path on the same file, in the same database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import psycopg
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

import geopandas as gpd
import shapely

from bench.import_bench import sites
from gis.access import Principal
from gis.gisio import values
from gis.gisio.importer import import_file
from gis.gisio.normalize import ImportOptions
from gis.gisio.report import ImportRejected
from gis.report import ReportIn, report_case
from tests.conftest import NOW
from tests.databases import sample_database

ADMIN = Principal(8, "demo-admin", "admin", None, ("640221", "640302"))  # the sample's demo admin (checked below)
CASES = """
SELECT c.code, c.category, c.status, c.title, c.description, c.grid_code, c.village_code, c.external_id,
       c.lead_unit_id, c.attributes::text, c.reported_at, c.closed_at, c.closed_on_time, c.version,
       ST_AsText(c.geom) AS wkt, c.location_approximate
FROM cases c WHERE c.import_batch_id = :batch ORDER BY c.code
"""
EVENTS = """
SELECT c.code, e.action, e.from_status, e.to_status, e.actor,
       CASE WHEN e.action IN ('report', 'close') THEN e.at END AS at, e.note, e.data - 'batch_id' AS data,
       (e.data ->> 'batch_id')::bigint = c.import_batch_id AS has_batch
FROM case_event e JOIN cases c ON c.id = e.case_id
WHERE c.import_batch_id = :batch ORDER BY c.code, e.id
"""
GRID_POINT = """
SELECT ST_X(p), ST_Y(p) FROM (
  SELECT ST_PointOnSurface(geom) AS p FROM region WHERE level = 'grid' AND code LIKE '640302%' ORDER BY code LIMIT 1
) s
"""
CATALOGUE = """
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename IN ('cases', 'case_event')
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
FROM pg_constraint WHERE conrelid IN ('cases'::regclass, 'case_event'::regclass)
UNION ALL
SELECT 'trigger', tgname, pg_get_triggerdef(oid) || tgenabled::text
FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN ('cases'::regclass, 'case_event'::regclass)
ORDER BY 1, 2
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A scratch database with the sample's regions and units (no cases of the last year)."""
    with sample_database("gisio_bulk", now=NOW, cases=0) as (_settings, made):
        with made.connect() as conn:
            assert conn.execute(text("SELECT username FROM app_user WHERE id = 8")).scalar_one() == ADMIN.username
        yield made


@pytest.fixture(scope="module")
def ledger(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GeoPackage of 240 points with statuses, close-out times and units (a ledger export)."""
    frame = sites(engine, 240, seed=7)
    n = len(frame)
    status = np.array(["已上报", "整改中", "已销号", "已立案"])[np.arange(n) % 4]
    frame["状态"] = status
    closed = frame["发现时间"] + pd.Timedelta(days=3)
    frame["销号时间"] = closed.where(status == "已销号", pd.NaT)
    frame["牵头单位"] = ["利通区水务局" if i % 3 == 0 else None for i in range(n)]
    path = tmp_path_factory.mktemp("bulk") / "ledger.gpkg"
    frame.to_file(path, driver="GPKG", layer="ledger")
    return path


def _import(conn: Connection, path: Path, bulk: bool) -> tuple[list[Any], list[Any], int]:
    report = import_file(conn, path, path.name, ImportOptions(bulk=bulk), ADMIN)
    assert report.batch_id is not None
    batch = {"batch": report.batch_id}
    cases = [tuple(r) for r in conn.execute(text(CASES), batch)]
    events = [tuple(r) for r in conn.execute(text(EVENTS), batch)]
    return cases, events, report.created


def test_bulk_mode_writes_the_same_cases_codes_and_events(engine: Engine, ledger: Path) -> None:
    results = []
    for bulk in (False, True):
        with engine.connect() as conn:
            results.append(_import(conn, ledger, bulk))
            conn.rollback()
    (row_cases, row_events, row_n), (bulk_cases, bulk_events, bulk_n) = results
    assert row_n == bulk_n == 240 == len(bulk_cases)
    assert bulk_cases == row_cases
    assert bulk_events == row_events
    assert len(bulk_events) == 240 + 180  # a report event each, a state event for the 180 not "reported"
    assert all(e[-1] for e in bulk_events)
    assert len({c[0] for c in bulk_cases}) == 240


def test_bulk_mode_restores_every_index_constraint_and_trigger(engine: Engine, ledger: Path) -> None:
    with engine.connect() as conn:
        before = conn.execute(text(CATALOGUE)).all()
        _import(conn, ledger, True)
        after = conn.execute(text(CATALOGUE)).all()
        assert after == before
        assert {r[1] for r in after} >= {"cases_geom_idx", "cases_code_key", "case_event_case_id_fkey"}
        new_id = conn.execute(text("SELECT max(id) FROM cases")).scalar_one()
        for statement in ("DELETE FROM cases WHERE id = :id", "UPDATE case_event SET note = 'x' WHERE case_id = :id"):
            savepoint = conn.begin_nested()
            with pytest.raises(DBAPIError, match="refused"):
                conn.execute(text(statement), {"id": new_id})
            savepoint.rollback()
        again = import_file(conn, ledger, ledger.name, ImportOptions(bulk=True), ADMIN)
        assert (again.created, again.unchanged) == (0, 240)
        conn.rollback()


def test_a_bad_row_rejects_the_whole_file_in_bulk_mode(engine: Engine, tmp_path: Path) -> None:
    frame = sites(engine, 50, seed=3)
    frame.loc[17, "geometry"] = shapely.Point(100.0, 30.0)  # far outside both counties
    path = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame(frame, crs="EPSG:4326").to_file(path, driver="GPKG")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        with pytest.raises(ImportRejected) as rejected:
            import_file(conn, path, path.name, ImportOptions(bulk=True), ADMIN)
        assert [(i.row, i.code) for i in rejected.value.report.errors] == [(18, "outside_counties")]
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == count
        conn.rollback()


def test_a_duplicate_code_fails_the_bulk_import_and_leaves_everything(engine: Engine, ledger: Path) -> None:
    """A code that would repeat is caught by the rebuilt unique index: the import fails as a whole."""
    with engine.connect() as conn:
        before = conn.execute(text(CATALOGUE)).all()
        count = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        _import(conn, ledger, False)
        conn.execute(text("UPDATE case_code_counter SET last_seq = 0"))
        other = ledger.with_name("other.gpkg")
        frame = gpd.read_file(ledger)
        frame["编号"] = "X" + frame["编号"]
        frame.to_file(other, driver="GPKG")
        with pytest.raises(psycopg.errors.UniqueViolation):
            import_file(conn, other, other.name, ImportOptions(bulk=True), ADMIN)
        conn.rollback()
        assert conn.execute(text(CATALOGUE)).all() == before
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == count
        conn.rollback()


def test_bulk_mode_gives_way_to_a_reader_and_imports_row_by_row(engine: Engine, ledger: Path) -> None:
    """A transaction reading cases keeps the ACCESS EXCLUSIVE lock away: the import falls back."""
    with engine.connect() as reader, engine.connect() as conn:
        reader.execute(text("SELECT count(*) FROM cases")).scalar_one()  # holds ACCESS SHARE until rollback
        before = conn.execute(text(CATALOGUE)).all()
        locks = (
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'AccessExclusiveLock' "
            "AND relation IN ('cases'::regclass, 'case_event'::regclass)"
        )
        cases, events, created = _import(conn, ledger, True)
        assert created == len(cases) == 240 and len(events) == 420
        assert conn.execute(text(locks)).scalar_one() == 0, "no table was locked exclusively: row by row"
        assert conn.execute(text(CATALOGUE)).all() == before
        conn.rollback()
        reader.rollback()


def test_long_text_columns_read_vectorised_like_value_by_value() -> None:
    cells = np.array([" a ", None, "", "  ", float("nan"), "长文本" * 90, "b"] * 2000, dtype=object)
    assert len(cells) >= values.VECTORISED_FROM
    fast = values.text_column(cells, len(cells), 200)
    slow = values.by_distinct(cells, lambda v: values._text(v, 200))
    assert fast.tolist() == slow.tolist()
    assert values.present(cells).tolist() == values.by_distinct(cells, values._present).astype(bool).tolist()


def _wait_for_lock(engine: Engine, pid: int) -> bool:
    """Whether the backend ``pid`` comes to wait on a lock within 30 s."""
    with engine.connect() as watcher:
        for _ in range(300):
            state = watcher.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
            if state.scalar_one_or_none() == "Lock":
                return True
            watcher.rollback()
            time.sleep(0.1)
    return False


def test_an_app_report_during_an_import_waits_and_never_shares_a_code(engine: Engine, tmp_path: Path) -> None:
    """A report numbered (not yet committed) while a file of the same county and year is imported:
    the import waits for it and numbers after it, instead of failing on a code both took."""
    frame = sites(engine, 40, seed=5)
    frame["发现时间"] = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=5)
    path = tmp_path / "now.gpkg"
    frame.to_file(path, driver="GPKG")
    with engine.connect() as reporter, engine.connect() as importer:
        lon, lat = reporter.execute(text(GRID_POINT)).one()
        point = {"type": "Point", "coordinates": [lon, lat]}
        case_id = report_case(reporter, ADMIN, ReportIn("garbage_point", point), client_key="race-test",
                              max_vertices=10_000, anonymous_limit=10)  # fmt: skip
        pid = importer.execute(text("SELECT pg_backend_pid()")).scalar_one()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["report"] = import_file(importer, path, path.name, ImportOptions(bulk=False), ADMIN)
            except Exception as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        assert _wait_for_lock(engine, pid)
        reporter.commit()
        thread.join(120)
        assert "error" not in outcome, outcome.get("error")
        codes = (
            importer.execute(
                text("SELECT code FROM cases WHERE import_batch_id = :b"), {"b": outcome["report"].batch_id}
            )
            .scalars()
            .all()
        )
        mine = reporter.execute(text("SELECT code FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
        assert len(set(codes)) == 40 and mine not in codes
        assert any(code.startswith(mine[:11]) for code in codes)  # the same county and year were numbered
        importer.rollback()
