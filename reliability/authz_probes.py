"""The requests of the authorization matrix (权限矩阵的请求): concrete URLs, bodies and sample objects.

``REQUESTS`` gives each operation of ``reliability.authz.MATRIX`` a URL template and a minimal body;
``find_sample`` picks, with SQL on the sample, each role's own and other case, grid and area;
``probes`` expands them into one request per (operation, role, own/other).
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image
from sqlalchemy import Connection, text

from reliability.authz import (
    ADMIN,
    ANON,
    AREAS,
    CONTRACTOR,
    GM,
    INSP,
    MATRIX,
    ROADS,
    ROLES,
    VIEWER,
    VILLAGE,
    WATER,
    Probe,
)

#: Operation → (URL template, body). Placeholders: {case} {grid} {area} (own or other, per role),
#: and the fixed objects of ``Sample.fixed`` ({project} {facility} {campaign} {month} {tile} …).
CASE_Q: Final = "?limit=5&area={area}"
REQUESTS: Final[dict[str, tuple[str, str]]] = {
    "GET /": ("/", ""),
    "GET /healthz": ("/healthz", ""),
    "POST /auth/token": ("/auth/token", "token"),
    "GET /auth/me": ("/auth/me", ""),
    "POST /auth/password": ("/auth/password", "password_change"),
    "POST /users": ("/users", "new_user"),
    "POST /users/{username}/password": ("/users/demo-viewer/password", "password_reset"),
    "POST /grids/{grid_code}/manager": ("/grids/{grid}/manager", "grid_manager"),
    "GET /grids/{grid_code}/managers": ("/grids/{grid}/managers", ""),
    "GET /areas/{code}": ("/areas/{area}", ""),
    "GET /cases": ("/cases" + CASE_Q, ""),
    "POST /cases": ("/cases", "report"),
    "GET /cases/{case_id}": ("/cases/{case}", ""),
    "POST /photos": ("/photos", "photo"),
    "GET /cases/{case_id}/photos": ("/cases/{case}/photos", ""),
    "POST /cases/{case_id}/photos": ("/cases/{case}/photos", "photo"),
    "GET /cases/{case_id}/photos/{photo_id}": ("/cases/{case}/photos/{photo}", ""),
    "GET /cases/{case_id}/photos/{photo_id}/thumb": ("/cases/{case}/photos/{photo}/thumb", ""),
    "GET /campaigns": ("/campaigns", ""),
    "GET /campaigns/{campaign_id}": ("/campaigns/{campaign}", ""),
    "GET /campaigns/{campaign_id}/attainment": ("/campaigns/{campaign}/attainment", ""),
    "GET /categories": ("/categories", ""),
    "GET /categories/{code}": ("/categories/garbage_point", ""),
    "GET /categories/{code}/nearby": ("/categories/garbage_point/nearby?lon={lon}&lat={lat}", ""),
    "GET /exports/ledger.xlsx": ("/exports/ledger.xlsx?area={area}", ""),
    "GET /exports/cases.{fmt}": ("/exports/cases.geojson?area={area}", ""),
    "POST /imports": ("/imports?dry_run=true", "import"),
    "GET /grids/{grid_code}/patrol-map": ("/grids/{grid}/patrol-map", ""),
    "GET /grids/{grid_code}/patrol-list": ("/grids/{grid}/patrol-list", ""),
    "GET /maps/projects": ("/maps/projects?area={area}", ""),
    "GET /maps/closures": ("/maps/closures?area={area}", ""),
    "GET /maps/overview": ("/maps/overview?area={area}", ""),
    "GET /m/": ("/m/", ""),
    "GET /m/report": ("/m/report", ""),
    "GET /m/worklist": ("/m/worklist", ""),
    "GET /m/cases/{case_id}": ("/m/cases/{case}", ""),
    "GET /m/patrol/{grid_code}": ("/m/patrol/{grid}", ""),
    "GET /m/api/challenge": ("/m/api/challenge", ""),
    "POST /m/api/reports": ("/m/api/reports", "report"),
    "GET /m/api/cases/{case_id}/actions": ("/m/api/cases/{case}/actions", ""),
    "GET /m/api/features": ("/m/api/features", ""),
    "GET /rankings/red-black": ("/rankings/red-black?area={area}&period={month}", ""),
    "GET /contractors/{contractor}/scores": ("/contractors/{contractor}/scores", ""),
    "POST /contractors/{contractor}/scores": ("/contractors/{contractor}/scores", "scores"),
    "GET /bulletins/{area}/{month}.{fmt}": ("/bulletins/{area}/{month}.html", ""),
    "GET /dashboard": ("/dashboard?area={area}", ""),
    "GET /conformance": ("/conformance", ""),
    "GET /collections": ("/collections", ""),
    "GET /collections/{collectionId}": ("/collections/{collection}", ""),
    "GET /collections/{collectionId}/queryables": ("/collections/{collection}/queryables", ""),
    "GET /collections/{collectionId}/items": ("/collections/{collection}/items?limit=5", ""),
    "GET /collections/{collectionId}/items/{featureId}": ("/collections/{case_collection}/items/{case}", ""),
    "GET /open311/v2/discovery.{fmt}": ("/open311/v2/discovery.json", ""),
    "GET /open311/v2/services.{fmt}": ("/open311/v2/services.json", ""),
    "GET /open311/v2/services/{service_code}.{fmt}": ("/open311/v2/services/garbage_point.json", ""),
    "GET /open311/v2/requests.{fmt}": ("/open311/v2/requests.json", ""),
    "POST /open311/v2/requests.{fmt}": ("/open311/v2/requests.json", "open311"),
    "GET /open311/v2/requests/{service_request_id}.{fmt}": ("/open311/v2/requests/{case}.json", ""),
    "GET /grids/{grid_code}/patrol-route": ("/grids/{grid}/patrol-route", ""),
    "GET /patrols": ("/patrols?grid={grid}", ""),
    "POST /patrols": ("/patrols", "patrol"),
    "GET /patrols/unpatrolled": ("/patrols/unpatrolled?area={area}", ""),
    "POST /projects/{project_id}/progress": ("/projects/{project}/progress", "progress"),
    "POST /facilities/{facility_id}/status": ("/facilities/{facility}/status", "facility_status"),
    "GET /tiles": ("/tiles", ""),
    "GET /tiles/WebMercatorQuad": ("/tiles/WebMercatorQuad", ""),
    "GET /tiles/WebMercatorQuad/{z}/{x}/{y}": ("/tiles/WebMercatorQuad/{tile}", ""),
    "GET /collections/{collectionId}/tiles": ("/collections/{collection}/tiles", ""),
    "GET /collections/{collectionId}/tiles/WebMercatorQuad": ("/collections/{collection}/tiles/WebMercatorQuad", ""),
    "GET /collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}": (
        "/collections/{collection}/tiles/WebMercatorQuad/{tile}",
        "",
    ),
    "GET /maps/tiles": ("/maps/tiles", ""),
    "GET /projects": ("/projects?area={area}", ""),
    "GET /projects/{project_id}": ("/projects/{project}", ""),
    "GET /facilities": ("/facilities?area={area}", ""),
    "GET /facilities/{facility_id}": ("/facilities/{facility}", ""),
    "GET /cases/{case_id}/events": ("/cases/{case}/events", ""),
    "POST /cases/{case_id}/erase-reporter": ("/cases/{case}/erase-reporter", ""),
    "POST /cases/{case_id}/{action}": ("/cases/{case}/register", "action"),
}

#: Which cases are "own" / "other" for each role, as a named condition of ``CASE_SQL`` (README
#: "Accounts and roles"); ``None``: the role has no such case (roads staff have no cases; viewers
#: and admins cover both counties, so nothing is outside).
CASE_SCOPE: Final[dict[str, tuple[str | None, str | None]]] = {
    GM: ("grid", "litong"),
    INSP: ("township", "litong"),
    VILLAGE: ("village", "litong"),
    WATER: ("water", "not_water"),
    ROADS: (None, "litong"),
    CONTRACTOR: ("erquan", "litong"),
    VIEWER: ("grid", None),
    ADMIN: ("grid", None),
    ANON: ("grid", "litong"),
}
CASE_SQL: Final = text("""
SELECT c.id FROM cases c
WHERE NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = c.created_by AND u.is_demo)
  AND c.category IN (SELECT code FROM category WHERE NOT private_location)
  AND CASE :rule
      WHEN 'grid' THEN c.grid_code = '640221202204001'
      WHEN 'township' THEN c.township_code = '640221202'
      WHEN 'village' THEN c.village_code = '640221202204'
      WHEN 'water' THEN c.category = 'black_odorous_water'
      WHEN 'not_water' THEN c.category <> 'black_odorous_water'
      WHEN 'erquan' THEN c.assignee_unit_id = (SELECT id FROM unit WHERE code = '640221202-erquan')
      WHEN 'litong' THEN c.county_code = '640302'
           AND c.assignee_unit_id IS DISTINCT FROM (SELECT id FROM unit WHERE code = '640221202-erquan')
      END
ORDER BY EXISTS (SELECT 1 FROM case_reporter r WHERE r.case_id = c.id AND r.phone IS NOT NULL) DESC, c.id
LIMIT 1
""")
FIXED_SQL: Final = text("""
SELECT (SELECT min(id) FROM project WHERE category = 'road_project') AS project,
       (SELECT min(id) FROM facility WHERE category = 'monitoring_station') AS facility,
       (SELECT min(id) FROM campaign) AS campaign,
       (SELECT min(code) FROM region WHERE level = 'grid' AND county_code = '640302') AS litong_grid,
       to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
       (SELECT ST_X(p) FROM (SELECT ST_PointOnSurface(geom) p FROM region WHERE code = '640221202204001') s) AS lon,
       (SELECT ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM region WHERE code = '640221202204001') s) AS lat
""")
CASE_COLLECTION_SQL: Final = text("""
SELECT category || CASE ST_Dimension(geom) WHEN 0 THEN '_points' WHEN 1 THEN '_lines' ELSE '_polygons' END
FROM cases WHERE id = :id
""")
OWN_GRID: Final = "640221202204001"
LITONG: Final = "640302"
#: Roles whose areas do not reach 利通区 (so its grids and the county are "other" to them).
PINGLUO_ONLY: Final = frozenset({GM, INSP, VILLAGE, CONTRACTOR})


@dataclass(frozen=True)
class Sample:
    """Concrete path values from the sample: per role its own and other case, grid and area."""

    fixed: dict[str, Any]
    places: dict[tuple[str, str], dict[str, Any]]  # (role, "own"/"other") → {case, case_collection, grid, area}


def find_sample(conn: Connection) -> Sample:
    """Pick the objects of the matrix from the sample with SQL (same rows each run)."""
    row = conn.execute(FIXED_SQL).mappings().one()
    fixed: dict[str, Any] = dict(row) | {
        "photo": "0" * 64,
        "contractor": "640221202-erquan",
        "collection": "garbage_point_points",
    }
    fixed["tile"] = _tile_of(float(row["lon"]), float(row["lat"]), 12)
    places: dict[tuple[str, str], dict[str, Any]] = {}
    for role, (own, other) in CASE_SCOPE.items():
        areas = AREAS.get(role, ["640221202"])
        outside = role in PINGLUO_ONLY or role == ANON
        for where, rule, grid, area in (
            ("own", own, OWN_GRID, areas[0]),
            ("other", other, fixed["litong_grid"] if outside else None, LITONG if outside else None),
        ):
            case = conn.execute(CASE_SQL, {"rule": rule}).scalar_one_or_none() if rule else None
            collection = conn.execute(CASE_COLLECTION_SQL, {"id": case}).scalar_one() if case else None
            places[(role, where)] = {"case": case, "case_collection": collection, "grid": grid, "area": area}
    return Sample(fixed, places)


def _tile_of(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"{z}/{x}/{y}"


PLACE_KEYS: Final = ("{case}", "{case_collection}", "{grid}", "{area}")


def probes(sample: Sample) -> list[Probe]:
    """One request per (operation, role, own/other); "any" when the operation names no object."""
    out: list[Probe] = []
    for label in MATRIX:
        template, body = REQUESTS[label]
        method = label.split(" ", 1)[0]
        placed = any(key in template for key in PLACE_KEYS) or body == "patrol"
        for role in ROLES:
            for where in ("own", "other") if placed else ("any",):
                place = sample.places[(role, "own" if where == "any" else where)]
                needed = [key.strip("{}") for key in PLACE_KEYS if key in template] + (
                    ["grid"] if body == "patrol" else []
                )
                if any(place[key] is None for key in needed if key in place):
                    continue
                values = sample.fixed | place
                out.append(Probe(label, role, where, method, template.format(**values), body, values))
    return out


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 130, 90)).save(out, "JPEG")
    return out.getvalue()


def request_kwargs(probe: Probe, password: str) -> dict[str, Any]:
    """The minimal body of ``probe`` (schema-valid where it can be), as TestClient keyword arguments."""
    v = probe.values
    here = {"type": "Point", "coordinates": [v["lon"], v["lat"]]}
    step = [v["lon"] + 0.0005, v["lat"]]
    pw = "authz-matrix-pass-1"
    bodies: dict[str, dict[str, Any]] = {
        "token": {"data": {"username": "demo-viewer", "password": password}},
        "password_change": {"json": {"old_password": password, "new_password": pw}},
        "new_user": {"json": {"username": "authz-probe", "display_name": "探针", "role": "viewer", "password": pw,
                              "areas": ["640221"]}},
        "password_reset": {"json": {"new_password": pw}},
        "grid_manager": {"json": {"username": "demo-grid-manager"}},
        "report": {"json": {"category": "garbage_point", "geometry": here, "description": "权限矩阵 authz"}},
        "photo": {"files": {"file": ("p.jpg", _jpeg(), "image/jpeg")}},
        "import": {"files": {"file": ("c.csv", f"category,lon,lat\ngarbage_point,{v['lon']},{v['lat']}\n".encode(),
                                      "text/csv")}},
        "scores": {"json": {"month": v["month"], "items": {"collection": 27}}},
        "open311": {"data": {"api_key": "authz-not-a-key", "service_code": "garbage_point", "lat": str(v["lat"]),
                             "long": str(v["lon"])}},
        "patrol": {"json": {"grid_code": v["grid"], "track": {"type": "LineString", "coordinates": [
            here["coordinates"], step]}}},
        "progress": {"json": {"note": "权限矩阵 authz"}},
        "facility_status": {"json": {"state": "working", "note": "权限矩阵 authz"}},
        "action": {"json": {"version": 1}},
    }  # fmt: skip
    return bodies.get(probe.body, {})


def readable_text(content: bytes) -> str:
    """The text of an answer, with the members of a ZIP (XLSX, zipped shapefile) unpacked."""
    if not content.startswith(b"PK"):
        return content.decode("utf-8", errors="replace")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist())
