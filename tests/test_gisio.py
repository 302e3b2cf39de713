"""GIS files out and back in (空间数据往返): every format with its CRS, into an empty database.

Each format exports the cases of one 利通区 township from the session database and imports them
into a scratch database that holds the same regions but none of those cases; the imported cases
must be the same (category, subtype, status, dates, units, attributes, village, geometry).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from gis.settings import Settings
from tests.conftest import NOW
from tests.databases import sample_database
from tests.lifecycle import login

# format, output CRS, the 利通区 township whose cases make the trip
TRIPS = [
    ("geojson", None, "640302100"),
    ("gpkg", "EPSG:4545", "640302101"),
    ("shp.zip", "EPSG:4544", "640302102"),
    ("kml", None, "640302104"),
    ("csv", "GCJ-02", "640302105"),
    ("xlsx", None, "640302200"),
]
COMPARED = """
SELECT c.code, c.category, c.subtype, c.status, c.title, c.description, c.deadline, c.review_on, c.village_code,
       c.attributes::text, extract(epoch FROM c.reported_at)::float8 AS reported,
       extract(epoch FROM c.closed_at)::float8 AS closed, lu.name AS lead,
       (SELECT string_agg(u.name, '、' ORDER BY u.name) FROM unit u WHERE u.id = ANY (c.responsible_unit_ids)) AS resp,
       ST_AsText(c.geom) AS wkt, c.external_id
FROM cases c LEFT JOIN unit lu ON lu.id = c.lead_unit_id
"""


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Engine]]:
    """A scratch database with the sample's regions, units and accounts but no 利通区 cases."""
    photos = tmp_path_factory.mktemp("photos-gisio")
    with (
        sample_database("gisio", now=NOW, cases=0, photo_dir=photos) as (settings, engine),
        TestClient(create_app(settings)) as client,
    ):
        yield client, engine


def exported(client: TestClient, fmt: str, crs: str | None, area: str) -> bytes:
    params = {"area": area} | ({"crs": crs} if crs else {})
    response = client.get(f"/exports/cases.{fmt}", params=params, headers=login(client, "demo-admin"))
    assert response.status_code == 200, response.text
    assert int(response.headers["x-count"]) > 0
    return response.content


def imported(client: TestClient, name: str, data: bytes, form: dict[str, str], *, dry_run: bool = False) -> Any:
    return client.post(
        "/imports",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, data)},
        data=form,
        headers=login(client, "demo-admin"),
    )


def _rows(conn: Connection, where: str, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(text(COMPARED + where), params).mappings().all()
    return {str(r["external_id"] or r["code"]): dict(r) for r in rows}


def same_cases(conn: Connection, engine: Engine, area: str, batch: int) -> None:
    before = _rows(conn, "WHERE c.township_code = :a", {"a": area})
    with engine.connect() as other:
        after = _rows(other, "WHERE c.import_batch_id = :b", {"b": batch})
        hausdorff = {
            key: other.execute(
                text("SELECT ST_HausdorffDistance(ST_GeomFromText(:a, 4326), ST_GeomFromText(:b, 4326))"),
                {"a": before[key]["wkt"], "b": after[key]["wkt"]},
            ).scalar_one()
            for key in after
        }
    assert set(after) == set(before)
    for key, old in before.items():
        new = after[key]
        for field in (
            "category",
            "subtype",
            "status",
            "title",
            "description",
            "deadline",
            "review_on",
            "village_code",
            "attributes",
            "lead",
            "resp",
        ):
            assert new[field] == old[field], (key, field)
        for field in ("reported", "closed"):  # GDAL keeps times to the millisecond; CSV/XLSX to the second
            assert new[field] == pytest.approx(old[field], abs=1.0) if old[field] else new[field] is None, (key, field)
        assert hausdorff[key] < 1e-6, (key, old["wkt"], new["wkt"])


@pytest.mark.parametrize(("fmt", "crs", "area"), TRIPS)
def test_round_trip_with_crs(
    client: TestClient, conn: Connection, empty: tuple[TestClient, Engine], fmt: str, crs: str | None, area: str
) -> None:
    target, engine = empty
    data = exported(client, fmt, crs, area)
    form = {"crs": crs} if fmt == "csv" and crs else {}
    dry = imported(target, f"cases.{fmt}", data, form, dry_run=True)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["ok"] and report["created"] == 0 and report["would_create"] == report["rows"] > 0
    if crs and fmt != "csv":
        assert report["crs"]["file"] == crs, "the CRS is read from the file"
    done = imported(target, f"cases.{fmt}", data, form)
    assert done.status_code == 201, done.text
    assert done.json()["created"] == report["rows"] and done.json()["batch_id"]
    same_cases(conn, engine, area, done.json()["batch_id"])
    again = imported(target, f"cases.{fmt}", data, form).json()
    assert again["created"] == 0 and again["unchanged"] == report["rows"] and again["batch_id"] is None


def test_imported_cases_have_a_report_event_with_the_batch(empty: tuple[TestClient, Engine]) -> None:
    _client, engine = empty
    with engine.connect() as conn:
        missing = conn.execute(
            text("""
            SELECT count(*) FROM cases c WHERE c.import_batch_id IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'report'
                AND (e.data ->> 'batch_id')::bigint = c.import_batch_id)""")
        ).scalar_one()
        states = conn.execute(
            text("""
            SELECT count(*) FROM cases c WHERE c.import_batch_id IS NOT NULL AND c.status <> (
              SELECT e.to_status FROM case_event e WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1)""")
        ).scalar_one()
    assert missing == 0 and states == 0


def test_shapefile_names_fit_ten_bytes_with_cpg_and_prj(client: TestClient) -> None:
    data = exported(client, "shp.zip", "EPSG:4545", "640302103")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        cpg = {n: archive.read(n).decode() for n in names if n.endswith(".cpg")}
    assert cpg and all(v.strip().upper() in ("UTF-8", "UTF8") for v in cpg.values())
    assert any(n.endswith(".prj") for n in names)
    info = pyogrio.read_info(f"/vsizip/{_saved(data)}/{next(n for n in names if n.endswith('.shp'))}")
    assert all(len(str(f).encode()) <= 10 for f in info["fields"]) and "cat_label" in list(info["fields"])
    assert info["crs"] == "EPSG:4545"


def _saved(data: bytes) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "cases.zip"
    path.write_bytes(data)
    return path


def test_geojson_and_gpkg_keep_full_names(client: TestClient, tmp_path: Path) -> None:
    gpkg = tmp_path / "cases.gpkg"
    gpkg.write_bytes(exported(client, "gpkg", None, "640302103"))
    fields = list(pyogrio.read_info(gpkg)["fields"])
    assert {"category_label", "responsible_units", "location_approximate"} <= set(fields)
    geojson = client.get("/exports/cases.geojson", params={"area": "640302103"}, headers=login(client, "demo-admin"))
    feature = geojson.json()["features"][0]
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert {"category_label", "responsible_units"} <= set(feature["properties"])


def test_exports_need_an_account_and_a_known_format(client: TestClient) -> None:
    assert client.get("/exports/cases.geojson").status_code == 401
    admin = login(client, "demo-admin")
    assert client.get("/exports/cases.dwg", headers=admin).status_code == 400
    projected = client.get("/exports/cases.geojson", params={"crs": "EPSG:4545"}, headers=admin)
    assert projected.status_code == 400 and projected.json()["parameter"] == "crs"
    scoped = client.get("/exports/cases.geojson", params={"area": "640302103"}, headers=login(client, "demo-inspector"))
    assert scoped.status_code == 200 and scoped.json()["features"] == [], "an inspector of 渠口乡 sees none of 利通区"


def test_cli_export_and_dry_run_import(settings: Settings, sample: object, tmp_path: Path) -> None:
    del sample
    env = {"VILLAGEMAP_DATABASE_URL": settings.database_url}
    out = tmp_path / "cases.gpkg"
    export = CliRunner().invoke(
        cli, ["export", "gpkg", "-o", str(out), "--area", "640302103", "--crs", "EPSG:4545"], env=env
    )
    assert export.exit_code == 0, export.output
    dry = CliRunner().invoke(cli, ["import", str(out), "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert '"unchanged"' in dry.output and "would import: 0" in dry.output
    as_admin = CliRunner().invoke(cli, ["import", str(out), "--dry-run", "--user", "Demo-Admin"], env=env)
    assert as_admin.exit_code == 0, as_admin.output
    nobody = CliRunner().invoke(cli, ["import", str(out), "--dry-run", "--user", "nobody"], env=env)
    assert nobody.exit_code != 0 and "no active user nobody" in nobody.output
