"""Patrol-map rendering benchmark (巡查图生成基准): VillageMap's GeoJSON-layer map against the naive
Folium map with one ``folium.Marker`` (and popup) per case, for a grid with N open cases.

Both maps get the same cases, popups and VillageMap's own Leaflet (served locally, so the browser
needs no network). Measured: Python build + render time, HTML size, and — with ``--browser`` —
how long headless Chromium takes from navigation until every case is drawn (notes §4 measured
only the Python side).

Usage::

    .venv/bin/python -m bench.maps                       # N = 2000, 3 runs, with the browser
    .venv/bin/python -m bench.maps --cases 500,2000,5000
    .venv/bin/python -m bench.maps --smoke               # N = 60, 1 run, no browser (tests call this)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import folium

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maps.assets import attach_assets, served, static_dirs
from maps.elements import RawHtml
from maps.patrol import CategoryStyle, PatrolMapData, render_patrol_map
from maps.popups import case_popup

LON, LAT, HALF = 106.60, 38.91, 0.01
JQUERY_STANDIN = (
    "<script>window.$ = function (html) { var t = document.createElement('template');"
    " t.innerHTML = html.trim(); return [t.content.firstChild]; };</script>"
)
STYLES = [
    CategoryStyle("garbage_point", "垃圾点", "Garbage point", "#ff7f0e", "垃"),
    CategoryStyle("ruined_wall", "残垣断壁", "Ruined wall", "#8c564b", "墙"),
    CategoryStyle("agri_waste", "农业生产废弃物", "Agricultural waste", "#2ca02c", "农"),
]


def square(cx: float, cy: float, half: float) -> dict[str, Any]:
    """A GeoJSON square around (cx, cy)."""
    ring = [[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half], [cx - half, cy + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def sample(n: int, seed: int = 1) -> PatrolMapData:
    """A 2 km grid with ``n`` open point cases in three categories, a tenth of them overdue."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-HALF, HALF, size=(n, 2)) + np.array([LON, LAT])
    features = []
    for i, (x, y) in enumerate(xy.tolist(), start=1):
        style = STYLES[i % len(STYLES)]
        props = {"id": i, "code": f"640221-2022-{i:06d}", "category": style.code, "category_label": style.label_zh,
                 "status": "assigned", "status_label": "已派遣", "deadline": "2022-02-17", "overdue": i % 10 == 0,
                 "title": f"{style.label_zh} {i}", "description": "路边堆放，需清理。"}  # fmt: skip
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props})
    grid = {"type": "Feature", "geometry": square(LON, LAT, HALF), "properties": {"code": "640221202204001",
                                                                                  "name": "第1网格"}}  # fmt: skip
    village = {"type": "Feature", "geometry": square(LON, LAT, 2 * HALF), "properties": {"name": "金桥村"}}
    empty = {"type": "FeatureCollection", "features": []}
    cases = {"type": "FeatureCollection", "features": features}
    return PatrolMapData("渠口乡 金桥村 第1网格 巡查图", grid, village, empty, empty, cases, STYLES, "benchmark")


def markers_map(data: PatrolMapData) -> str:
    """The naive map: one folium.Marker with a Popup per case (what notes §4 warns against).

    Folium's popups call jQuery's ``$``; VillageMap ships no jQuery, so the page gets a two-line
    stand-in (the naive map would otherwise stop at its first popup).
    """
    fmap = folium.Map(location=[LAT, LON], zoom_start=15, tiles=None)
    attach_assets(fmap, served("/static/vendor"))
    root: Any = fmap.get_root()
    root.header.add_child(RawHtml(JQUERY_STANDIN), name="jquery_standin")
    folium.GeoJson(data.grid, name="网格边界").add_to(fmap)
    labels = {s.code: (s.label_zh, s.label_en) for s in STYLES}
    for f in data.cases["features"]:
        lon, lat = f["geometry"]["coordinates"]
        zh, en = labels[f["properties"]["category"]]
        folium.Marker([lat, lon], popup=folium.Popup(case_popup(f["properties"], zh, en), max_width=320)).add_to(fmap)
    return str(fmap.get_root().render())


def timed(render: Any, data: PatrolMapData) -> tuple[float, str]:
    """Seconds to build and render a page, and the page."""
    began = time.perf_counter()
    page = render(data)
    return time.perf_counter() - began, page


def browser_ms(pages: dict[str, str], n: int) -> dict[str, float]:
    """Milliseconds from navigation start until every case is on the map, per page."""
    from tests.browser import launch_chromium, open_page, serve

    done = {
        "villagemap": "() => window.villageMap && document.querySelectorAll('path.vm-case').length === %d",
        "markers": "() => document.querySelectorAll('.leaflet-marker-icon').length === %d",
    }
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, launch_chromium() as browser:
        mounts = {f"/static/vendor/{sub}": path for sub, path in static_dirs().items()}
        for name, page in pages.items():
            (Path(tmp) / f"{name}.html").write_text(page, encoding="utf-8")
            mounts[f"/{name}.html"] = Path(tmp) / f"{name}.html"
        with serve(mounts) as base:
            for name in pages:
                with open_page(f"{base}/{name}.html", browser=browser, wait_until="commit") as probe:
                    check = done[name] % n
                    probe.page.wait_for_function(check, timeout=120_000)
                    out[name] = float(probe.page.evaluate("performance.now()"))
                    probe.assert_clean()
    return out


def run(n: int, runs: int, with_browser: bool) -> dict[str, Any]:
    """Render both maps ``runs`` times (and draw them once in Chromium); medians."""
    data = sample(n)
    ours, naive = [], []
    for _ in range(runs):
        ours.append(timed(lambda d: render_patrol_map(d, assets=served("/static/vendor")), data))
        naive.append(timed(markers_map, data))
    row: dict[str, Any] = {
        "cases": n,
        "villagemap_s": round(statistics.median(t for t, _ in ours), 3),
        "markers_s": round(statistics.median(t for t, _ in naive), 3),
        "villagemap_bytes": len(ours[-1][1].encode()),
        "markers_bytes": len(naive[-1][1].encode()),
    }
    row["speedup"] = round(row["markers_s"] / row["villagemap_s"], 1)
    row["smaller"] = round(row["markers_bytes"] / row["villagemap_bytes"], 1)
    if with_browser:
        drawn = browser_ms({"villagemap": ours[-1][1], "markers": naive[-1][1]}, n)
        row |= {"villagemap_browser_ms": round(drawn["villagemap"]), "markers_browser_ms": round(drawn["markers"])}
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark; prints one JSON row per size; returns the rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="2000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="60 cases, 1 run, no browser")
    args = parser.parse_args(argv)
    sizes = [60] if args.smoke else [int(v) for v in args.cases.split(",")]
    rows = []
    for n in sizes:
        row = run(n, 1 if args.smoke else args.runs, not (args.smoke or args.no_browser))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
