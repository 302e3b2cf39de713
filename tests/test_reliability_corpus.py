"""The bad-input corpus (错误输入语料): every named case is a 4xx with a bilingual message, and no
table of the public schema gains or loses a row; SQL-injection payloads in every text and filter
parameter are refused or taken as plain text, never as SQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.app import create_app
from gis.settings import Settings
from reliability.corpus import (
    ACCEPTED_AS_TEXT,
    INJECTIONS,
    NAMES,
    TABLE_COUNTS_SQL,
    BadRequest,
    corpus,
    injected_request,
    injection_targets,
)
from tests.lifecycle import grid_point, login

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def table_counts(conn: Connection) -> dict[str, int]:
    counts = {str(name): int(n) for name, n in conn.execute(text(TABLE_COUNTS_SQL))}
    assert {"cases", "case_event", "app_user"} <= set(counts)
    return counts


def bilingual(response: Any) -> tuple[str, str]:
    """The (Chinese, English) message of an error, in the app's, OGC's or Open311's shape."""
    body = response.json()
    if isinstance(body, list):  # Open311 GeoReport v2: [{"code", "description": "中文 / English"}]
        zh, _, en = body[0]["description"].partition(" / ")
        return zh, en
    return body["detail_zh"], body["detail"]


def send(client: TestClient, request: BadRequest) -> Any:
    headers = login(client, request.user) if request.user else {}
    if request.content is not None:
        headers |= {"Content-Type": "application/json"}
    return client.request(
        request.method,
        request.path,
        params=request.params,
        json=request.json,
        content=request.content,
        files=request.files,
        data=request.data,
        headers=headers,
    )


def assert_clear_refusal(response: Any, status: int) -> None:
    assert response.status_code == status, response.text[:600]
    zh, en = bilingual(response)
    assert CJK.search(zh) and LATIN.search(en) and zh != en, response.text[:600]


def test_the_corpus_is_big_enough() -> None:
    assert len(NAMES) >= 40 and len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_refused_and_stores_nothing(client: TestClient, conn: Connection, name: str) -> None:
    request = corpus(grid_point(conn))[name]
    before = table_counts(conn)
    assert_clear_refusal(send(client, request), request.status)
    assert table_counts(conn) == before


TARGETS = injection_targets(create_app(Settings()).openapi())


@pytest.mark.parametrize(("path", "where", "name"), TARGETS, ids=[f"{p} {n}" for p, _w, n in TARGETS])
def test_sql_injection_in_every_read_parameter(
    client: TestClient, conn: Connection, path: str, where: str, name: str
) -> None:
    """Each payload is refused with a clear 4xx, or read as plain text: never SQL, never a 5xx."""
    headers = login(client, "demo-admin")
    before = table_counts(conn)
    for payload in INJECTIONS.values():
        url, query = injected_request(path, where, name, payload)
        response = client.get(url, params=query, headers=headers)
        assert response.status_code < 500, (payload, response.text[:400])
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            zh, en = bilingual(response)
            assert CJK.search(zh) and LATIN.search(en), response.text[:400]
        elif response.status_code < 300:
            assert ACCEPTED_AS_TEXT.get(path, set()) >= {name}, (
                f"{name}={payload!r} was accepted: {response.text[:300]}"
            )
    assert table_counts(conn) == before


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after if after[name] != before.get(name)}


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_sql_injection_in_write_bodies_is_stored_as_plain_text(
    client: TestClient, conn: Connection, payload: str
) -> None:
    """Free text of a report and of an action's note keeps the payload verbatim; only the case and
    its events are written. In a coded field (category, subtype, CRS) the payload is a clear 4xx."""
    headers = login(client, "demo-admin")
    lon, lat = grid_point(conn)
    point = {"type": "Point", "coordinates": [lon, lat]}
    before = table_counts(conn)
    for field, status in (("category", 422), ("subtype", 422), ("crs", 400)):
        body = {"category": "garbage_point", "geometry": point, field: payload}
        assert_clear_refusal(client.post("/cases", json=body, headers=headers), status)
    assert table_counts(conn) == before
    body = {"category": "garbage_point", "geometry": point, "title": payload, "description": payload,
            "reporter": {"name": payload[:50]}}  # fmt: skip
    created = client.post("/cases", json=body, headers=headers)
    assert created.status_code == 201, created.text[:400]
    case_id = created.json()["id"]
    acted = client.post(f"/cases/{case_id}/register", json={"note": payload, "version": 1}, headers=headers)
    assert acted.status_code == 200, acted.text[:400]
    stored = conn.execute(
        text(
            "SELECT c.title, c.description, r.name FROM cases c"
            " JOIN case_reporter r ON r.case_id = c.id WHERE c.id = :id"
        ),
        {"id": case_id},
    ).one()
    assert tuple(stored) == (payload, payload, payload[:50])
    notes = conn.execute(text("SELECT note FROM case_event WHERE case_id = :id ORDER BY id"), {"id": case_id})
    assert payload in [n for (n,) in notes]
    assert changed(before, table_counts(conn)) == {"cases": 1, "case_event": 2, "case_reporter": 1}
