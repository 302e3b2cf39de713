"""Helpers for the lifecycle tests (流转测试工具): sign in, upload, report, act, measure."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, text

from pyproj import Geod

from data.cases import SHANGHAI

GEOD = Geod(ellps="WGS84")
GRID = "640221202204001"  # demo-grid-manager's grid in 渠口乡 金桥村
CONTRACTOR_UNIT = "640221202-erquan"
Headers = dict[str, str]


def local_today() -> date:
    """Today in the townships' time zone (Asia/Shanghai), as deadlines are counted — not the machine's UTC day."""
    return datetime.now(SHANGHAI).date()


def login(client: TestClient, username: str, password: str = "demo") -> Headers:
    """Bearer headers for a demo account."""
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def jpeg(lonlat: tuple[float, float] | None = None, size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    """A small JPEG, optionally with EXIF GPS (WGS84) like a phone writes."""
    image = Image.new("RGB", size, (90 + seed % 100, 120, 80))
    exif = Image.Exif()
    if lonlat is not None:
        lon, lat = lonlat
        exif[0x8825] = {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def upload(client: TestClient, headers: Headers, data: bytes | None = None) -> str:
    """Upload a photo; returns its id."""
    response = client.post("/photos", files={"file": ("p.jpg", data or jpeg(), "image/jpeg")}, headers=headers)
    assert response.status_code == 201, response.text
    photo_id: str = response.json()["id"]
    return photo_id


def grid_point(conn: Connection, grid: str = GRID) -> tuple[float, float]:
    """A point well inside a grid (lon, lat)."""
    row = conn.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM region WHERE code = :g) s"),
        {"g": grid},
    ).one()
    return float(row[0]), float(row[1])


def moved(lonlat: tuple[float, float], azimuth: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` away on the ellipsoid along ``azimuth`` (degrees from north)."""
    lon, lat, _back = GEOD.fwd(lonlat[0], lonlat[1], azimuth, metres)
    return float(lon), float(lat)


def point(lonlat: tuple[float, float]) -> dict[str, Any]:
    """A GeoJSON Point."""
    return {"type": "Point", "coordinates": [lonlat[0], lonlat[1]]}


def report(
    client: TestClient, headers: Headers, geometry: dict[str, Any], category: str = "garbage_point", **extra: Any
) -> dict[str, Any]:
    """Report a case; returns the created Feature."""
    body = {"category": category, "geometry": geometry, **extra}
    response = client.post("/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    feature: dict[str, Any] = response.json()
    return feature


def act(
    client: TestClient, headers: Headers, case_id: int, action: str, expect: int = 200, **body: Any
) -> dict[str, Any]:
    """Do an action with the case's current version (unless the body names one)."""
    if "version" not in body:
        body["version"] = client.get(f"/cases/{case_id}").json()["properties"]["version"]
    response = client.post(f"/cases/{case_id}/{action}", json=body, headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def counts(conn: Connection) -> tuple[int, ...]:
    """Rows in the tables a write may touch: nothing may change after a refusal."""
    row = conn.execute(
        text("""SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_event),
                       (SELECT count(*) FROM case_reporter), (SELECT count(*) FROM photo),
                       (SELECT coalesce(sum(version), 0) FROM cases)""")
    ).one()
    return tuple(int(v) for v in row)


class Crew:
    """The demo accounts signed in, and a way to bring a new case to any state."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.grid_manager = login(client, "demo-grid-manager")
        self.inspector = login(client, "demo-inspector")
        self.contractor = login(client, "demo-contractor")
        self.admin = login(client, "demo-admin")

    def new_case(self, geometry: dict[str, Any], category: str = "garbage_point", **extra: Any) -> int:
        """A case reported by the grid manager."""
        return int(report(self.client, self.grid_manager, geometry, category, **extra)["id"])

    def to_state(self, case_id: int, state: str) -> None:
        """Walk a reported case forward to ``state`` along the main path."""
        steps = ["registered", "assigned", "in_progress", "resolved"]
        for target in steps[: steps.index(state) + 1]:
            self._step(case_id, target)

    def _step(self, case_id: int, target: str) -> None:
        c = self.client
        if target == "registered":
            act(c, self.inspector, case_id, "register")
        elif target == "assigned":
            act(c, self.inspector, case_id, "assign", assignee={"unit": CONTRACTOR_UNIT})
        elif target == "in_progress":
            act(c, self.contractor, case_id, "start")
        else:
            act(c, self.contractor, case_id, "resolve", photo_ids=[upload(c, self.contractor)])


def add_case(conn: Connection, category: str, wkt: str, status: str = "registered", deadline: str | None = None) -> int:
    """A case written straight into the grid GRID (no event: a fixture for reads); returns its id."""
    return int(
        conn.execute(
            text("""
            INSERT INTO cases (code, category, geom, county_code, township_code, village_code, grid_code,
                               status, title, reported_at, source, deadline)
            SELECT 'T-' || left(md5(random()::text), 20), CAST(:category AS text), ST_GeomFromText(:wkt, 4326),
                   left(:grid, 6), left(:grid, 9), left(:grid, 12), :grid, :status,
                   'test ' || CAST(:category AS text), now(), 'app', CAST(:deadline AS date)
            RETURNING id
            """),
            {"category": category, "wkt": wkt, "grid": GRID, "status": status, "deadline": deadline},
        ).scalar_one()
    )
