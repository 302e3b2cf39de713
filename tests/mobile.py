"""Helpers for the field-page browser tests (移动端测试工具): a server of their own, phones, photos."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Geolocation, Page
from sqlalchemy import Connection, Engine

from api.app import create_app
from tests.browser import PageProbe
from tests.conftest import NOW
from tests.databases import sample_database
from tests.lifecycle import _dms
from tests.servers import serve_in_thread

EXIF_TIME = "2024:05:01 10:20:30"


@dataclass
class FieldServer:
    """A real server on its own scratch database (writes commit there), with an API client and SQL."""

    url: str
    client: TestClient
    engine: Engine

    def sql(self) -> Any:
        """A connection for checking what reached the database."""
        return self.engine.connect()


@contextmanager
def field_server(tmp_dir: Any, suffix: str) -> Iterator[FieldServer]:
    """Serve VillageMap on a fresh scratch database with a small sample (300 cases)."""
    with (
        sample_database(suffix, now=NOW, cases=300, photo_dir=tmp_dir) as (settings, engine),
        serve_in_thread(create_app(settings)) as url,
        TestClient(create_app(settings)) as client,
    ):
        yield FieldServer(url, client, engine)


def geo(lonlat: tuple[float, float], accuracy: float) -> Geolocation:
    """A Playwright geolocation (it takes latitude and longitude by name)."""
    return {"longitude": lonlat[0], "latitude": lonlat[1], "accuracy": accuracy}


def camera_jpeg(lonlat: tuple[float, float] | None, size: tuple[int, int] = (3000, 2000), seed: int = 0) -> bytes:
    """A phone-camera-sized JPEG with EXIF GPS (WGS84) and capture time (DateTimeOriginal, +08:00)."""
    image = Image.new("RGB", size, (100 + seed % 100, 140, 90))
    exif = Image.Exif()
    if lonlat is not None:
        exif[0x8825] = {1: "N", 2: _dms(lonlat[1]), 3: "E", 4: _dms(lonlat[0])}
    exif[0x8769] = {0x9003: EXIF_TIME, 0x9011: "+08:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=80)
    return out.getvalue()


def photo_file(data: bytes, name: str = "IMG_0001.jpg") -> Any:
    """What ``page.set_input_files`` takes for a camera photo."""
    return [{"name": name, "mimeType": "image/jpeg", "buffer": data}]


def sign_in(page: Page, base: str, username: str, *, worker: bool = True) -> None:
    """Sign in on /m/, once (unless there is none) the service worker controls the page.

    Waiting first matters: the sign-in's /auth/me goes through the worker only when it is in
    control, and only then is kept for offline use (a sign-in before the worker took over left no
    offline copy, and /m/ opened offline later logged a failed /auth/me — seen once in CI).
    """
    page.goto(f"{base}/m/")
    if worker:
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#home:not([hidden])")


def queue_item(page: Page, queue: str, status: str, timeout: float = 20_000) -> str:
    """Wait for an item of the queue list ``queue`` (``report``, ``case:<id>``, "" for all) in ``status``."""
    selector = f'[data-queue="{queue}"] li[data-status="{status}"]'
    page.wait_for_selector(selector, timeout=timeout)
    return page.inner_text(selector)


def assert_clean_except(probe: PageProbe, expected: dict[str, int]) -> None:
    """No problems on the page but the expected refusals (path fragment → HTTP status)."""

    def expected_failure(entry: str) -> bool:
        return any(path in entry and f"HTTP {status}" in entry for path, status in expected.items())

    def expected_console(entry: str) -> bool:
        return any(f"status of {status}" in entry for status in expected.values())

    problems = probe.problems()
    problems["failed_requests"] = [e for e in problems.get("failed_requests", []) if not expected_failure(e)]
    problems["console_errors"] = [e for e in problems.get("console_errors", []) if not expected_console(e)]
    left = {k: v for k, v in problems.items() if v}
    assert not left, f"page problems: {left}"


def events(conn: Connection, case_id: int) -> list[Any]:
    """The case's events, oldest first."""
    from sqlalchemy import text

    query = text(
        "SELECT id, action, ST_X(position) AS lon, ST_Y(position) AS lat, accuracy_m, data, photo_ids "
        "FROM case_event WHERE case_id = :i ORDER BY id"
    )
    return list(conn.execute(query, {"i": case_id}).all())
