"""The bad-input corpus (错误输入语料): named requests that must each get a clear 4xx and store nothing.

Each entry is one request through the public API or an importer (``POST /imports``, the ledger
XLSX) with the status it must get. ``corpus(here)`` builds them around ``here``, a point inside
the demo grid; the names are fixed, so a test can be parametrized by them. The SQL-injection
payloads are sent separately, in every text and filter parameter, by
``tests/test_reliability_corpus.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from openpyxl import Workbook  # type: ignore[import-untyped]

#: f-string-style SQL injection (SQL 注入) payloads: each must be refused or treated as plain text.
INJECTIONS: Final[dict[str, str]] = {
    "drop-table": "'; DROP TABLE cases; --",
    "tautology": "1 OR 1=1",
    "union-select": '") UNION SELECT username, password_hash FROM app_user --',
}

LonLat = tuple[float, float]


@dataclass(frozen=True)
class BadRequest:
    """One refused request: who sends what, and the 4xx it must get."""

    method: str
    path: str
    status: int
    user: str | None = "demo-admin"
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: str | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    data: dict[str, str] | None = None


def _report(geometry: Any, category: str = "garbage_point", **extra: Any) -> dict[str, Any]:
    return {"category": category, "geometry": geometry, **extra}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _raw_point(coordinates: str) -> str:
    return '{"category": "garbage_point", "geometry": {"type": "Point", "coordinates": ' + coordinates + "}}"


def _geometry_reports(here: LonLat) -> dict[str, BadRequest]:
    lon, lat = here
    bowtie = [[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]]
    open_ring = [[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat + 0.001]]
    bomb = [[lon + 0.001 * i / 50_000, lat + (0.0005 if i % 2 else 0)] for i in range(50_001)]
    mixed = {"type": "GeometryCollection", "geometries": [_point(lon, lat), _point(lon + 0.001, lat)]}

    def report(body: Any, status: int = 422) -> BadRequest:
        return BadRequest("POST", "/cases", status, user="demo-grid-manager", json=body)

    def raw(text: str) -> BadRequest:
        return BadRequest("POST", "/cases", 422, user="demo-grid-manager", content=text)

    return {
        "report: self-intersecting polygon": report(_report({"type": "Polygon", "coordinates": [bowtie]}, "agri_waste")),
        "report: unclosed ring": report(_report({"type": "Polygon", "coordinates": [open_ring]}, "agri_waste")),
        "report: NaN coordinate": raw(_raw_point(f"[NaN, {lat}]")),
        "report: Infinity coordinate": raw(_raw_point(f"[{lon}, Infinity]")),
        "report: longitude out of range": report(_report(_point(lon + 200, lat))),
        "report: swapped lon/lat": report(_report(_point(lat, lon))),
        "report: vertex bomb (50,001 vertices)": report(_report({"type": "LineString", "coordinates": bomb}, "ruined_wall")),
        "report: undeclared projected CRS": report(_report(_point(500000.0, 4300000.0))),
        "report: unknown declared CRS": report(_report(_point(lon, lat), crs="EPSG:999999"), 400),
        "report: legacy crs member": report(_report(_point(lon, lat) | {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}})),
        "report: outside the counties": report(_report(_point(116.39, 39.9))),
        "report: mixed geometry types": report(_report(mixed)),
        "report: empty coordinates": report(_report({"type": "Point", "coordinates": []})),
        "report: not JSON": raw('{"category": "garbage_point", "geometry": '),
        "report: unknown category": report(_report(_point(lon, lat), "flying_saucer")),
        "mobile report: swapped lon/lat": BadRequest("POST", "/m/api/reports", 422, user="demo-grid-manager", json=_report(_point(lat, lon))),
    }  # fmt: skip


def _read_params() -> dict[str, BadRequest]:
    items = "/collections/garbage_point_points/items"
    tile = "/collections/garbage_point_points/tiles/WebMercatorQuad"

    def get(path: str, expect: int = 400, **params: str) -> BadRequest:
        return BadRequest("GET", path, expect, user=None, params=params)

    return {
        "cases: bbox with 3 numbers": get("/cases", bbox="106,38,107"),
        "cases: bbox south above north": get("/cases", bbox="106,39,107,38"),
        "cases: bbox with NaN": get("/cases", bbox="106,NaN,107,39"),
        "cases: bbox latitude out of range": get("/cases", bbox="106,38,107,200"),
        "cases: limit zero": get("/cases", limit="0"),
        "cases: limit not a number": get("/cases", limit="ten"),
        "cases: negative after": get("/cases", after="-1"),
        "cases: area that is no code": get("/cases", area="平罗"),
        "cases: unknown status": get("/cases", status="finished"),
        "cases: unknown parameter": get("/cases", sort="id"),
        "projects: bbox not numbers": get("/projects", bbox="a,b,c,d"),
        "items: bbox with 3 numbers": get(items, bbox="106,38,107"),
        "items: limit zero": get(items, limit="0"),
        "items: unknown crs": get(items, crs="http://www.opengis.net/def/crs/EPSG/0/999999"),
        "items: unknown bbox-crs": BadRequest("GET", items, 400, user=None, params={"bbox": "106,38,107,39", "bbox-crs": "EPSG:nope"}),
        "items: bad datetime": get(items, datetime="yesterday"),
        "items: CQL2 syntax error": get(items, filter="category = = 'x'"),
        "items: CQL2 on a private property": get(items, filter="reporter_phone = '13600000004'"),
        "items: CQL2 on an unknown property": get(items, filter="nonsense > 3"),
        "items: CQL2 bomb (deep nesting)": get(items, filter="(" * 400 + "status = 'closed'" + ")" * 400),
        "items: unknown filter-lang": BadRequest("GET", items, 400, user=None, params={"filter": "status = 'closed'", "filter-lang": "sql"}),
        "tiles: x outside the matrix": get(f"{tile}/3/99/1", 404),
        "tiles: zoom beyond the matrix set": get(f"{tile}/40/0/0"),
        "nearby: latitude out of range": get("/categories/garbage_point/nearby", lon="106.5", lat="138.8"),
        "patrol route: start not lon,lat": get("/grids/640221202204001/patrol-route", start="here"),
        "open311: unknown service code": get("/open311/v2/services/flying_saucer.json", 404),
    }  # fmt: skip


def _open311(here: LonLat) -> dict[str, BadRequest]:
    lon, lat = here
    form = {"service_code": "garbage_point", "lat": str(lat), "long": str(lon), "description": "路边垃圾"}
    path = "/open311/v2/requests.json"
    return {
        "open311: report without api_key": BadRequest("POST", path, 400, user=None, data=form),
        "open311: invalid api_key": BadRequest(
            "POST", path, 403, user=None, data=form | {"lat": "north", "api_key": "x"}
        ),
    }


def _geojson(features: list[tuple[dict[str, Any], dict[str, Any]]]) -> bytes:
    rows = [{"type": "Feature", "geometry": g, "properties": p} for g, p in features]
    return json.dumps({"type": "FeatureCollection", "features": rows}, ensure_ascii=False).encode()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("a.shp", "w") as member:
        for _ in range(80):
            member.write(b"\x00" * (1 << 20))
    return out.getvalue()


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _files(here: LonLat) -> dict[str, BadRequest]:
    lon, lat = here
    good = _geojson([(_point(lon, lat), {"问题类型": "垃圾点"})])
    line = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.001, lat]]}
    bowtie = [[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]]
    ledger: list[list[Any]] = [
        ["序号", "编号", "问题类型", "问题描述", "经度", "纬度"],
        [1, "T-1", "垃圾点", "路边草堆", lon, lat],
    ]
    csv = f"问题类型,经度,纬度\n垃圾点,{lon},{lat}\n".encode()

    def upload(name: str, data: bytes, status: int = 422, **form: str) -> BadRequest:
        return BadRequest(
            "POST", "/imports", status, params={"dry_run": "false"}, files={"file": (name, data)}, data=form
        )

    return {
        "import: truncated GeoJSON": upload("cases.geojson", good[:-20]),
        "import: corrupt GeoPackage": upload("cases.gpkg", b"SQLite format 3\x00" + bytes(range(256)) * 8),
        "import: zip bomb": upload("bomb.zip", _zip_bomb()),
        "import: GBK bytes in a GeoJSON": upload("gbk.geojson", good.decode().encode("gbk")),
        "import: missing category column": upload("a.csv", f"描述,经度,纬度\n草堆,{lon},{lat}\n".encode()),
        "import: mixed geometry types": upload("mixed.geojson", _geojson([(_point(lon, lat), {"问题类型": "垃圾点"}), (line, {"问题类型": "垃圾点"})])),
        "import: self-intersecting polygon": upload("bad.geojson", _geojson([({"type": "Polygon", "coordinates": [bowtie]}, {"问题类型": "残垣断壁"})])),
        "import: outside the counties": upload("far.geojson", _geojson([(_point(116.4, 39.9), {"问题类型": "垃圾点"})])),
        "import: unknown declared CRS": upload("a.csv", csv, crs="EPSG:999999"),
        "import: mapping that is no mapping": upload("a.csv", csv, 400, mapping="nonsense"),
        "import: empty file": upload("empty.csv", b""),
        "import: unknown format": upload("random.bin", bytes(range(256)) * 4),
        "ledger xlsx: truncated workbook": upload("台账.xlsx", _xlsx(ledger)[:600]),
        "ledger xlsx: no header row": upload("台账.xlsx", _xlsx([["a", "b"], [1, 2]])),
        "ledger xlsx: latitude of 106 (swapped)": upload("台账.xlsx", _xlsx([ledger[0], [1, "T-1", "垃圾点", "草堆", lat, lon]])),
        "ledger xlsx: unknown category": upload("台账.xlsx", _xlsx([ledger[0], [1, "T-1", "飞碟", "草堆", lon, lat]])),
    }  # fmt: skip


def corpus(here: LonLat) -> dict[str, BadRequest]:
    """Every named bad request, built around ``here`` (a point inside the demo grid)."""
    return _geometry_reports(here) | _read_params() | _open311(here) | _files(here)


#: The names, for parametrized tests (the requests depend only on a point, not on the names).
NAMES: Final = list(corpus((106.6, 38.8)))


#: Rows in every table of the public schema, counted in SQL (nothing may change after a refusal).
TABLE_COUNTS_SQL: Final = """
SELECT c.relname,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', c.relname),
                                             false, true, '')))[1]::text::bigint
  FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
 WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p')
 ORDER BY c.relname
"""


#: A valid value for each path parameter, so one parameter at a time can carry a payload.
PATH_DEFAULTS: Final[dict[str, str]] = {
    "collectionId": "cases", "fmt": "json", "grid_code": "640221202204001", "code": "640221202",
    "area": "640221202", "month": "2022-01", "username": "demo-grid-manager", "service_code": "garbage_point",
    "service_request_id": "1", "photo_id": "0" * 64, "contractor": "640221202-erquan", "featureId": "1",
    "campaign_id": "1", "case_id": "1", "project_id": "1", "facility_id": "1", "z": "0", "x": "0", "y": "0",
}  # fmt: skip


def injection_targets(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(path, where, parameter)`` for every text parameter of every read (GET) operation."""
    found = []
    for path, item in doc["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] in ("query", "path") and schema.get("type", "string") == "string":
                found.append((path, parameter["in"], parameter["name"]))
    return found


def injected_request(path: str, where: str, name: str, payload: str) -> tuple[str, dict[str, str]]:
    """The URL path and query of a GET carrying ``payload`` in one parameter."""
    values = dict(PATH_DEFAULTS)
    query: dict[str, str] = {}
    if where == "path":
        values[name] = payload
    else:
        query[name] = payload
    for key, value in values.items():
        path = path.replace("{" + key + "}", quote(value, safe=""))
    return path, query


#: Free-text parameters where a payload is a legitimate value (an equality match on text, bound
#: as a parameter): a 2xx is right there, and the test checks nothing else changed.
ACCEPTED_AS_TEXT: Final[dict[str, set[str]]] = {}
