"""Bulk import benchmark (批量导入基准): N points as cases vs ogr2ogr and the psql COPY floor.

Three ways to get the same N points (a GeoPackage and the same rows as CSV) into PostGIS, each
ending with its indexes built (notes/performance.md §1):

- ``floor``: ``psql \\copy`` of the CSV into a plain table, then PRIMARY KEY, GiST and ANALYZE;
- ``ogr2ogr``: ``ogr2ogr -f PostgreSQL`` of the GeoPackage into a plain table (PK and GiST built);
- ``ogr2ogr_geojsonseq``: the same from the same rows as GeoJSONSeq (one feature a line);
- ``villagemap``: ``gis.gisio.import_file`` of the GeoPackage as cases: file checks, every row
  validated, COPY, grids found in PostGIS, case codes numbered, ``report`` events written, all the
  table's indexes and foreign keys maintained (for 1M points into a small table: bulk mode, see
  gis/gisio/bulkmode.py). It runs in one transaction that is rolled back at the end (so each run
  imports into the same database), which spares it one commit flush.

Usage::

    .venv/bin/python bench/import_bench.py 1000000 --runs 3     # prints JSON lines, then a summary
    .venv/bin/python bench/import_bench.py --smoke              # 2,000 points, one run (tests call this)

Needs the local cluster (or ``VILLAGEMAP_TEST_DATABASE_URL``), ``psql`` and ``ogr2ogr`` (Debian
``postgresql-client`` and ``gdal-bin``). A scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from sqlalchemy import Engine, make_url, text

import geopandas as gpd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import libpq_env
from data.load import load_sample
from gis import migrate
from gis.access import Principal
from gis.db import make_engine
from gis.gisio.importer import import_file
from gis.gisio.normalize import ImportOptions
from tests.databases import scratch_database

CATEGORIES = np.array(["垃圾点", "残垣断壁", "农业生产废弃物", "户厕问题"])
FLOOR_TABLE = """
CREATE TABLE bench_floor (id bigint, ext text, category text, description text, reported_at timestamptz,
                          geom geometry(Point, 4326))
"""


def sites(engine: Engine, n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` points spread uniformly over the two counties, with the columns of an office export."""
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM region WHERE level = 'county'")).scalar_one()
    area = shapely.from_wkb(bytes(wkb))
    shapely.prepare(area)
    rng = np.random.default_rng(seed)
    west, south, east, north = area.bounds
    xs: list[np.ndarray[Any, Any]] = []
    while sum(len(x) for x in xs) < n:
        x, y = rng.uniform(west, east, n), rng.uniform(south, north, n)
        inside = shapely.contains_xy(area, x, y)
        xs.append(np.column_stack((x[inside], y[inside])))
    xy = np.concatenate(xs)[:n]
    stamps = pd.Timestamp("2022-03-01T00:00:00Z") + pd.to_timedelta(rng.integers(0, 86400 * 300, n), unit="s")
    return gpd.GeoDataFrame(
        {
            "编号": [f"B{i:08d}" for i in range(n)],
            "问题类型": CATEGORIES[rng.integers(0, 4, n)],
            "问题描述": "路边垃圾堆，需清运",
            "发现时间": stamps,
        },
        geometry=shapely.points(xy),
        crs="EPSG:4326",
    )


def write_inputs(frame: gpd.GeoDataFrame, folder: Path) -> tuple[Path, Path, Path]:
    """The GeoPackage every variant loads, the same rows as CSV for the COPY floor and as GeoJSONSeq."""
    gpkg, csv, seq = folder / "sites.gpkg", folder / "sites.csv", folder / "sites.geojsonl"
    frame.to_file(gpkg, driver="GPKG", layer="sites")
    frame.to_file(seq, driver="GeoJSONSeq")
    xy = shapely.get_coordinates(frame.geometry.values)
    table = pd.DataFrame(
        {
            "id": np.arange(len(frame)),
            "ext": frame["编号"],
            "category": frame["问题类型"],
            "description": frame["问题描述"],
            "reported_at": frame["发现时间"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "geom": [f"SRID=4326;POINT({x:.7f} {y:.7f})" for x, y in xy],
        }
    )
    table.to_csv(csv, index=False)
    return gpkg, csv, seq


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo string for psql/ogr2ogr and the environment carrying the password or passfile."""
    u = make_url(url)
    return f"host={u.host} port={u.port or 5432} dbname={u.database} user={u.username}", libpq_env(url)


def run_floor(url: str, csv: Path) -> float:
    """psql \\copy + PK + GiST + ANALYZE; returns seconds."""
    conninfo, env = libpq(url)
    script = (
        f"{FLOOR_TABLE};\n\\copy bench_floor FROM '{csv}' WITH (FORMAT csv, HEADER)\n"
        "ALTER TABLE bench_floor ADD PRIMARY KEY (id);\nCREATE INDEX ON bench_floor USING gist (geom);\n"
        "ANALYZE bench_floor;\n"
    )
    started = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo], input=script.encode(), env=env, check=True)
    seconds = time.perf_counter() - started
    subprocess.run(["psql", "-X", "-q", conninfo, "-c", "DROP TABLE bench_floor"], env=env, check=True)
    return seconds


def run_ogr2ogr(url: str, gpkg: Path) -> float:
    """ogr2ogr GeoPackage (or GeoJSONSeq) → PostgreSQL table (PK and GiST); returns seconds."""
    conninfo, env = libpq(url)
    started = time.perf_counter()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            f"PG:{conninfo}",
            str(gpkg),
            "-nln",
            "bench_ogr",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-overwrite",
            "--config",
            "CPL_LOG",
            "/dev/null",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    subprocess.run(["psql", "-X", "-q", conninfo, "-c", "DROP TABLE bench_ogr"], env=env, check=True)
    return seconds


def run_villagemap(engine: Engine, gpkg: Path) -> tuple[float, dict[str, float], int]:
    """The office import of the GeoPackage as cases, rolled back; seconds, split and cases created."""
    with engine.connect() as conn:
        admin_id = conn.execute(text("SELECT id FROM app_user WHERE username = 'demo-admin'")).scalar_one()
    admin = Principal(admin_id, "demo-admin", "admin", None, ("640221", "640302"))
    split: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if done >= total:
            split[stage] = round(time.perf_counter() - started, 2)

    with engine.connect() as conn:
        conn.exec_driver_sql("SET statement_timeout = 0")
        report = import_file(conn, gpkg, gpkg.name, ImportOptions(), admin, progress=progress)
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds, split, report.created


VARIANTS: dict[str, Callable[..., Any]] = {
    "floor": run_floor,
    "ogr2ogr": run_ogr2ogr,
    "ogr2ogr_geojsonseq": run_ogr2ogr,
    "villagemap": run_villagemap,
}


@contextmanager
def bench_database() -> Iterator[tuple[str, Engine]]:
    """A scratch database with the sample's regions (no cases of the last year)."""
    with scratch_database(f"bench_{os.getpid()}") as settings:
        engine = make_engine(settings, pool_size=1)
        migrate.upgrade(engine)
        load_sample(engine, cases=0)
        try:
            yield settings.database_url, engine
        finally:
            engine.dispose()


def bench(n: int, runs: int, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every variant ``runs`` times on ``n`` points; prints JSON lines and returns the summary."""
    results: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with bench_database() as (url, engine), tempfile.TemporaryDirectory(prefix="vm-bench-") as folder:
        gpkg, csv, seq = write_inputs(sites(engine, n), Path(folder))
        inputs = {"floor": csv, "ogr2ogr": gpkg, "ogr2ogr_geojsonseq": seq}
        for run in range(1, runs + 1):
            for name in VARIANTS:
                if name == "villagemap":
                    seconds, split, created = run_villagemap(engine, gpkg)
                    assert created == n, f"imported {created} of {n}"
                    out(json.dumps({"variant": name, "n": n, "run": run, "seconds": round(seconds, 2), "split": split}))
                else:
                    seconds = VARIANTS[name](url, inputs[name])
                    out(json.dumps({"variant": name, "n": n, "run": run, "seconds": round(seconds, 2)}))
                results[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in results.items()}
    summary = {
        "n": n,
        "runs": runs,
        "median_s": {k: round(v, 2) for k, v in medians.items()},
        "range_s": {k: [round(min(v), 2), round(max(v), 2)] for k, v in results.items()},
        "villagemap_vs_ogr2ogr": round(medians["villagemap"] / medians["ogr2ogr"], 2),
        "villagemap_vs_ogr2ogr_geojsonseq": round(medians["villagemap"] / medians["ogr2ogr_geojsonseq"], 2),
        "villagemap_vs_floor": round(medians["villagemap"] / medians["floor"], 2),
        "ogr2ogr_vs_floor": round(medians["ogr2ogr"] / medians["floor"], 2),
    }
    out(json.dumps({"summary": summary}))
    return summary


def main() -> None:
    """Command line: N, --runs, --smoke."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="points (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2,000 points, one run")
    args = parser.parse_args()
    if args.smoke:
        bench(2000, 1)
    else:
        bench(args.n, args.runs)


if __name__ == "__main__":
    main()
