"""The red-black list (红黑榜): the documented score, list sizes and reasons, on a hand-built fixture.

扁担沟镇 (640302103, 12 villages) has no sample cases in March 2022. Three villages get cases:
A closes both its due cases on time, C closes its one late, B leaves three black-odorous water
bodies open past their deadline and closes a garbage point late.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from gis.errors import InvalidParameter
from gis.figures import Figures, period_figures
from gis.periods import month_period
from gis.rankings import components, list_size, red_black, score
from tests.test_campaigns import TOWNSHIP, add_case, local

A, B, C = "640302103200", "640302103201", "640302103202"


@pytest.fixture
def fixture_cases(conn: Connection) -> None:
    for day in ("2022-03-08", "2022-03-09"):
        add_case(
            conn,
            A,
            "garbage_point",
            [("report", local("2022-03-01")), ("assign", local("2022-03-02")), ("close", local(day))],
            deadline=date(2022, 3, 10),
        )
    for _ in range(3):
        add_case(
            conn,
            B,
            "black_odorous_water",
            [("report", local("2022-03-01")), ("register", local("2022-03-01")), ("assign", local("2022-03-01", 15))],
            deadline=date(2022, 3, 5),
        )
    add_case(
        conn,
        B,
        "garbage_point",
        [("report", local("2022-03-10")), ("assign", local("2022-03-11")), ("close", local("2022-03-25"))],
        deadline=date(2022, 3, 20),
    )
    add_case(
        conn,
        C,
        "ruined_wall",
        [("report", local("2022-03-01")), ("assign", local("2022-03-02")), ("close", local("2022-03-16"))],
        deadline=date(2022, 3, 15),
    )


def test_list_sizes_are_counts_or_shares_at_least_one() -> None:
    assert list_size(None, "0.2", 13, "red") == 2 and list_size(None, "0.1", 13, "black") == 1
    assert list_size("3", "0.2", 13, "red") == 3 and list_size("20%", "0.2", 13, "red") == 2
    assert list_size("0.05", "0.2", 13, "red") == 1 and list_size("50", "0.2", 13, "red") == 13
    for bad in ("0", "-1", "1.5", "abc", "nan"):
        with pytest.raises(InvalidParameter):
            list_size(bad, "0.2", 13, "red")


def test_score_is_the_weighted_mean_of_the_components_with_data() -> None:
    f = Figures(due=4, due_closed=4, due_on_time=2, open_end=4, overdue=2)
    parts = components(f, None)
    assert parts == {"on_time": 0.5, "closure": 1.0, "quota": None, "overdue": 0.5}
    assert score(parts) == round(100 * (0.3 * 0.5 + 0.2 * 1.0 + 0.2 * 0.5) / 0.7, 1) == 64.3
    quota = {"tally": {"rate": 0.25}, "missed": {}}
    assert score(components(f, quota)) == round(100 * (0.15 + 0.2 + 0.3 * 0.25 + 0.1), 1)
    assert components(Figures(), None) == {"on_time": None, "closure": None, "quota": None, "overdue": 1.0}


@pytest.mark.usefixtures("fixture_cases")
def test_ranking_lists_and_reasons(conn: Connection) -> None:
    ranking = red_black(conn, TOWNSHIP, month_period("2022-03"))
    entries = {e["code"]: e for e in ranking["entries"]}
    assert len(entries) == 12
    assert entries[A]["score"] == 100.0 and entries[A]["rank"] == 1
    assert entries[C]["score"] == round(100 * (0.2 * 1 + 0.2 * 1) / 0.7, 1) == 57.1
    assert entries[B]["score"] == round(100 * (0.2 * 0.25) / 0.7, 1) == 7.1
    assert entries[B]["rank"] == 12 and entries[C]["rank"] == 11
    assert ranking["red"] == [A, C], "20 % of 12 is 2; only entries with data can be red"
    assert ranking["black"] == [B]
    assert entries[B]["reasons_zh"] == [
        "3 个黑臭水体逾期未销号",
        "按期结案率 0%（应结案 4 件，按期结案 0 件）",
        "结案率 25%（应结案 4 件，已结案 1 件）",
    ]
    assert entries[B]["reasons_en"][0] == "Black-odorous water body: 3 overdue, not struck off"
    only_one = red_black(conn, TOWNSHIP, month_period("2022-03"), red="1", black="2")
    assert only_one["red"] == [A] and only_one["black"] == [B, C], "worst first"


@pytest.mark.usefixtures("fixture_cases")
def test_figures_match_direct_sql(conn: Connection) -> None:
    figures = period_figures(conn, month_period("2022-03"), area=TOWNSHIP, member_len=12)
    due: dict[str, int] = dict(
        conn.execute(
            text("""
        SELECT village_code, count(*) FROM cases WHERE township_code = :t
          AND deadline >= '2022-03-01' AND deadline < '2022-04-01' GROUP BY 1"""),
            {"t": TOWNSHIP},
        ).all()
    )
    on_time: dict[str, int] = dict(
        conn.execute(
            text("""
        SELECT village_code, count(*) FROM cases WHERE township_code = :t AND closed_on_time
          AND deadline >= '2022-03-01' AND deadline < '2022-04-01' GROUP BY 1"""),
            {"t": TOWNSHIP},
        ).all()
    )
    for village in (A, B, C):
        assert figures[village].due == due[village]
        assert figures[village].due_on_time == on_time.get(village, 0)
    assert figures[B].overdue == 3 and figures[B].open_end == 3 and figures[A].reported == 2


@pytest.mark.usefixtures("fixture_cases")
def test_red_black_api_html_and_xlsx(client: TestClient) -> None:
    params = {"area": TOWNSHIP, "period": "2022-03"}
    body = client.get("/rankings/red-black", params=params).json()
    assert body["black"] == [B] and body["weights"] == {"on_time": 0.3, "closure": 0.2, "quota": 0.3, "overdue": 0.2}
    page = client.get("/rankings/red-black", params=params | {"f": "html"})
    assert page.status_code == 200 and "3 个黑臭水体逾期未销号" in page.text and 'id="vm-black"' in page.text
    xlsx = client.get("/rankings/red-black", params=params | {"f": "xlsx"})
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[2][0].startswith("排名") and ws.freeze_panes == "A4"
    black = next(r for r in rows[3:] if r[2] == B)
    assert black[3] == "黑榜 black" and "黑臭水体逾期未销号" in black[11]
    week = client.get("/rankings/red-black", params={"area": TOWNSHIP, "period": "2022-W10"}).json()
    assert week["period"] == {
        "label": "2022-W10",
        "label_zh": "2022年第10周",
        "kind": "week",
        "start": "2022-03-07",
        "end": "2022-03-14",
    }


def test_red_black_refuses_bad_parameters(client: TestClient) -> None:
    assert client.get("/rankings/red-black", params={"area": "640302103200", "period": "2022-03"}).status_code == 400
    assert client.get("/rankings/red-black", params={"area": "999999999", "period": "2022-03"}).status_code == 400
    bad = client.get("/rankings/red-black", params={"area": TOWNSHIP, "period": "2022-3"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "period"
    assert (
        client.get("/rankings/red-black", params={"area": TOWNSHIP, "period": "2022-03", "red": "x"}).status_code == 400
    )


def test_qukou_winter_january_ranks_thirteen_villages(client: TestClient) -> None:
    body = client.get("/rankings/red-black", params={"area": "640221202", "period": "2022-01"}).json()
    assert len(body["entries"]) == 13 and len(body["red"]) == 2 and len(body["black"]) == 1
    black = next(e for e in body["entries"] if e["list"] == "black")
    assert black["components"]["quota"] is not None and black["reasons_zh"]
    assert all(e["score"] >= black["score"] for e in body["entries"])
