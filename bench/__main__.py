"""The benchmark suite (基准测试套件): ``python -m bench`` (``make bench``) runs every comparison and
writes one markdown report, ``bench/results/REPORT-<date>.md``.

Sections: features and tiles (VillageMap vs tipg vs the pgbench floor), close-out writes vs their
floor, the scale check (bbox page on a larger table), then the import, routes and maps benchmarks
(run as they are, their output kept). ``--smoke`` runs all of it at a tiny size (CI runs that).

Usage::

    .venv/bin/python -m bench                          # 1M cases, scale at 10M, 3 runs each
    .venv/bin/python -m bench --scale 3000000 --skip import,routes
    .venv/bin/python -m bench --smoke
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.data import BenchDb, bench_database
from bench.features import Measured, cases_in_tile, densest_place, measure_floor, measure_http, requests_for
from bench.scale import measure_scale
from bench.servers import WORKERS_ENV, ensure_tipg, tipg, villagemap, workers
from bench.writes import measure_writes
from gis.settings import PROJECT_ROOT

SECTIONS = ("features", "writes", "scale", "import", "routes", "maps")
MACHINE = f"{os.cpu_count()} CPU cores shared by PostgreSQL, both servers, wrk/pgbench and other work on the machine"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (smoke mode shrinks every size and duration)."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--scale", type=int, default=10_000_000, help="cases for the scale check (0: none)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=int, default=15, help="each 16-connection run")
    p.add_argument("--single-seconds", type=int, default=5, help="each 1-connection run")
    p.add_argument("--write-batch", type=int, default=6000, help="cases resolved before each close-out run")
    p.add_argument("--skip", default="", help=f"comma-separated sections to leave out: {','.join(SECTIONS)}")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, 1 run of 1 s each (CI)")
    p.add_argument("--workers", type=int, default=None, help="uvicorn workers per server (default 1)")
    args = p.parse_args(argv)
    if args.workers is not None:
        os.environ[WORKERS_ENV] = str(args.workers)
    if args.smoke:
        args.cases, args.scale, args.runs, args.seconds, args.single_seconds = 4000, 8000, 1, 1, 1
        args.write_batch = 400
    return args


def _subprocess(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *cmd], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


class SectionFailed(RuntimeError):
    """One or more benchmarks failed; the report was still written with what was measured."""


def _collect(name: str, process: subprocess.Popen[str], failed: list[str]) -> list[str]:
    """The report's lines for one sub-benchmark; a failure is reported there (and noted in ``failed``)."""
    output, _ = process.communicate()
    if process.returncode != 0:
        failed.append(name)
        return [f"### {name}: FAILED (exit {process.returncode})", "", "```", *output[-3000:].splitlines(), "```", ""]
    rows = [line for line in output.splitlines() if line.startswith("{")]
    table = [line for line in output.splitlines() if line.startswith("|")]
    return [f"### {name}", "", *table, "", "```json", *rows, "```", ""]


def other_benches(smoke: bool, skip: set[str], cases: int, runs: int) -> dict[str, list[str]]:
    """The import, routes and maps benchmarks' command lines (each prints its own rows)."""
    commands = {
        "import": ["bench/import_bench.py", *(["--smoke"] if smoke else [str(cases), "--runs", str(runs)])],
        "routes": ["-m", "bench.routes", *(["--smoke", "--no-pgrouting"] if smoke else [])],
        "maps": ["-m", "bench.maps", *(["--smoke"] if smoke else [])],
    }
    return {name: cmd for name, cmd in commands.items() if name not in skip}


@contextmanager
def _servers(db: BenchDb) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        vm = stack.enter_context(villagemap(db.url, db.photo_dir))
        yield {"villagemap": vm, "villagemap /cases": vm, "tipg": stack.enter_context(tipg(db.url, ensure_tipg()))}


def run(args: argparse.Namespace, failed: list[str]) -> list[str]:
    """Every section not skipped; returns the report's lines (failed sub-benchmarks named in ``failed``)."""
    skip = set(filter(None, args.skip.split(",")))
    started = time.monotonic()
    command = " ".join(["python -m bench", *sys.argv[1:]])
    lines = [f"# Benchmark report {datetime.now():%Y-%m-%d %H:%M}", "", f"`{command}`", ""]
    # smoke: started at once, beside the rest (only that they still run matters); otherwise one at a
    # time after the rest, so each has the machine to itself (the routes solver works to a time limit)
    smoke = other_benches(True, skip, args.cases, args.runs) if args.smoke else {}
    started_early = {name: _subprocess(cmd) for name, cmd in smoke.items()}
    conns = {16: args.seconds} if args.smoke else {1: args.single_seconds, 16: args.seconds}
    with ExitStack() as stack:
        db = stack.enter_context(bench_database(args.cases))
        place = densest_place(db)
        lines += report.header(place, db.seconds, f"{MACHINE}; {workers()} uvicorn worker(s) per server")
        if "features" not in skip:
            lines += _features(db, place, args, conns)
        if "writes" not in skip:
            result = measure_writes(db, args.runs, args.seconds, args.write_batch)
            lines += ["## Writes: close-out vs the SQL floor", "", *report.writes_table(result), ""]
        if "scale" not in skip and args.scale:
            big = db if args.smoke else stack.enter_context(bench_database(args.scale))
            lines += [f"## Scale: bbox page at {big.cases:,} vs {db.cases:,} cases", "",
                      f"Data preparation of the large table (s): `{big.seconds}`", ""]  # fmt: skip
            measured = measure_scale(list({id(d): d for d in (db, big)}.values()), place, args.runs, conns)
            lines += report.scale_table(db.cases, big.cases, measured)
            lines.append("")
    for name, process in started_early.items():
        lines += _collect(name, process, failed)
    for name, cmd in ({} if args.smoke else other_benches(False, skip, args.cases, args.runs)).items():
        lines += _collect(name, _subprocess(cmd), failed)
    lines.append(f"Total wall time: {time.monotonic() - started:.0f} s.")
    return lines


def _features(db: BenchDb, place: Any, args: argparse.Namespace, conns: dict[int, int]) -> list[str]:
    requests = requests_for(place)
    measured = Measured()
    with _servers(db) as bases:
        for c, secs in conns.items():
            measure_http(bases, requests, [c], args.runs, secs, measured)
    for c, secs in conns.items():
        measure_floor(db, requests, [c], args.runs, secs, measured)
    truth = cases_in_tile(db, place.tile)
    lines = ["## Features and tiles: VillageMap vs tipg vs the SQL floor", ""]
    lines += report.feature_tables(measured, requests, list(conns))
    lines += ["### Targets", "", "| target | measured (medians) | met |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in report.targets(measured, truth)]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> Path:
    """Run the suite and write the report; returns its path (raises SectionFailed after writing it if a
    sub-benchmark failed, so what was measured is kept either way)."""
    args = parse(argv)
    failed: list[str] = []
    lines = run(args, failed)
    out = (
        args.out
        or PROJECT_ROOT
        / "bench"
        / "results"
        / f"REPORT-{datetime.now():%Y-%m-%d-%H%M}{'-smoke' if args.smoke else ''}.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"report: {out}", flush=True)
    if failed:
        raise SectionFailed(f"failed: {', '.join(failed)} (see {out})")
    return out


if __name__ == "__main__":
    main()
