"""Bad files (问题文件): each gets a clear report in Chinese and English, and nothing is imported."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pyogrio  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

import geopandas as gpd
import shapely

from gis.gisio.limits import MAX_FILE_BYTES, check_file
from gis.gisio.report import BadFile
from tests.lifecycle import counts, grid_point, login

Files = dict[str, bytes]


def post(
    client: TestClient, name: str, data: bytes, user: str = "demo-admin", dry_run: bool = False, **form: str
) -> Any:
    return client.post(
        "/imports",
        params={"dry_run": str(dry_run).lower()},
        files={"file": (name, data)},
        data=form,
        headers=login(client, user),
    )


def geojson(features: list[tuple[dict[str, Any], dict[str, Any]]]) -> bytes:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    return json.dumps(collection, ensure_ascii=False).encode()


def zipped(members: Files) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def shapefile(tmp_path: Path, values: list[str], encoding: str, cpg: str | None, lonlat: tuple[float, float]) -> bytes:
    frame = gpd.GeoDataFrame(
        {"问题类型": values, "描述": ["路边草堆"] * len(values)},
        geometry=[shapely.Point(*lonlat)] * len(values),
        crs="EPSG:4326",
    )
    path = tmp_path / "pts.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    members = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "pts" and p.suffix != ".cpg"}
    if cpg is not None:
        members["pts.cpg"] = cpg.encode()
    return zipped(members)


def rejected(response: Any, code: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    codes = [e["code"] for e in body["report"]["errors"]]
    assert code in codes, codes
    error: dict[str, Any] = next(e for e in body["report"]["errors"] if e["code"] == code)
    assert error["problem_zh"] and error["problem_en"] and body["detail_zh"] and body["detail"]
    return error


def test_corrupt_and_truncated_files(client: TestClient, conn: Connection) -> None:
    before = counts(conn)
    gpkg = client.get("/exports/cases.gpkg", params={"area": "640302103"}, headers=login(client, "demo-admin")).content
    rejected(post(client, "cases.gpkg", gpkg[: len(gpkg) // 2]), "corrupt")
    text = geojson([({"type": "Point", "coordinates": [106.5, 38.9]}, {"问题类型": "垃圾点"})])
    rejected(post(client, "cases.geojson", text[:-20]), "corrupt")
    rejected(post(client, "cases.zip", b"PK\x03\x04" + b"\x00" * 100), "corrupt")
    rejected(post(client, "cases.xlsx", zipped({"[Content_Types].xml": b"<x/>"})), "corrupt")
    rejected(post(client, "empty.csv", b""), "empty")
    rejected(post(client, "random.bin", bytes(range(256)) * 4), "unknown_format")
    rejected(post(client, "cases.gpkg", text), "wrong_extension")
    assert counts(conn) == before


def test_archives_that_explode_or_escape(client: TestClient, conn: Connection) -> None:
    before = counts(conn)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("a.shp", "w") as member:
        for _ in range(80):
            member.write(b"\x00" * (1 << 20))
    assert len(bomb.getvalue()) < 1 << 20
    error = rejected(post(client, "bomb.zip", bomb.getvalue()), "archive_bomb")
    assert "压缩炸弹" in error["problem_zh"]
    rejected(post(client, "evil.zip", zipped({"../evil.shp": b"x", "evil.dbf": b"y"})), "archive_path")
    assert counts(conn) == before


def test_oversize_files_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.geojson"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(BadFile) as caught:
        check_file(big, "big.geojson")
    assert caught.value.code == "too_large" and "拆分" in caught.value.detail_zh


def test_encodings(client: TestClient, conn: Connection, tmp_path: Path) -> None:
    here = grid_point(conn)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    liar = shapefile(tmp_path / "a", ["垃圾点"], "GBK", "UTF-8", here)
    error = rejected(post(client, "gbk.zip", liar), "encoding")
    assert ".cpg" in error["problem_zh"]
    plain_gbk = shapefile(tmp_path / "b", ["垃圾点", "垃圾点"], "GBK", None, here)
    fine = post(client, "gbk.zip", plain_gbk, dry_run=True)
    assert fine.status_code == 200 and fine.json()["encoding"] == "GBK" and fine.json()["would_create"] == 1
    gbk_geojson = (
        geojson([({"type": "Point", "coordinates": list(here)}, {"问题类型": "垃圾点"})]).decode().encode("gbk")
    )
    rejected(post(client, "gbk.geojson", gbk_geojson), "encoding")
    csv_gbk = f"问题类型,经度,纬度,问题描述\n垃圾点,{here[0]},{here[1]},村边垃圾堆\n".encode("gbk")
    ok = post(client, "excel.csv", csv_gbk, dry_run=True)
    assert ok.status_code == 200 and ok.json()["encoding"] == "GB18030"


def test_missing_columns(client: TestClient, conn: Connection) -> None:
    lon, lat = grid_point(conn)
    rejected(post(client, "a.csv", f"描述,经度,纬度\n草堆,{lon},{lat}\n".encode()), "missing_columns")
    nowhere = rejected(post(client, "b.csv", "问题类型,问题描述\n垃圾点,没有位置\n".encode()), "no_location")
    assert nowhere["row"] == 2
    half = post(client, "c.csv", f"问题类型,经度\n垃圾点,{lon}\n".encode())
    rejected(half, "missing_columns")


def test_geometry_problems_are_reported_per_row(client: TestClient, conn: Connection) -> None:
    lon, lat = grid_point(conn)
    bowtie = [[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]]
    features: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"type": "Point", "coordinates": [lon, lat]}, {"问题类型": "垃圾点"}),
        ({"type": "Polygon", "coordinates": [bowtie]}, {"问题类型": "垃圾点"}),
        ({"type": "Polygon", "coordinates": [bowtie]}, {"问题类型": "残垣断壁"}),
        ({"type": "Point", "coordinates": [116.4, 39.9]}, {"问题类型": "垃圾点"}),
        ({"type": "Point", "coordinates": [lat, lon]}, {"问题类型": "垃圾点"}),
    ]
    before = counts(conn)
    response = post(client, "mixed.geojson", geojson(features))
    assert response.status_code == 422 and counts(conn) == before
    found = {(e["row"], e["code"]) for e in response.json()["report"]["errors"]}
    assert found == {(2, "geometry_type"), (3, "invalid_geometry"), (4, "outside_counties"), (5, "out_of_range")}
    outside = next(e for e in response.json()["report"]["errors"] if e["code"] == "outside_counties")
    assert "米" in outside["problem_zh"] and " m away" in outside["problem_en"]
    metres = f"问题类型,X,Y\n垃圾点,{36500000.0 + 1.0},{4300000.0}\n".encode()
    projected = rejected(post(client, "m.csv", metres), "out_of_range")
    assert "crs" in projected["problem_zh"]


def test_scope_roles_and_dry_runs(client: TestClient, conn: Connection) -> None:
    lon, lat = 106.25, 37.85  # 扁担沟镇, 利通区
    data = f"问题类型,经度,纬度\n垃圾点,{lon},{lat}\n".encode()
    assert post(client, "a.csv", data, user="demo-grid-manager").status_code == 403
    error = rejected(post(client, "a.csv", data, user="demo-inspector"), "out_of_scope")
    assert "不在您负责的区域内" in error["problem_zh"]
    before = counts(conn)
    dry = post(client, "a.csv", data, dry_run=True)
    assert dry.status_code == 200 and dry.json()["would_create"] == 1 and counts(conn) == before
    assert client.post("/imports", files={"file": ("a.csv", data)}).status_code == 401


def test_mapping_and_category_options(client: TestClient, conn: Connection) -> None:
    lon, lat = grid_point(conn)
    data = f"TYPE_X,MEMO,E,N\n草堆,路边草堆,{lon},{lat}\n".encode()
    mapped = post(client, "m.csv", data, dry_run=True, mapping="TYPE_X=subtype,MEMO=description,E=lon,N=lat")
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["mapping"] == {"TYPE_X": "subtype", "MEMO": "description", "E": "lon", "N": "lat"}
    fixed = post(
        client, "f.csv", f"描述,经度,纬度\n路边,{lon},{lat}\n".encode(), dry_run=True, category="garbage_point"
    )
    assert fixed.status_code == 200 and fixed.json()["would_create"] == 1
    rejected(post(client, "m.csv", data, mapping="NOPE=category"), "bad_mapping")
    assert post(client, "m.csv", data, mapping="nonsense").status_code == 400
    unknown_crs = post(client, "m.csv", data, crs="EPSG:999999", mapping="TYPE_X=subtype,E=lon,N=lat")
    rejected(unknown_crs, "unknown_crs")
