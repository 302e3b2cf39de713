"""Load the sample data (样例数据) through COPY: regions, base map, units, cases, works.

Idempotent: when regions already exist the load is skipped (nothing is ever deleted; start from
an empty database to load again). Everything goes in one transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from data.baselines import build_base_lines
from data.campaigns import load_sample_campaigns
from data.cases import SHANGHAI, CaseGenerator, CategoryInfo, SampleCase
from data.demo import create_demo_accounts
from data.places import Village, lines_in
from data.regions import build_regions
from data.units import UnitRow, all_units
from data.works import Sketch, WorkRow, facilities, road_projects, water_projects
from gis.bulk import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    WORK_COLUMNS,
    WORK_STAGING,
    copy_rows,
    insert_staged_cases,
    insert_staged_works,
    stage,
)
from gis.network import build_road_network

SOURCES = Path(__file__).resolve().parent / "sources"
DEFAULT_SEED = 20211215
REGION_COLUMNS = ("code", "level", "name", "official_name", "name_en", "parent_code",
                  "county_code", "ur_code", "geom", "seat", "synthetic", "source")  # fmt: skip
LINE_COLUMNS = ("kind", "name", "name_en", "geom", "county_code", "synthetic", "source")


@dataclass
class LoadReport:
    """What a load did: skipped or the rows written per table, and how long it took."""

    skipped: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def ewkb(geom: BaseGeometry | None) -> str | None:
    """Hex EWKB with SRID 4326, as PostGIS reads it from COPY."""
    if geom is None:
        return None
    return str(shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True))


def _frame_rows(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> Iterator[list[Any]]:
    geometry_columns = {"geom", "seat"}
    for record in gdf[list(columns)].itertuples(index=False):
        yield [ewkb(v) if name in geometry_columns else _plain(v) for name, v in zip(columns, record, strict=True)]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _villages(regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> list[Village]:
    grids = regions[regions["level"] == "grid"]
    seats_by_village: dict[str, list[tuple[str, Any]]] = {}
    for code, parent, seat in zip(grids["code"], grids["parent_code"], grids["seat"], strict=True):
        seats_by_village.setdefault(parent, []).append((code, seat))
    roads = [g for g, k in zip(lines.geometry, lines["kind"], strict=True) if k in ("road", "lane")]
    waters = [g for g, k in zip(lines.geometry, lines["kind"], strict=True) if k in ("canal", "ditch")]
    villages = []
    for row in regions[regions["level"] == "village"].itertuples(index=False):
        villages.append(Village(row.code, row.name, row.parent_code, row.county_code, row.geom, row.seat,
                                seats_by_village[row.code], lines_in(row.geom, roads),
                                lines_in(row.geom, waters)))  # fmt: skip
    return villages


def _categories(cur: psycopg.Cursor[Any]) -> dict[str, CategoryInfo]:
    rows = cur.execute(
        "SELECT code, label_zh, subtypes, attributes, coalesce(default_deadline_days, 30) "
        "FROM category WHERE kind = 'problem' ORDER BY sort_order"
    ).fetchall()
    return {r[0]: CategoryInfo(r[0], r[1], tuple(r[2]), r[3], r[4]) for r in rows}


def _case_rows(cases: Iterable[SampleCase]) -> Iterator[list[Any]]:
    from data.units import assignee_unit_code, lead_unit_code

    for c in cases:
        v = c.village
        assigned = any(e.action == "assign" for e in c.events)
        yield [c.id, c.category, c.subtype, json.dumps(c.attributes, ensure_ascii=False), ewkb(c.geom),
               c.status, c.title, c.description, c.deadline,
               lead_unit_code(c.category, v.county, v.township) if assigned else None,
               [f"{v.township}-gov"] if assigned else [],
               assignee_unit_code(c.category, v.county, v.township) if assigned else None,
               None, c.events[0].at, c.closed_at, len(c.events), "sample", True, _review_on(c)]  # fmt: skip


def _review_on(c: SampleCase) -> str | None:
    last = c.events[-1]
    return str(last.data["review_on"]) if c.status == "suspended" else None


def _event_rows(cases: Iterable[SampleCase]) -> Iterator[list[Any]]:
    for c in cases:
        for e in c.events:
            yield [c.id, e.action, e.from_status, e.to_status, e.actor, e.at, ewkb(e.position),
                   e.accuracy_m, e.note, json.dumps(e.data, ensure_ascii=False)]  # fmt: skip


def _work_rows(works: Iterable[WorkRow]) -> Iterator[list[Any]]:
    for w in works:
        values = json.dumps(w.values, ensure_ascii=False, default=str)
        yield [w.code, w.category, w.subtype, w.name, ewkb(w.geom), w.county_code, w.status, values]


def _generate_cases(villages: list[Village], cats: dict[str, CategoryInfo], seed: int,
                    now: datetime, total: int) -> list[SampleCase]:  # fmt: skip
    gen = CaseGenerator(villages, cats, seed, now)
    showcase = next(v for v in villages if v.code == "640221202204")
    return [*gen.campaign(), *gen.ongoing(total), *gen.showcase(showcase)]


def _copy_cases(cur: psycopg.Cursor[Any], cases: list[SampleCase]) -> dict[str, int]:
    stage(cur)
    counts = {"cases": copy_rows(cur, "stage_case", CASE_COLUMNS, _case_rows(cases))}
    counts["case_events"] = copy_rows(cur, "stage_event", EVENT_COLUMNS, _event_rows(cases))
    reporters = ([c.id, *c.reporter] for c in cases if c.reporter)
    counts["case_reporters"] = copy_rows(cur, "stage_reporter", ("case_id", "name", "phone"), reporters)
    insert_staged_cases(cur)
    return counts


def _units(regions: gpd.GeoDataFrame) -> list[UnitRow]:
    townships = regions[regions["level"] == "township"]
    return all_units(zip(townships["code"], townships["name"], strict=True))


def load_sample(engine: Engine, *, seed: int = DEFAULT_SEED, now: datetime | None = None,
                cases: int = 3000, demo_password: str = "demo") -> LoadReport:  # fmt: skip
    """Generate and load the sample for 利通区 and 平罗县 unless regions are already loaded."""
    started = time.monotonic()
    now = now or datetime.now(SHANGHAI)
    with engine.begin() as sa_conn:
        cur = sa_conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if cur.execute("SELECT exists (SELECT 1 FROM region)").fetchone() == (True,):
            return LoadReport(skipped=True)
        regions = build_regions(SOURCES, seed)
        lines = build_base_lines(regions, SOURCES, seed)
        counts = {"regions": copy_rows(cur, "region", REGION_COLUMNS, _frame_rows(regions, REGION_COLUMNS))}
        counts["base_lines"] = copy_rows(cur, "base_line", LINE_COLUMNS, _frame_rows(lines, LINE_COLUMNS))
        units = _units(regions)
        unit_cols = ("code", "name", "name_en", "kind", "area_code")
        counts["units"] = copy_rows(
            cur,
            "unit",
            unit_cols,
            ([u.code, u.name, u.name_en, u.kind, u.area_code] for u in units),
        )
        sample = _generate_cases(_villages(regions, lines), _categories(cur), seed, now, cases)
        counts |= _copy_cases(cur, sample)
        sketch = Sketch(regions, lines)
        works = [*road_projects(sketch), *water_projects(sketch), *facilities(sketch)]
        cur.execute(WORK_STAGING)
        counts["works"] = copy_rows(cur, "stage_work", WORK_COLUMNS, _work_rows(works))
        insert_staged_works(cur)
        counts["road_edges"] = build_road_network(sa_conn)
        counts["campaigns"] = load_sample_campaigns(sa_conn, now=now, seed=seed)
        counts["demo_accounts"] = create_demo_accounts(sa_conn, demo_password)
        cur.execute("ANALYZE")
    return LoadReport(skipped=False, counts=counts, seconds=time.monotonic() - started)
