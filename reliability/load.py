"""Load test (负载测试): 16 clients, mixed reads and writes, for 60 s; every answer must be 2xx.

Run it (about 90 s with set-up; a private cluster on port 55634, never the shared one)::

    .venv/bin/python -m reliability.load --clients 16 --seconds 60

Each client loops: four reads (a page of cases in a bbox, OGC items in a bbox, a z12 vector tile, a
grid) and then one case through its whole lifecycle with three photo uploads (eight writes). The
report gives the request count, errors, throughput and p50/p99 latency per kind and overall.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from reliability.served import served_sample
from reliability.workload import FieldClient, Ledger, sign_in_all


@dataclass
class LoadReport:
    """Requests, errors and latencies (ms) of one load run."""

    clients: int
    seconds: float
    requests: int
    errors: int
    first_errors: list[str]
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    by_kind: dict[str, dict[str, float]]


def _quantiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] * 1000, values[0] * 1000) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49] * 1000, 1), round(cuts[98] * 1000, 1)


def summarise(ledger: Ledger, clients: int, seconds: float) -> LoadReport:
    """Turn what the clients saw into the report."""
    kinds: dict[str, list[float]] = {}
    for kind, took in ledger.latencies:
        kinds.setdefault(kind, []).append(took)
    by_kind = {
        k: {"n": len(v), "p50_ms": _quantiles(v)[0], "p99_ms": _quantiles(v)[1]} for k, v in sorted(kinds.items())
    }
    p50, p99 = _quantiles([took for _, took in ledger.latencies])
    return LoadReport(
        clients=clients, seconds=seconds, requests=len(ledger.latencies), errors=len(ledger.errors),
        first_errors=ledger.errors[:10], requests_per_s=round(len(ledger.latencies) / seconds, 1),
        p50_ms=p50, p99_ms=p99, by_kind=by_kind,
    )  # fmt: skip


def load(base: str, clients: int, seconds: float, spot: tuple[float, float]) -> LoadReport:
    """Drive ``clients`` mixed clients against ``base`` for ``seconds``."""
    ledger, tokens = Ledger(), sign_in_all(base)
    deadline = time.monotonic() + seconds

    def work(seed: int) -> None:
        client = FieldClient(base, ledger, spot, seed, tokens)
        while time.monotonic() < deadline:
            client.read_some()
            client.one_case()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarise(ledger, clients, time.monotonic() - started)


def run(clients: int = 16, seconds: float = 60, port: int = 55634, sample_cases: int = 3000) -> LoadReport:
    """The load test on a private cluster with the sample data; the cluster is removed afterwards."""
    with served_sample(port, sample_cases) as served:
        return load(served.api.url, clients, seconds, served.spot)


def main() -> None:
    """Command line: run the load test, print the report as JSON; exit 1 on any error."""
    parser = argparse.ArgumentParser(description="VillageMap load test (mixed reads and writes)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=55634, help="port of the private PostgreSQL cluster")
    args = parser.parse_args()
    report: dict[str, Any] = asdict(run(args.clients, args.seconds, args.port))
    print(json.dumps(report, indent=1, ensure_ascii=False))  # noqa: T201
    raise SystemExit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
