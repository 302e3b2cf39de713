"""Crash and load checks, small (冒烟): the full runs are documented commands (reliability/README.md).

Each builds its own private PostgreSQL cluster on a free port (never the shared one), serves the app
with uvicorn in a subprocess and drives a few clients for a few seconds.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from api.app import create_app
from data.load import LoadReport
from gis.settings import Settings
from reliability import crash, load
from reliability.served import free_port
from reliability.workload import Ledger
from tests.lifecycle import jpeg, login

PROBLEMS = {
    "lost_cases", "lost_actions", "lost_photos", "cases_without_report_event",
    "cases_whose_status_is_not_their_last_event", "event_photos_without_row", "photo_rows_without_file",
    "photo_files_without_row",
}  # fmt: skip


def test_crash_smoke_loses_no_acknowledged_write() -> None:
    report = crash.run(clients=3, seconds=4, port=free_port(), sample_cases=100)
    assert report.acknowledged_actions > 0 and report.closed_cases > 0, report
    assert report.killed_postgres_processes > 1
    found = {k: v for k, v in asdict(report).items() if k in PROBLEMS and v}
    assert report.ok and not found, found  # names the check that failed (the whole report is long)
    assert report.errors_before_kill == [], report.errors_before_kill


def test_a_write_is_committed_before_its_answer_is_sent(settings: Settings, sample: LoadReport) -> None:
    """A 2xx must mean durable: the transaction commits before the response starts (not after it)."""
    del sample
    app = create_app(settings)
    order: list[str] = []
    event.listen(app.state.engine, "commit", lambda _conn: order.append("commit"))

    async def spied(scope: Any, receive: Any, send: Any) -> None:
        async def spy(message: Any) -> None:
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)

        await app(scope, receive, spy)

    with TestClient(spied) as client:
        headers = login(client, "demo-grid-manager")
        order.clear()
        answer = client.post("/photos", files={"file": ("p.jpg", jpeg(seed=91), "image/jpeg")}, headers=headers)
    assert answer.status_code == 201
    assert order == ["commit", "response"]


def test_crash_check_notices_what_is_missing(settings: Settings, engine: Engine, sample: LoadReport) -> None:
    del sample
    with engine.connect() as conn:
        case_id = int(conn.execute(text("SELECT min(id) FROM cases")).scalar_one())
    ledger = Ledger(cases={case_id, -1}, actions=[(case_id, "report"), (case_id, "teleport")], photos={"f" * 64})
    found = crash.verify(settings, ledger, "http://127.0.0.1:9")
    assert found["lost_cases"] == [-1]
    assert found["lost_actions"] == [(case_id, "teleport")]
    assert found["lost_photos"] == ["f" * 64]
    assert found["api_healthy_after_restart"] is False


def test_load_smoke_has_no_errors() -> None:
    report = load.run(clients=3, seconds=3, port=free_port(), sample_cases=100)
    assert report.requests > 20 and report.errors == 0, report.first_errors
    assert {"report", "close", "photo", "read tile", "read items"} <= set(report.by_kind)
    assert 0 < report.p50_ms <= report.p99_ms
