"""The rectification ledger (整改台账): layout, photos, the round trip and placing rows by village."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02
from gis.ledger import LEDGER_COLUMNS
from tests.conftest import NOW
from tests.databases import sample_database
from tests.lifecycle import GRID, Crew, counts, grid_point, login, point, upload

HEADERS = [name for name, _ in LEDGER_COLUMNS]


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Engine]]:
    """A scratch database with the sample's regions and accounts but no 利通区 cases."""
    photos = tmp_path_factory.mktemp("photos-ledger")
    with (
        sample_database("ledger", now=NOW, cases=0, photo_dir=photos) as (settings, engine),
        TestClient(create_app(settings)) as client,
    ):
        yield client, engine


def ledger(client: TestClient, **params: str) -> Any:
    response = client.get("/exports/ledger.xlsx", params=params, headers=login(client, "demo-admin"))
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content)), response.content


def test_layout_photos_and_printing(client: TestClient, conn: Connection) -> None:
    crew = Crew(client)
    case_id = crew.new_case(point(grid_point(conn)), photo_ids=[upload(client, crew.grid_manager)])
    crew.to_state(case_id, "resolved")
    wb, _ = ledger(client, area=GRID, category="garbage_point")
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert "整改台账" in rows[0][0] and list(rows[2][: len(HEADERS)]) == HEADERS
    expected = conn.execute(
        text("SELECT count(*) FROM cases WHERE grid_code = :g AND category = 'garbage_point'"), {"g": GRID}
    ).scalar_one()
    assert len(rows) - 3 == expected and [r[0] for r in rows[3:]] == list(range(1, expected + 1))
    code = conn.execute(text("SELECT code FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
    ours = next(r for r in rows[3:] if r[1] == code)
    assert ours[2] == "垃圾点" and ours[14] == "处置完毕待核查" and ours[6] == GRID
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$1:$3"
    assert ws.print_area.startswith("'整改台账'!$A$1:$S$"), "prints 序号 … 整改后, not the re-import columns"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.column_dimensions["B"].width >= len(code) and ws.column_dimensions["D"].width == 28
    anchors = sorted(img.anchor._from.col for img in ws._images)
    assert anchors == [17, 18], "整改前 (R) and 整改后 (S) thumbnails of our case"


def test_round_trip_into_an_empty_database(
    client: TestClient, conn: Connection, empty: tuple[TestClient, Engine]
) -> None:
    target, engine = empty
    area = "640302103"
    _, data = ledger(client, area=area)
    admin = login(target, "demo-admin")
    posted = target.post("/imports", params={"dry_run": "false"}, files={"file": ("台账.xlsx", data)}, headers=admin)
    assert posted.status_code == 201, posted.text
    report = posted.json()
    expected = conn.execute(text("SELECT count(*) FROM cases WHERE township_code = :a"), {"a": area}).scalar_one()
    assert report["created"] == report["rows"] == expected and report["format"] == "xlsx"
    compare = """SELECT coalesce(external_id, code) AS k, category, subtype, status, title, description, deadline,
                        review_on, village_code, attributes::text, to_char(reported_at, 'YYYY-MM-DD HH24:MI') AS at,
                        to_char(closed_at, 'YYYY-MM-DD HH24:MI') AS closed, ST_AsText(geom, 7) AS wkt
                 FROM cases WHERE {where} ORDER BY 1"""
    before = conn.execute(text(compare.format(where="township_code = :a")), {"a": area}).all()
    with engine.connect() as other:
        after = other.execute(text(compare.format(where="import_batch_id = :b")), {"b": report["batch_id"]}).all()
        before_counts = other.execute(
            text(
                "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_event), "
                "(SELECT count(*) FROM import_batch)"
            )
        ).one()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    again = target.post("/imports", params={"dry_run": "false"}, files={"file": ("台账.xlsx", data)}, headers=admin)
    assert again.status_code == 201 and again.json()["created"] == 0 and again.json()["unchanged"] == expected
    with engine.connect() as other:
        after_counts = other.execute(
            text(
                "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_event), "
                "(SELECT count(*) FROM import_batch)"
            )
        ).one()
    assert tuple(after_counts) == tuple(before_counts), "re-importing the same file changes nothing"


def workbook(rows: list[dict[str, Any]], headers: list[str] | None = None) -> bytes:
    """A ledger in the officials' layout: a title row, then the header, then ``rows``."""
    names = headers or [
        "序号",
        "编号",
        "问题类型",
        "问题描述",
        "乡镇",
        "村",
        "村代码",
        "经度",
        "纬度",
        "发现时间",
        "状态",
        "销号时间",
    ]
    wb = Workbook()
    ws = wb.active
    ws.append(["渠口乡 问题整改台账（测试）"])
    ws.append(names)
    for i, row in enumerate(rows, start=1):
        ws.append([i if n == "序号" else row.get(n) for n in names])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def post(client: TestClient, data: bytes, **form: str) -> Any:
    return client.post(
        "/imports",
        params={"dry_run": "false"},
        files={"file": ("ledger.xlsx", data)},
        data=form,
        headers=login(client, "demo-admin"),
    )


def test_rows_are_placed_at_their_village_and_ambiguous_names_refused(client: TestClient, conn: Connection) -> None:
    here = grid_point(conn)
    gcj = wgs84_to_gcj02(*here)
    rows: list[dict[str, Any]] = [
        {
            "编号": "T-1",
            "问题类型": "垃圾点",
            "问题描述": "按村代码定位",
            "村代码": "640221202209",
            "发现时间": "2024年3月5日",
        },
        {
            "编号": "T-2",
            "问题类型": "残垣断壁",
            "问题描述": "按乡镇+村名定位",
            "乡镇": "渠口乡",
            "村": "渠口村",
            "发现时间": "2024/3/6 09:30",
            "状态": "已销号",
            "销号时间": "2024-03-09 16:00",
        },
        {"编号": "T-3", "问题类型": "垃圾点", "问题描述": "高德坐标", "经度": gcj[0], "纬度": gcj[1], "状态": "整改中"},
        {"编号": "T-4", "问题类型": "垃圾点", "问题描述": "只有村名", "村": "渠口村"},
    ]
    before = counts(conn)
    refused = post(client, workbook(rows), crs="GCJ-02")
    assert refused.status_code == 422 and counts(conn) == before, "nothing is imported unless the whole file is valid"
    errors = refused.json()["report"]["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(6, "村", "ambiguous_village")]
    assert "640221202200" in errors[0]["problem_zh"] and "640302103204" in errors[0]["problem_zh"]
    assert "add the township" in errors[0]["problem_en"]
    done = post(client, workbook(rows[:3]), crs="GCJ-02")
    assert done.status_code == 201, done.text
    assert done.json()["created"] == 3 and done.json()["approximate"] == 2
    placed: dict[str, Any] = dict(
        conn.execute(
            text("""
        SELECT c.external_id, json_build_array(c.village_code, c.location_approximate, c.status,
               ST_Equals(c.geom, coalesce(v.seat, ST_PointOnSurface(v.geom))), ST_X(c.geom), ST_Y(c.geom))
        FROM cases c JOIN region v ON v.code = c.village_code WHERE c.external_id LIKE 'T-%'""")
        ).all()
    )
    assert placed["T-1"][:4] == ["640221202209", True, "reported", True]
    assert placed["T-2"][:4] == ["640221202200", True, "closed", True]
    assert placed["T-3"][1:3] == [False, "in_progress"]
    assert placed["T-3"][4:] == pytest.approx(list(gcj02_to_wgs84(*gcj)), abs=1e-7)
    assert placed["T-3"][4:] == pytest.approx(list(here), abs=1e-7)


def test_row_level_report_in_chinese_and_english(client: TestClient, conn: Connection) -> None:
    rows: list[dict[str, Any]] = [
        {"编号": "E-1", "问题类型": "烟囱", "村代码": "640221202209"},
        {"编号": "E-2", "问题类型": "垃圾点", "村代码": "640221202209", "发现时间": "去年冬天"},
        {"编号": "E-3", "问题类型": "垃圾点", "村代码": "640221202209", "状态": "已销号"},
        {"编号": "E-4", "问题类型": "垃圾点", "村代码": "640221202209", "状态": "差不多了"},
        {"编号": "E-5", "问题类型": "垃圾点", "村代码": "640221999999"},
        {"编号": "E-1", "问题类型": "垃圾点", "村代码": "640221202209"},
    ]
    before = counts(conn)
    response = post(client, workbook(rows))
    assert response.status_code == 422 and counts(conn) == before
    body = response.json()
    assert body["detail_zh"].startswith("文件未导入") and body["detail"].startswith("Nothing was imported")
    found = {(e["row"], e["code"]) for e in body["report"]["errors"]}
    assert found == {
        (3, "unknown_category"),
        (4, "bad_date"),
        (5, "missing_closed_at"),
        (6, "unknown_status"),
        (7, "unknown_village"),
        (8, "duplicate_id"),
    }
    assert all(e["problem_zh"] and e["problem_en"] and e["column"] for e in body["report"]["errors"])


def test_english_headers_are_matched_too(client: TestClient, conn: Connection) -> None:
    lon, lat = grid_point(conn)
    data = workbook(
        [
            {
                "id": "EN-1",
                "category": "garbage_point",
                "subtype": "草堆",
                "description": "english headers",
                "lon": lon,
                "lat": lat,
                "status": "registered",
            }
        ],
        headers=["No", "id", "category", "subtype", "description", "lon", "lat", "status"],
    )
    response = post(client, data)
    assert response.status_code == 201, response.text
    assert response.json()["mapping"] == {
        "id": "external_id",
        "category": "category",
        "subtype": "subtype",
        "description": "description",
        "lon": "lon",
        "lat": "lat",
        "status": "status",
    }
    row = conn.execute(text("SELECT subtype, status, version FROM cases WHERE external_id = 'EN-1'")).one()
    assert tuple(row) == ("草堆", "registered", 2)


def test_text_that_looks_like_a_formula_stays_text(client: TestClient, conn: Connection) -> None:
    crew = Crew(client)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    crew.new_case(point(grid_point(conn)), description=evil)
    wb, _ = ledger(client, area=GRID, category="garbage_point")
    cell = next(row[3] for row in wb.active.iter_rows(min_row=4) if row[3].value == evil)
    assert cell.data_type == "s", "stored as text, never as a formula"
    csv = client.get("/exports/cases.csv", params={"area": GRID}, headers=login(client, "demo-admin")).text
    assert "'" + evil.replace('"', '""') in csv and "\n" + evil not in csv
