"""Crash test (崩溃测试): kill -9 the API, then PostgreSQL, under 16 writing clients; restart; check.

Run it (about a minute; needs root or a user that can run PostgreSQL, and ports 55633 + one free)::

    .venv/bin/python -m reliability.crash --clients 16 --seconds 30

It builds a private cluster (never the shared one), migrates it, loads a small sample, serves the app
with uvicorn in a subprocess and lets the clients report and close cases with photos. Then it sends
SIGKILL to the API, then to every PostgreSQL process, starts both again (PostgreSQL replays its WAL)
and checks: every acknowledged (2xx) case, action and photo is present; every case has its report
event and its status is its last event's; no photo row lacks its file and no file lacks its row.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from gis.backup import libpq_url
from gis.db import make_engine
from gis.photo_audit import originals, sweep
from gis.settings import Settings
from reliability.served import served_sample
from reliability.workload import FieldClient, Ledger, call, sign_in_all

CHECKS = """
SELECT
  (SELECT count(*) FROM cases c WHERE NOT EXISTS
     (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'report')),
  (SELECT count(*) FROM cases c WHERE c.status IS DISTINCT FROM
     (SELECT e.to_status FROM case_event e WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1)),
  (SELECT count(*) FROM (SELECT DISTINCT unnest(photo_ids) AS id FROM case_event) u
     WHERE NOT EXISTS (SELECT 1 FROM photo p WHERE p.id = u.id))
"""


@dataclass
class CrashReport:
    """What the crash test found (崩溃测试结果); ``ok`` when every list and count is empty or zero."""

    clients: int
    seconds: float
    acknowledged_cases: int
    acknowledged_actions: int
    acknowledged_photos: int
    closed_cases: int
    killed_postgres_processes: int
    lost_cases: list[int]
    lost_actions: list[tuple[int, str]]
    lost_photos: list[str]
    cases_without_report_event: int
    cases_whose_status_is_not_their_last_event: int
    event_photos_without_row: int
    photo_rows_without_file: list[str]
    photo_files_without_row: list[str]
    api_healthy_after_restart: bool
    errors_before_kill: list[str]
    stray_files_swept: int = 0  # uploads cut off between file and row, removed by the recovery step

    @property
    def ok(self) -> bool:
        """True when nothing acknowledged was lost and nothing is inconsistent."""
        return self.api_healthy_after_restart and self.acknowledged_actions > 0 and not any(
            [self.lost_cases, self.lost_actions, self.lost_photos, self.cases_without_report_event,
             self.cases_whose_status_is_not_their_last_event, self.event_photos_without_row,
             self.photo_rows_without_file, self.photo_files_without_row]
        )  # fmt: skip


def drive(base: str, clients: int, spot: tuple[float, float], stop: threading.Event, ledger: Ledger) -> list[Any]:
    """Start ``clients`` threads that work cases until ``stop`` is set."""

    tokens = sign_in_all(base)

    def work(seed: int) -> None:
        client = FieldClient(base, ledger, spot, seed, tokens)
        while not stop.is_set():
            if not client.one_case():
                time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def verify(settings: Settings, ledger: Ledger, base: str) -> dict[str, Any]:
    """Compare what was acknowledged with what the restarted database and photo store hold."""
    with psycopg.connect(libpq_url(settings)) as conn:
        cases = {int(r[0]) for r in conn.execute("SELECT id FROM cases")}
        events = {(int(r[0]), str(r[1])) for r in conn.execute("SELECT case_id, action FROM case_event")}
        photos = {str(r[0]) for r in conn.execute("SELECT id FROM photo")}
        no_report, wrong_status, unknown_photos = conn.execute(CHECKS).fetchone() or (0, 0, 0)
    files = set(originals(settings.photo_dir))
    return {
        "lost_cases": sorted(ledger.cases - cases),
        "lost_actions": sorted(set(ledger.actions) - events),
        "lost_photos": sorted(ledger.photos - photos),
        "cases_without_report_event": int(no_report),
        "cases_whose_status_is_not_their_last_event": int(wrong_status),
        "event_photos_without_row": int(unknown_photos),
        "photo_rows_without_file": sorted(photos - files),
        "photo_files_without_row": sorted(files - photos),
        "api_healthy_after_restart": call(base, "GET", "/healthz").status == 200,
    }


def recover(settings: Settings) -> int:
    """The recovery step after a crash (崩溃恢复), before the API starts again: remove photo files whose
    upload never committed (``villagemap photos-check --sweep --grace-minutes 0``; safe only while no
    API process runs). Returns how many were removed."""
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.begin() as conn:
            return len(sweep(conn, settings.photo_dir, older_than_s=0))
    finally:
        engine.dispose()


def run(clients: int = 16, seconds: float = 30, port: int = 55633, sample_cases: int = 200) -> CrashReport:
    """The whole crash test on a private cluster; the cluster is removed afterwards."""
    with served_sample(port, sample_cases) as served:
        ledger, stop = Ledger(), threading.Event()
        threads = drive(served.api.url, clients, served.spot, stop, ledger)
        time.sleep(seconds)
        with ledger.lock:
            errors = list(ledger.errors)
        served.api.kill9()
        killed = served.cluster.kill9()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        served.cluster.start()
        swept = recover(served.settings)
        served.api.start()
        found = verify(served.settings, ledger, served.api.url)
    return CrashReport(
        clients=clients, seconds=seconds, acknowledged_cases=len(ledger.cases),
        acknowledged_actions=len(ledger.actions), acknowledged_photos=len(ledger.photos),
        closed_cases=sum(1 for _, action in ledger.actions if action == "close"),
        killed_postgres_processes=killed, errors_before_kill=errors[:20], stray_files_swept=swept, **found,
    )  # fmt: skip


def main() -> None:
    """Command line: run the crash test and print its report as JSON; exit 1 when it found a problem."""
    parser = argparse.ArgumentParser(description="VillageMap crash test (kill -9 API and PostgreSQL)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=55633, help="port of the private PostgreSQL cluster")
    args = parser.parse_args()
    report = run(args.clients, args.seconds, args.port)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=1))  # noqa: T201
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
