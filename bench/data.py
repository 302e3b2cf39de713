"""Bench data (基准数据): a scratch database with N point cases, loaded through COPY, clustered on GiST.

The database is cloned from the local cluster's template (as the tests do), migrated, given the
sample's regions, units and demo accounts (``load_sample(cases=0)``), then N garbage-point cases
(垃圾点) are drawn around the village seats — each village a lognormal share, each case within
about a kilometre of its seat, so some villages are dense — and copied straight into ``cases``
(with one ``report`` event each) with codes, grids and counters filled in as the importer would.
Secondary indexes and foreign keys are dropped for the COPY and rebuilt after it; then
``CLUSTER cases USING cases_geom_idx``, ``ANALYZE`` and VillageMap's recommended settings for the
database (``jit = off``, ``max_parallel_workers_per_gather = 0``; notes/performance.md §2.4).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import psycopg
from psycopg import sql
from sqlalchemy import Engine, make_url

import shapely

from data.cases import SHANGHAI
from data.load import load_sample
from gis import migrate
from gis.db import make_engine
from gis.settings import Settings
from tests.databases import create_database, drop_database, server_url, url_of

CATEGORY = "garbage_point"
COLLECTION = "garbage_point_points"
STATUSES = ("reported", "registered", "assigned", "in_progress", "resolved", "closed", "rejected")
STATUS_P = (0.06, 0.06, 0.10, 0.12, 0.05, 0.56, 0.05)
EDGES = ("路边", "村边", "地边", "沟边")
SPREAD_M = 700.0
CHUNK = 250_000
BATCH = 1_000_000
CASE_COPY = ("id", "code", "category", "subtype", "attributes", "geom", "county_code", "township_code",
             "village_code", "grid_code", "status", "title", "description", "deadline", "reported_at",
             "closed_at", "synthetic", "source", "version", "created_at", "updated_at")  # fmt: skip
EVENT_COPY = ("case_id", "county_code", "action", "to_status", "actor", "at", "note")


@dataclass
class BenchDb:
    """A scratch bench database (基准库) and what was done to it, with timings."""

    name: str
    url: str
    cases: int
    photo_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        """VillageMap settings pointing at this database (photos in a throwaway folder)."""
        return Settings(database_url=self.url, photo_dir=self.photo_dir)

    @property
    def libpq(self) -> str:
        """A libpq conninfo (psycopg, pgbench) for this database."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def libpq_env(url: str) -> dict[str, str]:
    """This process's environment plus the database URL's password or passfile, for libpq tools."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    if "passfile" in u.query:
        env["PGPASSFILE"] = str(u.query["passfile"])
    return env


def libpq_parts(url: str) -> tuple[list[str], dict[str, str]]:
    """``-h -p -U -d`` arguments and the environment (passfile) for PostgreSQL's command-line tools."""
    u = make_url(url)
    args = ["-h", str(u.host), "-p", str(u.port or 5432), "-U", str(u.username), "-d", str(u.database)]
    return args, libpq_env(url)


def _places(cur: psycopg.Cursor[Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids = pd.DataFrame(
        cur.execute("SELECT code, ST_AsBinary(geom) FROM region WHERE level = 'grid' ORDER BY code").fetchall(),
        columns=["code", "wkb"],
    )
    villages = pd.DataFrame(
        cur.execute(
            "SELECT code, name, ST_X(seat), ST_Y(seat) FROM region WHERE level = 'village' AND seat IS NOT NULL "
            "ORDER BY code"
        ).fetchall(),
        columns=["code", "name", "x", "y"],
    )
    return grids, villages


def draw_points(grids: pd.DataFrame, villages: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` points clustered around village seats, each with the grid (网格) it falls in."""
    rng = np.random.default_rng(seed)
    tree = shapely.STRtree(shapely.from_wkb(grids["wkb"].map(bytes).to_numpy()))
    weights = rng.lognormal(0.0, 1.0, len(villages))
    weights /= weights.sum()
    sx, sy = villages["x"].to_numpy(), villages["y"].to_numpy()
    parts: list[pd.DataFrame] = []
    have = 0
    while have < n:
        m = int((n - have) * 1.2) + 100
        v = rng.choice(len(villages), size=m, p=weights)
        lat = sy[v]
        dx = rng.normal(0, SPREAD_M, m) / (111_320 * np.cos(np.radians(lat)))
        x, y = sx[v] + dx, lat + rng.normal(0, SPREAD_M, m) / 110_540
        hit_point, hit_grid = tree.query(shapely.points(x, y), predicate="within")
        first = np.unique(hit_point, return_index=True)[1]
        idx, grid = hit_point[first], hit_grid[first]
        parts.append(pd.DataFrame({"x": x[idx], "y": y[idx], "grid": grids["code"].to_numpy()[grid]}))
        have += len(idx)
    points = pd.concat(parts, ignore_index=True).iloc[:n]
    names = dict(zip(villages["code"], villages["name"], strict=True))
    points["village_name"] = points["grid"].str[:12].map(names).fillna("")
    return points


def case_frame(points: pd.DataFrame, counters: dict[tuple[str, int], int], now: datetime, seed: int,
               first_id: int = 1) -> pd.DataFrame:  # fmt: skip
    """The ``cases`` columns for the drawn points (codes numbered after ``counters``)."""
    rng = np.random.default_rng(seed + 1)
    n = len(points)
    reported = pd.Timestamp(now) - pd.to_timedelta(rng.uniform(1, 720 * 86400, n), unit="s")
    local_year = reported.tz_convert(SHANGHAI).year.to_numpy()
    status = np.array(STATUSES)[rng.choice(len(STATUSES), size=n, p=STATUS_P)]
    closed = pd.Series(reported + pd.to_timedelta(rng.uniform(3600, 40 * 86400, n), unit="s"))
    closed = closed.where(closed < pd.Timestamp(now), pd.Timestamp(now) - pd.Timedelta(minutes=1))
    county = points["grid"].str[:6]
    frame = pd.DataFrame({"county": county, "year": local_year})
    seq = frame.groupby(["county", "year"]).cumcount().to_numpy() + 1
    offset = np.array([counters.get((c, int(y)), 0) for c, y in zip(county, local_year, strict=True)])
    edges = np.array(EDGES)[rng.integers(0, len(EDGES), n)]
    volume = rng.integers(1, 12, n).astype(str)
    ewkb = shapely.to_wkb(shapely.set_srid(shapely.points(points["x"], points["y"]), 4326), hex=True,
                          include_srid=True)  # fmt: skip
    stamp = reported.strftime("%Y-%m-%d %H:%M:%S%z")
    return pd.DataFrame({
        "id": np.arange(first_id, first_id + n),
        "code": county + "-" + local_year.astype(str) + "-" + pd.Series(seq + offset).astype(str).str.zfill(6),
        "category": CATEGORY, "subtype": "生活垃圾",
        "attributes": '{"edge": "' + pd.Series(edges) + '"}',
        "geom": ewkb, "county_code": county, "township_code": points["grid"].str[:9],
        "village_code": points["grid"].str[:12], "grid_code": points["grid"], "status": status,
        "title": points["village_name"] + "生活垃圾",
        "description": pd.Series(edges) + "生活垃圾约" + volume + "立方米，影响村容，需清运。",
        "deadline": (reported + pd.Timedelta(days=30)).strftime("%Y-%m-%d"), "reported_at": stamp,
        "closed_at": closed.dt.strftime("%Y-%m-%d %H:%M:%S%z").where(status == "closed", None),
        "synthetic": "t", "source": "sample", "version": np.where(status == "reported", 1, 3),
        "created_at": stamp, "updated_at": stamp, "year": local_year, "seq": seq + offset,
    })  # fmt: skip


def _copy_frame(cur: psycopg.Cursor[Any], table: str, columns: tuple[str, ...], frame: pd.DataFrame) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(stmt) as copy:
        for start in range(0, len(frame), CHUNK):
            buffer = io.StringIO()
            frame.iloc[start : start + CHUNK][list(columns)].to_csv(buffer, header=False, index=False)
            copy.write(buffer.getvalue())


def _event_frame(cases: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": cases["id"], "county_code": cases["county_code"], "action": "report",
        "to_status": "reported", "actor": "bench", "at": cases["reported_at"], "note": "基准数据 bench data",
    })  # fmt: skip


@dataclass(frozen=True)
class Deferred:
    """Indexes and foreign keys dropped for the COPY (延后重建), as PostgreSQL printed them."""

    indexes: list[str]
    foreign_keys: list[tuple[str, str, str]]


def drop_for_copy(cur: psycopg.Cursor[Any], tables: tuple[str, ...]) -> Deferred:
    """Drop the secondary indexes and outgoing foreign keys of ``tables``; returns their definitions."""
    idx = cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY (%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique",
        [list(tables)],
    ).fetchall()
    fks = cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY (%s::regclass[]) AND contype = 'f'",
        [list(tables)],
    ).fetchall()
    for name, _definition in idx:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    for table, name, _definition in fks:
        cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name)))
    return Deferred([d for _n, d in idx], [(t, n, d) for t, n, d in fks])


def rebuild(cur: psycopg.Cursor[Any], deferred: Deferred) -> None:
    """Create the dropped indexes and foreign keys again (definitions come from the catalogue)."""
    for definition in deferred.indexes:
        cur.execute(sql.SQL(definition))
    for table, name, definition in deferred.foreign_keys:
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )


def load_cases(conn: psycopg.Connection[Any], n: int, seed: int = 7, now: datetime | None = None) -> dict[str, float]:
    """Draw and COPY ``n`` cases with their report events, a million at a time; returns the timings."""
    now = now or datetime.now(SHANGHAI)
    timings = {"generate_s": 0.0, "copy_s": 0.0}
    cur = conn.cursor()
    grids, villages = _places(cur)
    counters = {(str(c), int(y)): int(s) for c, y, s in cur.execute("SELECT * FROM case_code_counter")}
    first_id = int(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()[0])  # type: ignore[index]
    with conn.transaction():
        deferred = drop_for_copy(cur, ("cases", "case_event"))
        for part, start in enumerate(range(0, n, BATCH)):
            mark = time.perf_counter()
            points = draw_points(grids, villages, min(BATCH, n - start), seed + 10 * part)
            frame = case_frame(points, counters, now, seed + 10 * part, first_id + start)
            timings["generate_s"] += time.perf_counter() - mark
            mark = time.perf_counter()
            _copy_frame(cur, "cases", CASE_COPY, frame)
            _copy_frame(cur, "case_event", EVENT_COPY, _event_frame(frame))
            timings["copy_s"] += time.perf_counter() - mark
            for (county, year), last in frame.groupby(["county_code", "year"])["seq"].max().items():
                counters[(county, int(year))] = int(last)
        mark = time.perf_counter()
        rebuild(cur, deferred)
        timings["indexes_s"] = time.perf_counter() - mark
        cur.execute(
            "INSERT INTO case_code_counter AS c (county_code, year, last_seq) "
            "SELECT split_part(code, '-', 1), split_part(code, '-', 2)::integer, "
            "max(split_part(code, '-', 3)::integer) FROM cases GROUP BY 1, 2 "
            "ON CONFLICT (county_code, year) DO UPDATE SET last_seq = greatest(c.last_seq, EXCLUDED.last_seq)"
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
    return timings


def tune(conn: psycopg.Connection[Any], dbname: str) -> dict[str, float]:
    """CLUSTER on the GiST index, VACUUM ANALYZE, and the recommended per-database settings."""
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    conn.execute("CLUSTER cases USING cases_geom_idx")
    timings["cluster_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    conn.execute("VACUUM ANALYZE cases")
    conn.execute("VACUUM ANALYZE case_event")
    timings["analyze_s"] = time.perf_counter() - mark
    for name, value in (("jit", "off"), ("max_parallel_workers_per_gather", "0")):
        conn.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
            sql.Identifier(dbname), sql.Identifier(name), sql.Literal(value)))  # fmt: skip
    return timings


def _prepare(url: str, dbname: str, n: int, seed: int) -> dict[str, float]:
    started = time.perf_counter()
    engine: Engine = make_engine(Settings(database_url=url), pool_size=1)
    try:
        migrate.upgrade(engine)
        load_sample(engine, cases=0, now=datetime.now(SHANGHAI) - timedelta(days=1))
    finally:
        engine.dispose()
    timings = {"sample_s": time.perf_counter() - started}
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        timings |= load_cases(conn, n, seed)
        timings |= tune(conn, dbname)
    timings["total_s"] = time.perf_counter() - started
    return timings


@contextmanager
def bench_database(n: int, label: str = "", seed: int = 7) -> Iterator[BenchDb]:
    """A scratch database with ``n`` bench cases that lives as long as the block (dropped after)."""
    admin = server_url()
    name = f"villagemap_bench_{label or n}_{os.getpid()}"
    create_database(admin, name)
    try:
        url = url_of(admin, name)
        timings = _prepare(url, name, n, seed)
        with tempfile.TemporaryDirectory(prefix="vm-bench-photos-") as photos:
            yield BenchDb(name, url, n, Path(photos), {k: round(v, 2) for k, v in timings.items()})
    finally:
        drop_database(admin, name)
