"""Retries, photos and concurrency on the write paths (幂等、照片、并发)."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, text

from api.app import create_app
from gis.db import make_engine
from gis.settings import Settings
from tests.conftest import NOW
from tests.databases import sample_database
from tests.lifecycle import Crew, counts, grid_point, jpeg, moved, point, upload
from tests.servers import serve_in_thread


@pytest.fixture
def crew(client: TestClient) -> Crew:
    return Crew(client)


def test_a_retried_report_creates_one_case(client: TestClient, conn: Connection, crew: Crew) -> None:
    body = {"category": "garbage_point", "geometry": point(grid_point(conn))}
    headers = crew.grid_manager | {"Idempotency-Key": "phone-42-report-1"}
    before = counts(conn)
    first = client.post("/cases", json=body, headers=headers)
    again = client.post("/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert counts(conn)[0] == before[0] + 1
    other = client.post("/cases", json=body | {"description": "不同"}, headers=headers)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    by_someone_else = client.post(
        "/cases", json=body, headers=crew.inspector | {"Idempotency-Key": "phone-42-report-1"}
    )
    assert by_someone_else.status_code == 201 and by_someone_else.json()["id"] != first.json()["id"]


def test_a_retried_close_out_is_replayed_not_refused(client: TestClient, conn: Connection, crew: Crew) -> None:
    here = grid_point(conn)
    case_id = crew.new_case(point(here))
    crew.to_state(case_id, "resolved")
    version = client.get(f"/cases/{case_id}").json()["properties"]["version"]
    body = {"version": version, "position": point(here), "accuracy_m": 5, "photo_ids": [upload(client, crew.inspector)]}
    headers = crew.inspector | {"Idempotency-Key": "close-7"}
    first = client.post(f"/cases/{case_id}/close", json=body, headers=headers)
    retry = client.post(f"/cases/{case_id}/close", json=body, headers=headers)
    assert first.status_code == retry.status_code == 200 and retry.json() == first.json()
    events = client.get(f"/cases/{case_id}/events").json()["events"]
    assert [e["action"] for e in events].count("close") == 1
    plain_retry = client.post(f"/cases/{case_id}/close", json=body, headers=crew.inspector)
    assert plain_retry.status_code == 409, "without the key a second close-out is a stale version"


def test_photo_upload_exif_and_served_copies(client: TestClient, conn: Connection, crew: Crew) -> None:
    here = grid_point(conn)
    data = jpeg(moved(here, 0, 15), size=(400, 300))
    uploaded = client.post("/photos", files={"file": ("a.jpg", data, "image/jpeg")}, headers=crew.grid_manager)
    assert uploaded.status_code == 201
    photo = uploaded.json()
    assert photo["exif_position"]["type"] == "Point" and photo["content_type"] == "image/jpeg"
    assert photo["exif_position"]["coordinates"] == pytest.approx(list(moved(here, 0, 15)), abs=1e-5)
    again = client.post("/photos", files={"file": ("b.jpg", data, "image/jpeg")}).json()
    assert again["id"] == photo["id"]
    n_photos = conn.execute(text("SELECT count(*) FROM photo WHERE id = :i"), {"i": photo["id"]}).scalar_one()
    assert n_photos == 1
    case_id = crew.new_case(point(here), photo_ids=[photo["id"]])
    listed = client.get(f"/cases/{case_id}/photos").json()["photos"]
    assert [p["id"] for p in listed] == [photo["id"]]
    served = client.get(listed[0]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert not image.getexif().get_ifd(0x8825) and b"GPS" not in served.content
    assert client.get(listed[0]["thumbnail_url"]).status_code == 200
    attached = client.post(
        f"/cases/{case_id}/photos", files=[("file", ("c.jpg", jpeg(seed=3), "image/jpeg"))], headers=crew.grid_manager
    )
    assert attached.status_code == 201
    assert len(client.get(f"/cases/{case_id}/photos").json()["photos"]) == 2
    assert client.get(f"/cases/{case_id}/events").json()["events"][-1]["action"] == "attach_photos"
    assert (
        client.post(f"/cases/{case_id}/photos", files=[("file", ("d.jpg", jpeg(seed=4), "image/jpeg"))]).status_code
        == 401  # the public is asked to sign in, before any upload is stored
    )


def test_private_category_photos_stay_within_scope(client: TestClient, conn: Connection, crew: Crew) -> None:
    photo = upload(client, crew.grid_manager, jpeg(seed=11))
    case_id = crew.new_case(point(grid_point(conn)), category="dilapidated_house", photo_ids=[photo])
    assert client.get(f"/cases/{case_id}/photos").status_code == 404
    assert client.get(f"/cases/{case_id}/photos/{photo}").status_code == 404
    assert client.get(f"/cases/{case_id}/photos", headers=crew.grid_manager).status_code == 200
    assert client.get(f"/cases/{case_id}/photos/{photo}", headers=crew.inspector).status_code == 200


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """A server on its own scratch database, for requests that really run at the same time."""
    photos = tmp_path_factory.mktemp("photos-concurrency")
    with (
        sample_database("concurrency", now=NOW, cases=300, photo_dir=photos) as (settings, _engine),
        serve_in_thread(create_app(settings)) as url,
    ):
        yield url, settings


def _post(url: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_two_close_outs_at_once_one_wins(committed: tuple[str, Settings]) -> None:
    url, settings = committed
    engine = make_engine(settings, pool_size=1)
    with TestClient(create_app(settings)) as client:
        crew = Crew(client)
        with engine.connect() as conn:
            here = grid_point(conn)
        case_id = crew.new_case(point(here))
        crew.to_state(case_id, "resolved")
        version = client.get(f"/cases/{case_id}").json()["properties"]["version"]
        photo = upload(client, crew.inspector)
    token = crew.inspector["Authorization"].split()[1]
    body = {"version": version, "position": point(here), "accuracy_m": 5, "photo_ids": [photo]}
    results: list[tuple[int, dict[str, Any]]] = []
    threads = [
        threading.Thread(target=lambda: results.append(_post(f"{url}/cases/{case_id}/close", body, token)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 409]
    with engine.connect() as conn:
        closes = conn.execute(
            text("SELECT count(*) FROM case_event WHERE case_id = :i AND action = 'close'"), {"i": case_id}
        ).scalar_one()
    engine.dispose()
    assert closes == 1
