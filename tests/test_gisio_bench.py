"""The import benchmark's smoke mode (导入基准冒烟测试): every variant runs and the import is complete."""

from __future__ import annotations

import json

from bench.import_bench import bench


def test_smoke_mode_runs_every_variant() -> None:
    lines: list[str] = []
    summary = bench(300, 1, out=lines.append)
    runs = [json.loads(line) for line in lines[:-1]]
    assert {r["variant"] for r in runs} == {"floor", "ogr2ogr", "ogr2ogr_geojsonseq", "villagemap"}
    assert all(r["seconds"] > 0 and r["n"] == 300 for r in runs)
    ours = next(r for r in runs if r["variant"] == "villagemap")
    assert set(ours["split"]) >= {"read", "check", "copy", "locate", "insert"}
    assert json.loads(lines[-1])["summary"] == summary and summary["villagemap_vs_floor"] > 0
