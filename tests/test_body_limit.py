"""JSON request bodies over the limit (请求体过大) get a bilingual 413 before anything parses them,
whether the size is declared (Content-Length) or only seen while the body streams in; nothing is
written. Bodies under the limit and non-JSON uploads pass through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.app import create_app
from gis.settings import Settings
from tests.conftest import on_connection
from tests.lifecycle import grid_point, login

LIMIT = 64 * 1024


@pytest.fixture
def small_client(settings: Settings, conn: Connection) -> Iterator[TestClient]:
    with on_connection(create_app(settings.model_copy(update={"max_json_bytes": LIMIT})), conn) as client:
        yield client


def polygon_report(lon: float, lat: float, vertices: int) -> bytes:
    ring = [[lon + 0.001 * (k % 2), lat + 0.000001 * k] for k in range(vertices)] + [[lon, lat]]
    body = {"category": "garbage_point", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    return json.dumps(body).encode()


def count_cases(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM cases")).scalar_one())


def assert_413(response: Any) -> None:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert "MB" in body["detail_zh"] and "请求体" in body["detail_zh"]
    assert "limit" in body["detail"] and body["limit_bytes"] == LIMIT


def test_declared_oversize_json_is_refused_at_once(small_client: TestClient, conn: Connection) -> None:
    headers = login(small_client, "demo-admin") | {"Content-Type": "application/json"}
    before = count_cases(conn)
    body = polygon_report(*grid_point(conn), vertices=5_000)
    assert len(body) > LIMIT
    assert_413(small_client.post("/cases", content=body, headers=headers))
    assert count_cases(conn) == before


def test_streamed_oversize_json_is_refused(small_client: TestClient, conn: Connection) -> None:
    headers = login(small_client, "demo-admin") | {"Content-Type": "application/geo+json"}
    body = polygon_report(*grid_point(conn), vertices=5_000)

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    before = count_cases(conn)
    assert_413(small_client.post("/cases", content=chunks(), headers=headers))
    assert count_cases(conn) == before


def test_bodies_under_the_limit_and_forms_pass(small_client: TestClient, conn: Connection) -> None:
    headers = login(small_client, "demo-admin")
    lon, lat = grid_point(conn)
    point = {"category": "garbage_point", "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    assert small_client.post("/cases", json=point, headers=headers).status_code == 201
    big_form = {"username": "demo-admin", "password": "demo", "padding": "x" * (2 * LIMIT)}
    assert small_client.post("/auth/token", data=big_form).status_code == 200
