"""Scale check (规模检验): the same 2 km bbox page of 100 on a small and a large bench database.

Both databases exist at once; a VillageMap server runs on each, and the runs alternate between
them so drift on the shared machine hits both alike. The floor is pgbench of the captured SQL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.capture import pgbench_script, request_sql
from bench.data import BenchDb, libpq_parts
from bench.features import FLOOR, VM, Place, requests_for
from bench.load import Sample, Summary, pgbench, wrk
from bench.servers import villagemap


def measure_scale(dbs: list[BenchDb], place: Place, runs: int, seconds: dict[int, int],
                  log: Callable[[str], None] = print) -> dict[tuple[str, int], Summary]:  # fmt: skip
    """``{(side@cases, connections): summary}`` for the bbox page on every database."""
    path = requests_for(place)[0].paths[VM]
    out: dict[tuple[str, int], Summary] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="vm-bench-scale-") as folder:
        bases = {db.cases: stack.enter_context(villagemap(db.url, db.photo_dir)) for db in dbs}
        scripts = {}
        for db in dbs:
            _status, statements = request_sql(db.settings, "GET", path)
            scripts[db.cases] = pgbench_script(statements, Path(folder) / f"bbox-{db.cases}.sql")
        for c, secs in seconds.items():
            http: dict[int, list[Sample]] = {db.cases: [] for db in dbs}
            floor: dict[int, list[Sample]] = {db.cases: [] for db in dbs}
            for _run in range(runs):
                for db in dbs:
                    http[db.cases].append(wrk(bases[db.cases] + path, c, secs))
                    args, env = libpq_parts(db.url)
                    floor[db.cases].append(pgbench(args, env, scripts[db.cases], c, secs))
            for db in dbs:
                out[(f"{VM}@{db.cases}", c)] = Summary.of(http[db.cases])
                out[(f"{FLOOR}@{db.cases}", c)] = Summary.of(floor[db.cases])
                log(f"scale {db.cases:>10,} c={c:2} http p50 {out[(f'{VM}@{db.cases}', c)].p50[0]:7.2f} ms "
                    f"floor avg {out[(f'{FLOOR}@{db.cases}', c)].p50[0]:7.2f} ms")  # fmt: skip
    return out
