"""Real OGC clients against a real server: GDAL/OGR through pyogrio, OWSLib, and the ogctests suite.

The server is the app on the session database, served by uvicorn in its own process; its access
log shows what each client sent (e.g. that GDAL pushed a where clause to the server).
ogctests pins httpx and pytest versions older than ours, so it runs from its own venv, created on
first use under the git-ignored ``.villagemap/`` (``pip install ogctests==0.1.15``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyogrio  # type: ignore[import-untyped]
import pytest
from owslib.ogcapi.features import Features  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from data.load import LoadReport
from gis.settings import PROJECT_ROOT, STATE_DIR, Settings

OGCTESTS = "ogctests==0.1.15"
Recorded = tuple[str, "_AccessLog"]


@pytest.fixture(scope="module")
def server(settings: Settings, sample: LoadReport, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """The app on the session database in its own uvicorn process, its access log read as the record.

    A separate process, because GDAL holds the GIL while it reads: a server thread in this process
    could not answer it.
    """
    del sample
    port = _free_port()
    log_path = tmp_path_factory.mktemp("uvicorn") / "access.log"
    env = {**os.environ, "VILLAGEMAP_DATABASE_URL": settings.database_url}
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}", _AccessLog(log_path)
    finally:
        process.terminate()
        process.wait(timeout=20)


class _AccessLog(list[str]):
    """The paths and queries uvicorn logged (read afresh on every use)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.skip = 0

    def requests(self) -> list[str]:
        lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        found = re.findall(r'"GET (\S+) HTTP/1.1"', "\n".join(lines[self.skip :]))
        return [str(x) for x in found]

    def clear(self) -> None:
        self.skip = len(self.path.read_text(encoding="utf-8", errors="replace").splitlines())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("uvicorn did not start")


def _items_queries(seen: _AccessLog, collection: str) -> list[dict[str, list[str]]]:
    path = f"/collections/{collection}/items"
    return [parse_qs(urlsplit(s).query) for s in seen.requests() if urlsplit(s).path == path]


def _expected(conn: Connection, collection: str) -> int:
    levels = {"counties": "county", "townships": "township", "villages": "village", "grids": "grid"}
    if collection in levels:
        return int(
            conn.execute(text("SELECT count(*) FROM region WHERE level = :l"), {"l": levels[collection]}).scalar_one()
        )
    category, family = collection.rsplit("_", 1)
    dim = {"points": 0, "lines": 1, "polygons": 2}[family]
    every = text(
        "SELECT (SELECT count(*) FROM cases WHERE category = :c AND ST_Dimension(geom) = :d)"
        " + (SELECT count(*) FROM project WHERE category = :c AND ST_Dimension(geom) = :d)"
        " + (SELECT count(*) FROM facility WHERE category = :c AND ST_Dimension(geom) = :d)"
    )
    return int(conn.execute(every, {"c": category, "d": dim}).scalar_one())


def test_gdal_reads_every_collection(server: Recorded, conn: Connection) -> None:
    url, _seen = server
    layers = pyogrio.list_layers(f"OAPIF:{url}")
    names = [str(n) for n in layers[:, 0]]
    assert {"garbage_point_points", "dilapidated_house_polygons", "black_odorous_water_lines", "grids"} <= set(names)
    for name, geometry_type in layers:
        frame = pyogrio.read_dataframe(f"OAPIF:{url}", layer=str(name))
        assert len(frame) == _expected(conn, str(name)) > 0, name
        kinds = set(frame.geometry.geom_type)
        family = "polygons" if name in ("counties", "townships", "villages", "grids") else str(name).rsplit("_", 1)[1]
        allowed = {
            "points": {"Point", "MultiPoint"},
            "lines": {"LineString", "MultiLineString"},
            "polygons": {"Polygon", "MultiPolygon"},
        }[family]
        assert kinds <= allowed, (name, kinds, geometry_type)
        assert "reporter_phone" not in frame.columns


def test_gdal_pushes_the_where_clause_to_the_server(server: Recorded, conn: Connection) -> None:
    url, seen = server
    seen.clear()
    frame = pyogrio.read_dataframe(f"OAPIF:{url}", layer="garbage_point_points", where="status = 'closed'")
    expected = conn.execute(text("SELECT count(*) FROM cases WHERE category = 'garbage_point' AND status = 'closed'"))
    assert len(frame) == expected.scalar_one() > 0 and set(frame["status"]) == {"closed"}
    pushed = [q for q in _items_queries(seen, "garbage_point_points") if "filter" in q or "status" in q]
    assert pushed, seen.requests()
    sent = pushed[0].get("filter", pushed[0].get("status", [""]))[0]
    assert "closed" in unquote(sent)
    total = int(conn.execute(text("SELECT count(*) FROM cases WHERE category = 'garbage_point'")).scalar_one())
    assert len(frame) < total  # the server filtered: GDAL did not fetch everything


def test_gdal_asks_for_cgcs2000_and_gets_it(server: Recorded, conn: Connection) -> None:
    url, seen = server
    seen.clear()
    plain = pyogrio.read_dataframe(f"OAPIF:{url}", layer="garbage_point_points", where="status = 'closed'")
    cgcs = pyogrio.read_dataframe(
        f"OAPIF:{url}", layer="garbage_point_points", where="status = 'closed'", CRS="EPSG:4490"
    )
    assert cgcs.crs is not None and cgcs.crs.to_epsg() == 4490
    assert any("4490" in q.get("crs", [""])[0] for q in _items_queries(seen, "garbage_point_points"))
    first = plain.sort_values("code").geometry.iloc[0]
    again = cgcs.sort_values("code").geometry.iloc[0]
    assert abs(first.x - again.x) < 1e-7 and abs(first.y - again.y) < 1e-7  # CGCS2000 is taken as WGS84
    gk = pyogrio.read_dataframe(
        f"OAPIF:{url}", layer="garbage_point_points", where="status = 'closed'", CRS="EPSG:4544"
    )
    x = gk.sort_values("code").geometry.iloc[0].x
    assert 300_000 < x < 800_000  # GDAL read our northing-first output back as easting, northing
    bbox = pyogrio.read_dataframe(f"OAPIF:{url}", layer="garbage_point_points", bbox=(106.55, 38.85, 106.65, 38.95))
    count = conn.execute(
        text(
            "SELECT count(*) FROM cases WHERE category = 'garbage_point' AND "
            "ST_Intersects(geom, ST_MakeEnvelope(106.55, 38.85, 106.65, 38.95, 4326))"
        )
    ).scalar_one()
    assert len(bbox) == count > 0


def test_owslib_calls(server: Recorded, conn: Connection) -> None:
    url, seen = server
    api = Features(url)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "garbage_point_points" in ids and api.collection("garbage_point_points")["itemType"] == "feature"
    assert "edge" in api.collection_queryables("garbage_point_points")["properties"]
    page = api.collection_items("garbage_point_points", limit=2, bbox=[106.55, 38.85, 106.65, 38.95])
    assert page["numberReturned"] == 2
    cql = api.collection_items(
        "garbage_point_points",
        filter="status = 'closed' AND edge = '路边'",
        **{"filter-lang": "cql2-text", "limit": 1000},
    )
    expected = conn.execute(
        text(
            "SELECT count(*) FROM cases WHERE category = 'garbage_point' AND status = 'closed' "
            "AND attributes->>'edge' = '路边'"
        )
    ).scalar_one()
    assert cql["numberMatched"] == expected > 0
    lat_lon = api.collection_items("garbage_point_points", crs="http://www.opengis.net/def/crs/EPSG/0/4326", limit=1)
    lon_lat = api.collection_items("garbage_point_points", limit=1)
    assert lat_lon["features"][0]["geometry"]["coordinates"] == lon_lat["features"][0]["geometry"]["coordinates"][::-1]
    one = api.collection_item("garbage_point_points", str(lon_lat["features"][0]["id"]))
    assert one["id"] == lon_lat["features"][0]["id"]
    with pytest.raises(RuntimeError):
        api.collection_item("garbage_point_points", "99999999")
    assert any("/queryables" in r for r in seen.requests())


def _ogctests_python() -> Path:
    venv = STATE_DIR / "venv-ogctests"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", OGCTESTS], check=True)
        (venv / ".installed").write_text(OGCTESTS)
    return python


def test_ogctests_features_core_all_pass(server: Recorded, tmp_path: Path) -> None:
    url, _seen = server
    env = {**os.environ, "INSTANCE_URL": url}
    env.pop("PYTEST_ADDOPTS", None)
    args = [
        str(_ogctests_python()),
        "-m",
        "pytest",
        "--pyargs",
        "ogctests.features.core",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, result.stdout[-4000:]
    assert "29 passed" in summary and "failed" not in summary and "skipped" not in summary, summary
