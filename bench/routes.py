"""Patrol-route solver benchmark (巡查路线求解基准): VillageMap's solver against brute force,
OR-Tools without a metaheuristic and with guided local search alone, CP-SAT (``add_circuit``, which
proves the optimum where it can within ``--cpsat`` seconds), long reference runs and pgRouting's
``pgr_TSPeuclidean``.

Instances as in notes/performance.md §3: n stops uniform in a 5 km × 5 km square plus the start,
Euclidean metres, integer decimetre costs, a closed tour from the start. For each instance the gap
is measured against the best tour any method found; it is the proven optimum for n ≤ 12 (Held–Karp,
checked against brute force where that is feasible) and wherever CP-SAT reports OPTIMAL (the
"proven optimal" column of the summary marks a method whose every tour of that size was proven).

Usage::

    .venv/bin/python -m bench.routes                       # 8, 12, 20, 50, 100, 200 stops × 3 seeds
    .venv/bin/python -m bench.routes --sizes 50,100 --seeds 5 --reference 20 --cpsat 60
    .venv/bin/python -m bench.routes --smoke               # tiny, seconds (tests call this)

pgRouting is compared when a database is reachable (``--database-url``, else the local
cluster's URL); ``--no-pgrouting`` skips it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gis.routing import Matrix, _or_tools, solve_tour, tour_cost
from gis.tour_polish import polish

PGR_SQL = "SELECT node FROM pgr_TSPeuclidean('SELECT id, x, y FROM bench_points', start_id => 0) ORDER BY seq"


@dataclass
class Row:
    """One method on one instance."""

    n: int
    seed: int
    method: str
    seconds: float
    cost_m: float
    gap_pct: float = 0.0
    optimal: bool = False


def instance(n: int, seed: int) -> tuple[np.ndarray[Any, Any], Matrix]:
    """n stops + the start (node 0), uniform in 5 km × 5 km; decimetre costs."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 5000, size=(n + 1, 2))
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return xy, np.rint(dist * 10).astype(np.int64)


def brute_force(matrix: Matrix) -> tuple[list[int], int]:
    """Every order of the stops (feasible up to ~9 stops)."""
    stops = list(range(1, matrix.shape[0]))
    best = min(itertools.permutations(stops), key=lambda p: tour_cost(matrix, 0, p, 0))
    return list(best), tour_cost(matrix, 0, best, 0)


def _timed(run: Callable[[], list[int]], matrix: Matrix) -> tuple[float, int]:
    began = time.perf_counter()
    order = run()
    return time.perf_counter() - began, tour_cost(matrix, 0, order, 0)


def _rotate(cycle: list[int]) -> list[int]:
    i = cycle.index(0)
    return cycle[i + 1 :] + cycle[:i]


def pgrouting(dsn: str, xy: np.ndarray[Any, Any], matrix: Matrix) -> tuple[float, int]:
    """pgr_TSPeuclidean on the same points (its tour, costed on our matrix)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TEMP TABLE bench_points (id integer, x float8, y float8)")
        with conn.cursor().copy("COPY bench_points (id, x, y) FROM STDIN") as copy:
            for i, (x, y) in enumerate(xy.tolist()):
                copy.write_row((i, x, y))
        began = time.perf_counter()
        nodes = [int(r[0]) for r in conn.execute(PGR_SQL)]
        seconds = time.perf_counter() - began
    order = [v for v in nodes if v != 0]
    return seconds, tour_cost(matrix, 0, order, 0)


def cp_sat(matrix: Matrix, seconds: float) -> tuple[float, int | None, bool]:
    """CP-SAT on the closed tour (one ``add_circuit``): time, cost found (None if none), proven optimal."""
    from ortools.sat.python import cp_model

    size = matrix.shape[0]
    model = cp_model.CpModel()
    arcs = [(i, j, model.new_bool_var(f"x{i}_{j}")) for i in range(size) for j in range(size) if i != j]
    model.add_circuit(arcs)
    model.minimize(sum(int(matrix[i, j]) * lit for i, j, lit in arcs))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = os.cpu_count() or 1
    began = time.perf_counter()
    status = solver.solve(model)
    took = time.perf_counter() - began
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return took, None, False
    return took, round(solver.objective_value), status == cp_model.OPTIMAL


def _solvers(n: int, seed: int, m: Matrix, limit: float, cpsat: float) -> list[Row]:
    """VillageMap's solver, OR-Tools without and with a metaheuristic, CP-SAT."""
    tour = solve_tour(m, time_limit_s=limit)
    rows = [Row(n, seed, f"villagemap ({tour.method})", tour.seconds, tour.cost / 10, optimal=tour.optimal)]
    if n > 2:
        secs, cost = _timed(lambda: _or_tools(m, 0, 0, max(limit, 10.0), guided=False), m)
        rows.append(Row(n, seed, "or-tools no metaheuristic", secs, cost / 10))
        secs, cost = _timed(lambda: _or_tools(m, 0, 0, limit), m)
        rows.append(Row(n, seed, f"or-tools gls {limit:g}s only", secs, cost / 10))
    if cpsat > 0:
        secs, found, proven = cp_sat(m, cpsat)
        if found is not None:
            rows.append(Row(n, seed, f"cp-sat ≤{cpsat:g}s", secs, found / 10, optimal=proven))
    return rows


def bench_instance(n: int, seed: int, limit: float, reference: float, dsn: str | None, cpsat: float = 0.0) -> list[Row]:
    """Every method on one instance, gaps against the best found."""
    xy, m = instance(n, seed)
    rows = _solvers(n, seed, m, limit, cpsat)
    if n <= 9:
        secs, cost = _timed(lambda: brute_force(m)[0], m)
        rows.append(Row(n, seed, "brute force", secs, cost / 10, optimal=True))
    elif n > 12 and reference > 0:
        for s in (101, 102):

            def reference_run(s: int = s) -> list[int]:
                return _rotate(polish(m, list(range(n + 1)), locked=None, seconds=reference, seed=s))

            secs, cost = _timed(reference_run, m)
            rows.append(Row(n, seed, f"reference ils {reference:g}s", secs, cost / 10))
    if dsn is not None:
        secs, cost = pgrouting(dsn, xy, m)
        rows.append(Row(n, seed, "pgr_TSPeuclidean", secs, cost / 10))
    best = min(r.cost_m for r in rows)
    for r in rows:
        r.gap_pct = round(100 * (r.cost_m - best) / best, 3) if best else 0.0
    return rows


def summary(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Median (min–max) of time and gap per size and method."""
    out = []
    keys = sorted({(r.n, r.method) for r in rows}, key=lambda k: (k[0], k[1]))
    for n, method in keys:
        mine = [r for r in rows if r.n == n and r.method == method]
        secs, gaps = [r.seconds for r in mine], [r.gap_pct for r in mine]
        out.append({"n": n, "method": method, "runs": len(mine),
                    "seconds": f"{statistics.median(secs):.3f} ({min(secs):.3f}–{max(secs):.3f})",
                    "gap_pct": f"{statistics.median(gaps):.2f} ({min(gaps):.2f}–{max(gaps):.2f})",
                    "optimal": all(r.optimal for r in mine)})  # fmt: skip
    return out


def _dsn(args: argparse.Namespace) -> str | None:
    if args.no_pgrouting:
        return None
    from sqlalchemy import make_url

    from gis.settings import Settings

    url = args.database_url or Settings().database_url
    return str(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark; prints JSON rows and a summary table; returns the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="8,12,20,50,100,200")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--limit", type=float, default=1.0, help="time limit per solve, s")
    parser.add_argument("--reference", type=float, default=10.0, help="each of 2 reference runs, s")
    parser.add_argument("--cpsat", type=float, default=30.0, help="CP-SAT time cap per instance, s (0: none)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-pgrouting", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="6 and 14 stops, 1 seed, short limits")
    args = parser.parse_args(argv)
    sizes = [6, 14] if args.smoke else [int(v) for v in args.sizes.split(",")]
    seeds = 1 if args.smoke else args.seeds
    limit, reference, cpsat = (0.2, 0.2, 2.0) if args.smoke else (args.limit, args.reference, args.cpsat)
    dsn = _dsn(args)
    rows: list[Row] = []
    for n in sizes:
        for seed in range(1, seeds + 1):
            for row in bench_instance(n, seed, limit, reference, dsn, cpsat):
                rows.append(row)
                print(json.dumps(asdict(row), ensure_ascii=False), flush=True)
    table = summary(rows)
    print("| n | method | time s median (min–max) | gap % median (min–max) | proven optimal |")
    print("|---|---|---|---|---|")
    for t in table:
        print(f"| {t['n']} | {t['method']} | {t['seconds']} | {t['gap_pct']} | {'yes' if t['optimal'] else ''} |")
    return table


if __name__ == "__main__":
    main()
