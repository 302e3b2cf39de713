"""Load generators (压测工具): ``wrk`` for HTTP and ``pgbench`` for the SQL floor, parsed into numbers.

Both run on loopback only (a non-loopback URL is refused) for a fixed time, so they stop by
themselves. ``wrk`` is the Debian package ``wrk`` (``apt-get install wrk``); ``pgbench`` comes
with ``postgresql-client``.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class ToolMissing(RuntimeError):
    """A load tool is not installed; the message says how to get it."""


@dataclass(frozen=True)
class Sample:
    """One timed run: throughput, latency percentiles and how many requests failed."""

    rate: float
    p50_ms: float
    p99_ms: float | None
    requests: int
    errors: int


def need(tool: str, package: str) -> str:
    """The path of ``tool``, or a clear error naming the Debian package."""
    found = shutil.which(tool)
    if found is None:
        raise ToolMissing(
            f"未找到 {tool}：请运行 apt-get install -y {package}（或 scripts/bootstrap.sh --test）。\n"
            f"{tool} not found: apt-get install -y {package} (or run scripts/bootstrap.sh --test)."
        )
    return found


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if m is None:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def parse_wrk(output: str, connections: int = 0) -> Sample:
    """Requests/sec, p50, p99, request count and non-2xx/socket errors from ``wrk --latency``.

    A run in which no request finished (every connection stuck past the run) counts one error per
    connection: never a clean 0 req/s.
    """
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(g) for g in m.groups())
    if requests == 0:
        errors += connections
    return Sample(rate, p50, p99, requests, errors)


def wrk(url: str, connections: int, seconds: int, headers: Sequence[str] = (), script: Path | None = None) -> Sample:
    """One ``wrk`` run against a loopback URL (threads: 1 for one connection, else 2)."""
    if urlsplit(url).hostname not in LOOPBACK:
        raise ValueError(f"refusing a non-loopback target: {url}")
    threads = 1 if connections == 1 else 2
    cmd = [need("wrk", "wrk"), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
           "--latency"]  # fmt: skip
    for header in headers:
        cmd += ["-H", header]
    if script is not None:
        cmd += ["-s", str(script)]
    done = subprocess.run([*cmd, url], check=True, capture_output=True, text=True)
    return parse_wrk(done.stdout, connections)


def parse_pgbench(output: str) -> Sample:
    """tps, average latency and failed transactions from pgbench's summary."""
    tps = float(re.search(r"tps = ([\d.]+) \(without initial", output).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"number of transactions actually processed: (\d+)", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", output)
    return Sample(tps, latency, None, done, int(failed.group(1)) if failed else 0)


def pgbench(conn_args: Sequence[str], env: dict[str, str], script: Path, clients: int, seconds: int) -> Sample:
    """One ``pgbench -n -M prepared`` run of a custom script."""
    jobs = 1 if clients == 1 else 2
    cmd = [need("pgbench", "postgresql-client"), "-n", "-M", "prepared", "-f", str(script), "-c", str(clients),
           "-j", str(jobs), "-T", str(seconds), *conn_args]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return parse_pgbench(done.stdout)


@dataclass(frozen=True)
class Summary:
    """Several runs of one thing: median (min–max) of rate and p50, worst p99, errors summed."""

    rate: tuple[float, float, float]
    p50: tuple[float, float, float]
    p99: float | None
    errors: int
    requests: int

    @staticmethod
    def of(samples: Sequence[Sample]) -> Summary:
        """Summarise ``samples`` (at least one)."""
        rates, p50s = [s.rate for s in samples], [s.p50_ms for s in samples]
        p99s = [s.p99_ms for s in samples if s.p99_ms is not None]
        return Summary(
            (statistics.median(rates), min(rates), max(rates)),
            (statistics.median(p50s), min(p50s), max(p50s)),
            statistics.median(p99s) if p99s else None,
            sum(s.errors for s in samples),
            sum(s.requests for s in samples),
        )


def fmt(triple: tuple[float, float, float], digits: int = 1) -> str:
    """``median (min–max)``."""
    med, lo, hi = triple
    return f"{med:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"
