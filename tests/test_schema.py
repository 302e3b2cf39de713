"""The schema's own rules, checked on the real migrated database (数据库约束)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError

INSERT_CASE = text("""
INSERT INTO cases (code, category, geom, county_code, township_code, village_code, grid_code,
                   status, title, reported_at, source)
VALUES ('TEST-1', 'garbage_point', {geom}, left(:grid, 6), left(:grid, 9), left(:grid, 12), :grid,
        'reported', 'test', now(), 'app')
""")


def _insert(conn: Connection, geom_sql: str, grid: str, **params: Any) -> None:
    stmt = text(INSERT_CASE.text.replace("{geom}", geom_sql))
    with conn.begin_nested():
        conn.execute(stmt, {"grid": grid, **params})


@pytest.fixture
def grid(conn: Connection) -> str:
    """Some grid code of the sample."""
    return str(conn.execute(text("SELECT min(code) FROM region WHERE level = 'grid'")).scalar_one())


@pytest.mark.parametrize(
    ("geom_sql", "reason"),
    [
        ("ST_GeomFromText('POLYGON((106 38, 106.01 38.01, 106.01 38, 106 38.01, 106 38))', 4326)", "bow-tie"),
        ("ST_SetSRID(ST_MakePoint('NaN', 38), 4326)", "NaN"),
        ('ST_SetSRID(ST_GeomFromGeoJSON(\'{"type":"Point","coordinates":[1e999,38]}\'), 4326)', "Infinity"),
        ("ST_SetSRID(ST_MakePoint(38.8, 106.6), 4326)", "lat/lon swapped, latitude beyond 90"),
        ("ST_GeomFromText('POINT EMPTY', 4326)", "empty"),
        ("ST_GeomFromText('POINT Z (106 38 5)', 4326)", "3-D"),
        ("ST_GeomFromText('GEOMETRYCOLLECTION(POINT(106 38))', 4326)", "collection"),
    ],
)
def test_bad_geometry_is_refused(conn: Connection, grid: str, geom_sql: str, reason: str) -> None:
    with pytest.raises(DBAPIError) as caught:
        _insert(conn, geom_sql, grid)
    assert "cases_geom_check" in str(caught.value) or "geometry" in str(caught.value).lower(), reason


def test_wrong_srid_is_refused(conn: Connection, grid: str) -> None:
    with pytest.raises(DBAPIError, match="SRID"):
        _insert(conn, "ST_SetSRID(ST_MakePoint(11860000, 4700000), 3857)", grid)


def test_codes_must_agree_with_the_grid(conn: Connection, grid: str) -> None:
    stmt = text(
        INSERT_CASE.text.replace("{geom}", "ST_SetSRID(ST_MakePoint(106.6, 38.8), 4326)").replace(
            "left(:grid, 9)", "'640302100'"
        )
    )
    with pytest.raises(IntegrityError, match="cases_codes_check"), conn.begin_nested():
        conn.execute(stmt, {"grid": grid})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_event SET note = 'changed' WHERE id = (SELECT min(id) FROM case_event)",
        "DELETE FROM case_event WHERE id = (SELECT min(id) FROM case_event)",
        "TRUNCATE case_event CASCADE",
        "DELETE FROM cases WHERE id = (SELECT min(id) FROM cases)",
        "TRUNCATE cases CASCADE",
        "DELETE FROM project WHERE id = (SELECT min(id) FROM project)",
        "DELETE FROM facility WHERE id = (SELECT min(id) FROM facility)",
    ],
)
def test_nothing_is_deleted_and_events_never_change(conn: Connection, statement: str) -> None:
    with pytest.raises(DBAPIError, match="kept forever"), conn.begin_nested():
        conn.execute(text(statement))


def test_every_row_carries_its_county(conn: Connection) -> None:
    counts = conn.execute(
        text("""
        SELECT (SELECT count(*) FROM cases WHERE county_code IS NULL),
               (SELECT count(*) FROM case_event e JOIN cases c ON c.id = e.case_id
                WHERE e.county_code IS DISTINCT FROM c.county_code),
               (SELECT count(*) FROM project WHERE county_code IS NULL),
               (SELECT count(*) FROM case_reporter r JOIN cases c ON c.id = r.case_id
                WHERE r.county_code IS DISTINCT FROM c.county_code)
        """)
    ).one()
    assert tuple(counts) == (0, 0, 0, 0)


def test_category_rows_cover_design(conn: Connection) -> None:
    rows: dict[str, str] = {str(k): str(v) for k, v in conn.execute(text("SELECT code, kind FROM category"))}
    assert rows == {
        "ruined_wall": "problem",
        "dilapidated_house": "problem",
        "black_odorous_water": "problem",
        "garbage_point": "problem",
        "agri_waste": "problem",
        "household_toilet": "problem",
        "collection_station": "facility",
        "road_project": "project",
        "water_project": "project",
        "monitoring_station": "facility",
    }
    edges = conn.execute(text("SELECT attributes -> 'edge' -> 'values' FROM category WHERE code = 'garbage_point'"))
    assert edges.scalar_one() == ["路边", "地边", "沟边", "村边", "田边", "林边"]


def test_a_project_category_cannot_hold_a_case(conn: Connection, grid: str) -> None:
    stmt = text(
        INSERT_CASE.text.replace("{geom}", "ST_SetSRID(ST_MakePoint(106.6, 38.8), 4326)").replace(
            "'garbage_point'", "'road_project'"
        )
    )
    with pytest.raises(IntegrityError, match="cases_category_kind_fkey"), conn.begin_nested():
        conn.execute(stmt, {"grid": grid})
