"""Features and tiles (要素与瓦片): VillageMap vs tipg vs the pgbench floor of VillageMap's own SQL.

Requests (notes/performance.md §2): a 2 km bbox page of 100 around the densest village, an
unfiltered page of 100, a page of 1,000, and the dense z12 tile over that village. VillageMap is
asked through its real endpoints — OGC ``/collections/garbage_point_points/items`` (every bench case
is a garbage point), its own ``/cases`` and the collection's vector tile — and tipg through
``/collections/public.cases/...`` on the same table. Each is run with ``wrk`` at 1 and 16
connections, several times, interleaved; the floor replays the SQL that VillageMap ran for the
same request (captured in-process) with ``pgbench``.
"""

from __future__ import annotations

import math
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]
import psycopg

from bench.capture import pgbench_script, request_sql
from bench.data import COLLECTION, BenchDb, libpq_parts
from bench.load import Summary, pgbench, wrk

VM, VM_CASES, TIPG, FLOOR, FLOOR_CASES = "villagemap", "villagemap /cases", "tipg", "sql floor", "sql floor /cases"
TIPG_COLLECTION = "public.cases"
ZOOM = 12


@dataclass(frozen=True)
class Place:
    """The densest village (最密的村): its seat, a 2 km box around it and the z12 tile holding it."""

    village: str
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]
    tile: tuple[int, int, int]


def densest_place(db: BenchDb) -> Place:
    """Where the bench cases are densest."""
    with psycopg.connect(db.libpq) as conn:
        code, lon, lat = conn.execute(
            "SELECT r.code, ST_X(r.seat), ST_Y(r.seat) FROM region r JOIN (SELECT village_code, count(*) AS n "
            "FROM cases GROUP BY village_code ORDER BY n DESC, village_code LIMIT 1) d ON d.village_code = r.code"
        ).fetchone()  # type: ignore[misc]
    dx, dy = 1000 / (111_320 * math.cos(math.radians(lat))), 1000 / 110_540
    n = 2**ZOOM
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    box = (round(lon - dx, 6), round(lat - dy, 6), round(lon + dx, 6), round(lat + dy, 6))
    return Place(str(code), float(lon), float(lat), box, (ZOOM, x, y))


@dataclass(frozen=True)
class Request:
    """One kind of request and its path on each side (None: that side has no such request)."""

    key: str
    label: str
    paths: dict[str, str]


def requests_for(place: Place) -> list[Request]:
    """The four requests of the issue, on VillageMap (OGC and /cases) and tipg."""
    bbox = ",".join(str(v) for v in place.bbox)
    z, x, y = place.tile
    ogc, tipg = f"/collections/{COLLECTION}", f"/collections/{TIPG_COLLECTION}"
    return [
        Request("bbox100", "bbox 2 km, page of 100",
                {VM: f"{ogc}/items?bbox={bbox}&limit=100", VM_CASES: f"/cases?bbox={bbox}&limit=100",
                 TIPG: f"{tipg}/items?bbox={bbox}&limit=100"}),
        Request("page100", "unfiltered page of 100",
                {VM: f"{ogc}/items?limit=100", VM_CASES: "/cases?limit=100", TIPG: f"{tipg}/items?limit=100"}),
        Request("page1000", "unfiltered page of 1,000",
                {VM: f"{ogc}/items?limit=1000", VM_CASES: "/cases?limit=1000", TIPG: f"{tipg}/items?limit=1000"}),
        Request("tile", f"dense tile {z}/{x}/{y}",
                {VM: f"{ogc}/tiles/WebMercatorQuad/{z}/{x}/{y}", TIPG: f"{tipg}/tiles/WebMercatorQuad/{z}/{x}/{y}"}),
    ]  # fmt: skip


@dataclass
class Measured:
    """Summaries per (request key, side, connections), response sizes and the tile check."""

    rows: dict[tuple[str, str, int], Summary] = field(default_factory=dict)
    size: dict[tuple[str, str], int] = field(default_factory=dict)
    tile_features: dict[str, int] = field(default_factory=dict)


def fetch(url: str) -> bytes:
    """GET ``url`` (no compression asked, like wrk); the body, or an error for a non-200."""
    with urllib.request.urlopen(url, timeout=60) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        body: bytes = response.read()
        return body


def tile_features(data: bytes) -> int:
    """Features a tile stands for: aggregated points count for ``count`` of them."""
    total = 0
    for layer in mapbox_vector_tile.decode(data).values():
        for feature in layer["features"]:
            props = feature.get("properties", {})
            total += int(props["count"]) if props.get("aggregated") else 1
    return total


def cases_in_tile(db: BenchDb, tile: tuple[int, int, int]) -> dict[str, int]:
    """Cases inside the tile counted by PostGIS, the truth for each side: garbage points (VillageMap's
    collection) and every case (tipg serves the whole table, a few hundred sample cases more)."""
    with psycopg.connect(db.libpq) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE category = 'garbage_point' AND ST_Dimension(geom) = 0), count(*) "
            "FROM cases WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))",
            list(tile),
        ).fetchone()
    return {VM: int(row[0]), TIPG: int(row[1])} if row else {VM: 0, TIPG: 0}


def measure_http(bases: dict[str, str], requests: list[Request], conns: list[int], runs: int, seconds: int,
                 out: Measured, log: Callable[[str], None] = print) -> None:  # fmt: skip
    """wrk on every (request, side, connections), ``runs`` times, sides interleaved per run."""
    for req in requests:
        sides = [s for s in (VM, VM_CASES, TIPG) if s in req.paths and s in bases]
        for side in sides:
            body = fetch(bases[side] + req.paths[side])
            out.size[(req.key, side)] = len(body)
            if req.key == "tile":
                out.tile_features[side] = tile_features(body)
        for c in conns:
            samples: dict[str, list[Any]] = {s: [] for s in sides}
            for _run in range(runs):
                for side in sides:
                    samples[side].append(wrk(bases[side] + req.paths[side], c, seconds))
            for side in sides:
                out.rows[(req.key, side, c)] = summary = Summary.of(samples[side])
                log(f"{req.key:9} {side:18} c={c:2} req/s {summary.rate[0]:8.1f} p50 {summary.p50[0]:7.2f} ms")


def measure_floor(db: BenchDb, requests: list[Request], conns: list[int], runs: int, seconds: int,
                  out: Measured, log: Callable[[str], None] = print) -> None:  # fmt: skip
    """pgbench of the statements VillageMap ran for each request (OGC and /cases)."""
    args, env = libpq_parts(db.url)
    with tempfile.TemporaryDirectory(prefix="vm-bench-sql-") as folder:
        for req in requests:
            for side, floor in ((VM, FLOOR), (VM_CASES, FLOOR_CASES)):
                if side not in req.paths:
                    continue
                status, statements = request_sql(db.settings, "GET", req.paths[side])
                if status != 200:
                    raise RuntimeError(f"{req.paths[side]} answered {status} in-process")
                script = pgbench_script(statements, Path(folder) / f"{req.key}-{side.replace(' /', '_')}.sql")
                for c in conns:
                    samples = [pgbench(args, env, script, c, seconds) for _ in range(runs)]
                    out.rows[(req.key, floor, c)] = summary = Summary.of(samples)
                    log(f"{req.key:9} {floor:18} c={c:2} tps   {summary.rate[0]:8.1f} avg {summary.p50[0]:7.2f} ms "
                        f"({len(statements)} statements)")  # fmt: skip
