"""The two-statement close-out (两条语句结案) answers and writes exactly what the usual path does.

Every scenario runs on twin cases reported at the same place and brought to the same state: one
is closed through ``POST /cases/{id}/close`` as served (``gis.closeout_write``), the other with that
path switched off, so ``apply_action`` runs the usual handler (``gis.closeout.close``). The answers,
the case rows and the events written (or not written) must be the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from gis import transitions
from gis.closeout_write import close_in_two_statements
from tests.lifecycle import Crew, act, counts, grid_point, jpeg, moved, point, upload

UNKNOWN_PHOTO = "0" * 64
PASSING_WATER = {"transparency_cm": 40, "dissolved_oxygen_mg_l": 4.1, "ammonia_nitrogen_mg_l": 3.2, "orp_mv": 120}
POND = "black_odorous_water"

EVENT = text("""
SELECT action, from_status, to_status, actor, actor_id, actor_role, ST_AsText(position) AS position, accuracy_m,
       position_datum, note, photo_ids, data
FROM case_event WHERE case_id = :id ORDER BY id
""")
CASE = text("""
SELECT status, version, closed_on_time, closed_at IS NOT NULL AS closed, remedied_geom IS NOT NULL AS remedied
FROM cases WHERE id = :id
""")


def _pond(centre: tuple[float, float]) -> dict[str, Any]:
    ring = [centre, moved(centre, 90, 30), moved(moved(centre, 90, 30), 0, 30), moved(centre, 0, 30), centre]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


#: name → (category, state the twins are brought to, how the body differs from a good close-out, expected status)
SCENARIOS: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]], int]] = {
    "closes, photo evidence flagged": ("garbage_point", "resolved", lambda b: b, 200),
    "note kept": ("garbage_point", "resolved", lambda b: b | {"note": "已清运 cleared"}, 200),
    "stale version": ("garbage_point", "resolved", lambda b: b | {"version": b["version"] - 1}, 409),
    "not resolved yet": ("garbage_point", "in_progress", lambda b: b, 409),
    "unknown photo": ("garbage_point", "resolved", lambda b: b | {"photo_ids": [*b["photo_ids"], UNKNOWN_PHOTO]}, 422),
    "malformed photo id": ("garbage_point", "resolved", lambda b: b | {"photo_ids": ["nope"]}, 422),
    "no photo": ("garbage_point", "resolved", lambda b: b | {"photo_ids": []}, 422),
    "too far": ("garbage_point", "resolved", lambda b: b | {"position": point(moved(b["_at"], 0, 130))}, 422),
    "accuracy too coarse": ("garbage_point", "resolved", lambda b: b | {"accuracy_m": 80}, 422),
    "bad position": ("garbage_point", "resolved", lambda b: b | {"position": {"type": "Point"}}, 422),
    "water quality missing": (POND, "resolved", lambda b: b, 422),
    "water quality passing": (POND, "resolved", lambda b: b | {"measurements": PASSING_WATER}, 200),
}


def _twins(crew: Crew, conn: Connection, category: str, state: str) -> tuple[int, int, tuple[float, float]]:
    at = grid_point(conn)
    geometry = point(at) if category != POND else _pond(at)
    twins = [crew.new_case(geometry, category) for _ in range(2)]
    for case_id in twins:
        crew.to_state(case_id, state)
    return twins[0], twins[1], at


def _written(conn: Connection, case_id: int, since: int) -> tuple[Any, ...]:
    """The case row and the events appended after the first ``since``."""
    events = [tuple(row) for row in conn.execute(EVENT, {"id": case_id})][since:]
    return (tuple(conn.execute(CASE, {"id": case_id}).one()), events)


def _answer(body: dict[str, Any], case_id: int) -> dict[str, Any]:
    """The answer without what differs between twins by nature (ids, codes, the other twin, times)."""
    if body.get("type") == "Feature":
        kept = {k: v for k, v in body["properties"].items() if k not in ("code", "possible_duplicates", "closed_at",
                                                                            "reported_at")}  # fmt: skip
        return {"geometry": body["geometry"], "properties": kept}
    return {k: re.sub(rf"\b{case_id}\b", "<id>", v) if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_two_statement_close_matches_the_usual_path(
    client: TestClient, conn: Connection, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    crew = Crew(client)
    category, state, change, status = SCENARIOS[scenario]
    fast, usual, at = _twins(crew, conn, category, state)
    photos = [upload(client, crew.inspector, jpeg(moved(at, 90, 5000), seed=3)), upload(client, crew.inspector)]
    outcomes: list[str] = []

    def watched(*args: Any) -> bool:
        outcomes.append("wrote" if close_in_two_statements(*args) else "declined")
        return outcomes[-1] == "wrote"

    answers, written = [], []
    for case_id, path in ((fast, watched), (usual, lambda *_args: False)):
        monkeypatch.setattr(transitions, "close_in_two_statements", path)
        version = client.get(f"/cases/{case_id}").json()["properties"]["version"]
        good = {"version": version, "position": point(moved(at, 180, 4)), "accuracy_m": 5, "photo_ids": photos}
        body = {k: v for k, v in change(good | {"_at": at}).items() if k != "_at"}
        before = counts(conn)
        history = len(conn.execute(EVENT, {"id": case_id}).all())
        answers.append(_answer(act(client, crew.inspector, case_id, "close", expect=status, **body), case_id))
        written.append(_written(conn, case_id, history))
        if status != 200:
            assert counts(conn) == before, "a refused close-out writes nothing"
    assert answers[0] == answers[1]
    assert written[0] == written[1]
    if scenario in ("closes, photo evidence flagged", "note kept", "water quality passing"):
        assert outcomes == ["wrote"], "the served close-out took the two-statement path"
        assert written[0][1][-1][-1]["evidence"]["flags"] == ["photo_far_from_position"]
    if scenario in ("malformed photo id", "no photo", "bad position"):
        assert outcomes == ["declined"], "left to the usual path, which refuses it"
