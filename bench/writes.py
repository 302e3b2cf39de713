"""Close-out throughput (结案吞吐): ``POST /cases/{id}/close`` by 16 clients vs the pgbench floor.

Before each run a batch of bench cases in 渠口乡 (the demo inspector's township) is put in the
``resolved`` state at version 3 by SQL; one photo is uploaded through the real API. ``wrk`` then
closes them through the VillageMap server (a Lua script gives each connection its own cases, the
inspector standing on the case), and the closed rows are counted afterwards. The floor replays,
with ``pgbench``, the statements that one close ran in-process (token check, row lock, distance,
photo checks, update, event, the returned feature), in one transaction, on random cases.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from bench.capture import pgbench_script, request_sql
from bench.data import BenchDb, libpq_parts
from bench.load import Summary, pgbench, wrk
from gis.settings import Settings

TOWNSHIP = "640221202"
INSPECTOR = "demo-inspector"
VERSION = 3
LUA = """
local cases = {%(cases)s}
local photo, token = "%(photo)s", "%(token)s"
local next_thread = 0
function setup(thread) thread:set("tid", next_thread); next_thread = next_thread + 1 end
local i = 0
function request()
  local k = (i * %(threads)d + tid) %% #cases + 1
  i = i + 1
  local c = cases[k]
  local body = string.format('{"version":%(version)d,"position":{"type":"Point","coordinates":[%%.9f,%%.9f]},' ..
    '"accuracy_m":5,"photo_ids":["%%s"]}', c[2], c[3], photo)
  return wrk.format("POST", "/cases/" .. c[1] .. "/close",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
"""


def resolve_batch(db: BenchDb, k: int, reuse: bool = False) -> list[tuple[int, float, float]]:
    """Put ``k`` open (``reuse``: any, also those closed by an earlier run) cases of the township in
    ``resolved`` at version 3; ids and points."""
    skip: list[str] = [] if reuse else ["closed", "resolved"]
    with psycopg.connect(db.libpq) as conn:
        rows = conn.execute(
            "UPDATE cases SET status = 'resolved', version = %(v)s, closed_at = NULL, updated_at = now() "
            "WHERE id IN (SELECT id FROM cases WHERE township_code = %(t)s AND category = 'garbage_point' "
            "AND status <> ALL (%(skip)s) ORDER BY id DESC LIMIT %(k)s) "
            "RETURNING id, ST_X(geom), ST_Y(geom)",
            {"v": VERSION, "t": TOWNSHIP, "k": k, "skip": skip},
        ).fetchall()
    return [(int(i), float(x), float(y)) for i, x, y in rows]


def closed_count(db: BenchDb, ids: list[int]) -> int:
    """How many of ``ids`` are closed now."""
    with psycopg.connect(db.libpq) as conn:
        row = conn.execute("SELECT count(*) FROM cases WHERE id = ANY(%s) AND status = 'closed'", [ids]).fetchone()
    return int(row[0]) if row else 0


def credentials(settings: Settings) -> tuple[str, str]:
    """A bearer token for the demo inspector and one uploaded photo id (through the real API)."""
    from tests.lifecycle import jpeg, login, upload

    with TestClient(create_app(settings)) as client:
        headers = login(client, INSPECTOR)
        photo = upload(client, headers, jpeg())
    return headers["Authorization"].removeprefix("Bearer "), photo


def lua_script(cases: list[tuple[int, float, float]], photo: str, token: str, folder: Path) -> Path:
    """The wrk script that closes ``cases``, each connection its own."""
    rows = ",".join(f"{{{i},{x:.9f},{y:.9f}}}" for i, x, y in cases)
    path = folder / "close.lua"
    text = LUA % {"cases": rows, "photo": photo, "token": token, "threads": 2, "version": VERSION}
    path.write_text(text, encoding="utf-8")
    return path


def floor_script(db: BenchDb, photo: str, token: str, folder: Path) -> tuple[Path, int]:
    """The statements of one real close, as a pgbench transaction on a random case id."""
    (case_id, x, y), *_rest = resolve_batch(db, 1, reuse=True)
    body = {"version": VERSION, "position": {"type": "Point", "coordinates": [x, y]}, "accuracy_m": 5,
            "photo_ids": [photo]}  # fmt: skip
    status, statements = request_sql(db.settings, "POST", f"/cases/{case_id}/close",
                                     {"Authorization": f"Bearer {token}"}, body)  # fmt: skip
    if status != 200:
        raise RuntimeError(f"close of case {case_id} answered {status} in-process")
    pattern = re.compile(rf"\b{case_id}\b")
    templated = [pattern.sub(":id", s) for s in statements]
    with psycopg.connect(db.libpq) as conn:
        low, high = conn.execute("SELECT min(id), max(id) FROM cases WHERE category = 'garbage_point'").fetchone()  # type: ignore[misc]
    script = pgbench_script(templated, folder / "close.sql", transaction=True,
                            preamble=f"\\set id random({low}, {high})")  # fmt: skip
    return script, len(statements)


def measure_writes(db: BenchDb, runs: int, seconds: int, batch: int, log: Callable[[str], None] = print,
                   clients: int = 16) -> dict[str, Any]:  # fmt: skip
    """Close-out over HTTP (wrk, ``clients`` connections) and its pgbench floor, ``runs`` times each."""
    from bench.servers import villagemap

    token, photo = credentials(db.settings)
    http, floor, closed, sent = [], [], 0, 0
    with tempfile.TemporaryDirectory(prefix="vm-bench-w-") as folder:
        with villagemap(db.url, db.photo_dir) as base:
            for _run in range(runs):
                cases = resolve_batch(db, batch, reuse=_run > 0)  # later runs reuse closed cases
                sample = wrk(base + "/cases/1/close", clients, seconds, script=lua_script(cases, photo, token,
                                                                                            Path(folder)))  # fmt: skip
                http.append(sample)
                closed += closed_count(db, [c[0] for c in cases])
                sent += sample.requests
                log(f"close-out http  c={clients} req/s {sample.rate:8.1f} p50 {sample.p50_ms:7.2f} ms "
                    f"errors {sample.errors} ({len(cases)} cases prepared)")  # fmt: skip
        script, n = floor_script(db, photo, token, Path(folder))
        args, env = libpq_parts(db.url)
        for _run in range(runs):
            floor.append(pgbench(args, env, script, clients, seconds))
            log(f"close-out floor c={clients} tps   {floor[-1].rate:8.1f} avg {floor[-1].p50_ms:7.2f} ms ({n} stmts)")
    return {"http": Summary.of(http), "floor": Summary.of(floor), "closed": closed, "sent": sent,
            "statements": n, "clients": clients, "batch": batch}  # fmt: skip


def dump(result: dict[str, Any]) -> str:
    """The result as one JSON line (for the raw log)."""
    return json.dumps({k: (v.__dict__ if isinstance(v, Summary) else v) for k, v in result.items()})
