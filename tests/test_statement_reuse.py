"""Statements built once and reused (语句复用): per-caller case statements and JSON keys as literals.

The write path keeps the case-locking and case-Feature statements per principal (its role, ids and
areas) and writes JSON member names into the SQL as quoted literals; these tests check that a
caller whose areas change is scoped anew at once, and that odd keys come back exactly.
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Text, cast, select, text

from gis.geojson import json_object
from tests.lifecycle import Crew, act, grid_point, point


def test_a_caller_whose_areas_change_is_scoped_anew(client: TestClient, conn: Connection) -> None:
    crew = Crew(client)
    case_id = crew.new_case(point(grid_point(conn)))
    seen = client.get(f"/cases/{case_id}", headers=crew.inspector).json()["properties"]
    assert seen["in_scope"] is True and seen["grid_code"] is not None
    other = conn.execute(
        text("SELECT code FROM region WHERE level = 'township' AND code <> :t ORDER BY code LIMIT 1"),
        {"t": seen["township_code"]},
    ).scalar_one()
    user = conn.execute(text("SELECT id FROM app_user WHERE username = 'demo-inspector'")).scalar_one()
    conn.execute(text("UPDATE user_area SET to_at = now() WHERE to_at IS NULL AND user_id = :u"), {"u": user})
    conn.execute(text("INSERT INTO user_area (user_id, area_code) VALUES (:u, :a)"), {"u": user, "a": other})
    now = client.get(f"/cases/{case_id}", headers=crew.inspector).json()["properties"]
    assert now["in_scope"] is False and now["version"] == 1
    refused = act(client, crew.inspector, case_id, "register", expect=404, version=1)
    assert "outside your scope" in json.dumps(refused)


def test_json_keys_are_quoted_exactly(conn: Connection) -> None:
    keys = {"it's": 1, "50%": 2, "back\\slash": 3, "名称": 4, "%(x)s": 5}
    value = conn.execute(select(cast(json_object(keys), Text))).scalar_one()
    assert json.loads(value) == keys
