"""Fail fast (快速失败): the heaviest requests a client can make end with an answer, never a hang or a 500.

A z0 tile of everything, a whole-world bbox with a huge limit, a vertex bomb in a POST and CQL2 bombs
(deep brackets, long NOT chains, thousands of terms) are either answered within the limits or refused
with a 4xx that says what to change. When the database is slow (here: a table held locked by another
session), ``statement_timeout`` turns the wait into a 503 that says to narrow the query.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from data.load import LoadReport
from gis.settings import Settings
from tests.lifecycle import login

TIMEOUT_MS = 800
ITEMS = "/collections/garbage_point_points/items"


@pytest.fixture(scope="module")
def app_client(settings: Settings, sample: LoadReport) -> Iterator[TestClient]:
    """The app on the committed sample database, with a short statement timeout."""
    del sample
    fast = settings.model_copy(update={"statement_timeout_ms": TIMEOUT_MS})
    with TestClient(create_app(fast)) as client:
        yield client


@pytest.fixture(scope="module")
def admin(app_client: TestClient) -> dict[str, str]:
    return login(app_client, "demo-admin")


def _collections(client: TestClient) -> list[str]:
    return [str(c["id"]) for c in client.get("/collections").json()["collections"]]


def _is_problem(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    text_all = " ".join(str(body.get(k, "")) for k in ("detail", "detail_zh", "description", "description_zh"))
    assert all(word in text_all for word in words), body


def test_app_sessions_carry_the_statement_timeout(app_client: TestClient) -> None:
    engine: Engine = app_client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == f"{TIMEOUT_MS}ms"


def test_z0_tiles_of_everything_complete(app_client: TestClient, admin: dict[str, str]) -> None:
    paths = ["/tiles/WebMercatorQuad/0/0/0"] + [
        f"/collections/{c}/tiles/WebMercatorQuad/0/0/0" for c in _collections(app_client)
    ]
    for path in paths:
        response = app_client.get(path, headers=admin)
        assert response.status_code == 200, (path, response.text[:200])
        assert response.headers["content-type"].startswith("application/vnd.mapbox-vector-tile")
    assert len(app_client.get(paths[0], headers=admin).content) > 1000


def test_whole_world_bbox_with_a_huge_limit_is_one_bounded_page(app_client: TestClient, admin: dict[str, str]) -> None:
    settings: Settings = app_client.app.state.settings  # type: ignore[attr-defined]
    for collection in _collections(app_client):
        response = app_client.get(
            f"/collections/{collection}/items", params={"bbox": "-180,-90,180,90", "limit": 10**12}, headers=admin
        )
        assert response.status_code == 200, (collection, response.text[:200])
        assert response.json()["numberReturned"] <= settings.max_limit
    page = app_client.get(ITEMS, params={"bbox": "-180,-90,180,90", "limit": 10**12}).json()
    assert page["numberReturned"] == settings.max_limit and any(link["rel"] == "next" for link in page["links"])


def _case_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM cases")).scalar_one())


def test_vertex_bombs_are_refused_before_anything_is_written(
    app_client: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    before = _case_count(engine)
    ring = [[106.0 + (i % 500) * 1e-4, 38.0 + (i // 500) * 1e-4] for i in range(200_000)]
    bomb = {"category": "black_odorous_water", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}
    _is_problem(app_client.post("/cases", json=bomb, headers=admin), 422, "200001", "10000", "上限")
    line = {"type": "LineString", "coordinates": ring[:50_000]}
    _is_problem(app_client.post("/cases", json={"category": "black_odorous_water", "geometry": line}, headers=admin),
                422, "50000", "simplify")  # fmt: skip
    assert _case_count(engine) == before


CQL2_BOMBS = {
    "deep brackets (crashed the parser)": "(" * 3000 + "status = 'closed'" + ")" * 3000,
    "long NOT chain (crashed the parser)": "NOT " * 4990 + "status = 'closed'",
    "deep CASEI": "CASEI(" * 500 + "status" + ")" * 500 + " = 'closed'",
    "deep value brackets": "status = " + "(" * 3000 + "'closed'" + ")" * 3000,
    "thousands of OR terms": " OR ".join(f"status = 's{i}'" for i in range(900)),
}


@pytest.mark.parametrize("name", list(CQL2_BOMBS))
def test_cql2_text_bombs_are_refused_with_a_400(app_client: TestClient, name: str) -> None:
    raw = CQL2_BOMBS[name][:19_999]
    _is_problem(app_client.get(ITEMS, params={"filter": raw}), 400, "filter", "过滤条件")
    assert app_client.get("/healthz").status_code == 200


def test_cql2_json_bombs_and_oversized_filters_are_refused(app_client: TestClient) -> None:
    deep = '{"op":"not","args":[' * 300 + '{"op":"=","args":[{"property":"status"},"x"]}' + "]}" * 300
    _is_problem(app_client.get(ITEMS, params={"filter": deep, "filter-lang": "cql2-json"}), 400, "filter")
    wide = {"op": "in", "args": [{"property": "status"}, [f"{i}" for i in range(2500)]]}
    _is_problem(
        app_client.get(ITEMS, params={"filter": json.dumps(wide, separators=(",", ":")), "filter-lang": "cql2-json"}),
        400,
        "too complex",
    )
    _is_problem(app_client.get(ITEMS, params={"filter": "status = 'x' AND " * 1300 + "true"}), 400, "too long")
    plain = app_client.get(ITEMS, params={"filter": "NOT (status = 'closed' OR status IN ('a', 'b'))"})
    assert plain.status_code == 200


@pytest.fixture
def locked(engine: Engine) -> Iterator[None]:
    """Another session holds every table of features locked: reads must wait for it."""
    with engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("LOCK TABLE cases, region, project, facility IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            tx.rollback()


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize(
    "path", ["/tiles/WebMercatorQuad/0/0/0", "/collections/grids/tiles/WebMercatorQuad/0/0/0", ITEMS]
)
def test_a_query_that_waits_gets_a_503_not_a_hang(app_client: TestClient, path: str) -> None:
    response = app_client.get(path, params={"bbox": "-180,-90,180,90"} if path == ITEMS else None)
    _is_problem(response, 503, "查询超时", "timed out", "narrow")
