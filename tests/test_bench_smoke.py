"""The benchmark suite's smoke mode (基准套件冒烟测试): every section runs end to end at a tiny size.

Not a timing test: it checks that ``python -m bench --smoke`` builds its database, serves
VillageMap and tipg, drives them with wrk and pgbench, closes cases over HTTP, and writes a report
with every section, so the suite cannot rot between full runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.__main__ import _collect, main


def test_smoke_run_writes_every_section(tmp_path: Path) -> None:
    report = main(["--smoke", "--out", str(tmp_path / "report.md")]).read_text(encoding="utf-8")
    for heading in ("## Features and tiles", "### Targets", "## Writes", "## Scale", "### import", "### routes",
                    "### maps"):  # fmt: skip
        assert heading in report, heading
    for side in ("| villagemap |", "| villagemap /cases |", "| tipg |", "| sql floor |"):
        assert side in report, side
    closed = re.search(r"([\d,]+) cases were closed for ([\d,]+) requests", report)
    assert closed is not None and int(closed.group(1).replace(",", "")) > 0
    complete = re.search(r"VillageMap ([\d,]+) of ([\d,]+)", report)
    assert complete is not None and complete.group(1) == complete.group(2)


def test_a_failed_sub_benchmark_is_reported_not_lost() -> None:
    """A sub-benchmark that fails leaves its output in the report and is named; the rest is kept."""
    failed: list[str] = []
    crash = [sys.executable, "-c", "import sys; print('boom: assets missing'); sys.exit(3)"]
    process = subprocess.Popen(crash, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = _collect("maps", process, failed)
    assert failed == ["maps"]
    assert lines[0] == "### maps: FAILED (exit 3)" and "boom: assets missing" in lines
    ok = subprocess.Popen([sys.executable, "-c", "print('| a | b |')"], stdout=subprocess.PIPE, text=True)
    assert "| a | b |" in _collect("routes", ok, failed) and failed == ["maps"]
