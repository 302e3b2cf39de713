"""Contractor scoring (第三方考核): 60 % township + 40 % villages, latest submission counts, roles."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from gis.scores import DEFAULT_ITEMS
from gis.users import create_user
from tests.lifecycle import login

ERQUAN = "640221202-erquan"
MONTH = "2022-01"


def sheet(total: float) -> dict[str, float]:
    """Item scores in proportion to each item's maximum, adding up to ``total``."""
    return {i["code"]: i["max"] * total / 100 for i in DEFAULT_ITEMS}


def submit(client: TestClient, headers: dict[str, str], total: float, **extra: Any) -> Any:
    return client.post(
        f"/contractors/{ERQUAN}/scores", json={"month": MONTH, "items": sheet(total), **extra}, headers=headers
    )


def month(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/contractors/{ERQUAN}/scores", params={"month": MONTH}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["months"][0]
    return result


def test_final_is_sixty_forty_and_the_latest_submission_counts(client: TestClient, conn: Connection) -> None:
    inspector, village = login(client, "demo-inspector"), login(client, "demo-village")
    first = submit(client, inspector, 90)
    assert first.status_code == 201, first.text
    assert first.json()["township"] == 90 and first.json()["final"] is None and not first.json()["complete"]
    done = submit(client, village, 70).json()
    assert done["village"] == 70 and done["final"] == 82.0 and done["complete"]
    again = submit(client, inspector, 80, note="复核后调整").json()
    assert again["township"] == 80 and again["final"] == 76.0
    kept = conn.execute(
        text(
            "SELECT count(*) FROM contractor_score s JOIN unit u ON u.id = s.unit_id "
            "WHERE u.code = :u AND s.month = '2022-01-01'"
        ),
        {"u": ERQUAN},
    ).scalar_one()
    assert kept == 3, "every submission is kept"
    unit_id = conn.execute(text("SELECT id FROM unit WHERE code = :u"), {"u": ERQUAN}).scalar_one()
    create_user(
        conn,
        username="vo-qukou",
        display_name="渠口村 村干部",
        role="village_official",
        password="x" * 8,
        areas=["640221202200"],
    )
    assert submit(client, login(client, "vo-qukou", "x" * 8), 60).json()["village"] == 65.0
    assert month(client, login(client, "demo-viewer"))["final"] == round(0.6 * 80 + 0.4 * 65, 2) == 74.0
    conn.execute(
        text("""INSERT INTO contractor_scheme (unit_id, from_month, township_weight, village_weight, items)
                         SELECT :u, '2022-01-01', 0.5, 0.5, items FROM contractor_scheme WHERE unit_id = :u"""),
        {"u": unit_id},
    )
    reweighted = month(client, login(client, "demo-viewer"))
    assert reweighted["weights"] == {"township": 0.5, "village": 0.5} and reweighted["final"] == 72.5


def test_who_may_score(client: TestClient, conn: Connection) -> None:
    assert submit(client, login(client, "demo-grid-manager"), 80).status_code == 403
    assert submit(client, login(client, "demo-contractor"), 100).status_code == 403
    assert submit(client, {}, 80).status_code == 401
    village = login(client, "demo-village")
    other = submit(client, village, 80, area="640221202200")
    assert other.status_code == 403 and "640221202200" in other.json()["detail_zh"]
    create_user(
        conn,
        username="insp-litong",
        display_name="利通区核查员",
        role="inspector",
        password="x" * 8,
        areas=["640302103"],
    )
    foreign = submit(client, login(client, "insp-litong", "x" * 8), 80)
    assert foreign.status_code == 422 and foreign.json()["field"] == "area", "二泉公司 does not serve 扁担沟镇"
    unknown = client.post(
        "/contractors/nobody/scores", json={"month": MONTH, "items": sheet(80)}, headers=login(client, "demo-inspector")
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({**sheet(80), "collection": 31}, "items.collection"),
        ({**sheet(80), "response": -1}, "items.response"),
        ({**sheet(80), "sorting": True}, "items.sorting"),
        ({k: v for k, v in sheet(80).items() if k != "facilities"}, "items"),
        ({**sheet(80), "bonus": 5}, "items"),
    ],
)
def test_item_scores_are_checked(client: TestClient, items: dict[str, Any], field: str) -> None:
    response = client.post(
        f"/contractors/{ERQUAN}/scores", json={"month": MONTH, "items": items}, headers=login(client, "demo-inspector")
    )
    assert response.status_code == 422 and response.json()["field"] == field
    assert response.json()["detail_zh"] and response.json()["detail"]


def test_future_months_and_bad_bodies_are_refused(client: TestClient) -> None:
    inspector = login(client, "demo-inspector")
    future = client.post(
        f"/contractors/{ERQUAN}/scores", json={"month": "2099-01", "items": sheet(80)}, headers=inspector
    )
    assert future.status_code == 422 and future.json()["field"] == "month"
    extra = client.post(
        f"/contractors/{ERQUAN}/scores", json={"month": MONTH, "items": sheet(80), "x": 1}, headers=inspector
    )
    assert extra.status_code == 400


def test_who_may_see_scores(client: TestClient) -> None:
    url = f"/contractors/{ERQUAN}/scores"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login(client, "demo-grid-manager")).status_code == 403
    own = client.get(url, headers=login(client, "demo-contractor"))
    assert own.status_code == 200 and "scorer" not in own.json()["months"][0]["entries"][0]
    other = client.get("/contractors/640302-baojie/scores", headers=login(client, "demo-contractor"))
    assert other.status_code == 403


def test_sample_history_with_objective_figures(client: TestClient, conn: Connection) -> None:
    body = client.get(f"/contractors/{ERQUAN}/scores", headers=login(client, "demo-viewer")).json()
    months = body["months"]
    assert len(months) == 4 and all(m["complete"] and m["villages_scored"] == 13 for m in months)
    for m in months:
        assert m["final"] == round(0.6 * m["township"] + 0.4 * m["village"], 2)
        returned = conn.execute(
            text("""
            SELECT count(*) FROM case_event e JOIN cases c ON c.id = e.case_id JOIN unit u ON u.id = c.assignee_unit_id
            WHERE u.code = :u AND e.action = 'return'
              AND to_char(e.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = :m"""),
            {"u": ERQUAN, "m": m["month"]},
        )
        assert m["objective"]["returned"] == returned.scalar_one()
    page = client.get(f"/contractors/{ERQUAN}/scores", params={"f": "html"}, headers=login(client, "demo-viewer"))
    assert page.status_code == 200 and 'id="vm-scores"' in page.text and months[-1]["month"] in page.text
    xlsx = client.get(f"/contractors/{ERQUAN}/scores", params={"f": "xlsx"}, headers=login(client, "demo-admin"))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["月度考核", "评分明细"]
    rows = list(wb["月度考核"].iter_rows(values_only=True))
    assert rows[2][0] == "月份 Month" and [r[0] for r in rows[3:]] == [m["month"] for m in months]
