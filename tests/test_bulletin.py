"""The monthly bulletin (月度通报): figures against direct SQL, the files, who sees case lists, the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import Connection, text
from typer.testing import CliRunner

from api.cli import app as cli
from gis.access import ANONYMOUS, Principal
from gis.bulletin import monthly_bulletin
from gis.periods import current_month, month_period, previous_months
from gis.settings import Settings
from tests.lifecycle import login

QUKOU = "640221202"

DIRECT = text("""
WITH b AS (SELECT CAST(:d0 AS date) d0, CAST(:d1 AS date) d1,
                  CAST(:d0 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai' t0,
                  CAST(:d1 AS date)::timestamp AT TIME ZONE 'Asia/Shanghai' t1),
c AS (SELECT * FROM cases WHERE left(grid_code, length(:area)) = :area)
SELECT
 (SELECT count(*) FROM c, b WHERE EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'report'
     AND e.at >= b.t0 AND e.at < b.t1)) AS reported,
 (SELECT count(*) FROM c, b WHERE EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'register'
     AND e.at >= b.t0 AND e.at < b.t1)) AS registered,
 (SELECT count(*) FROM c, b WHERE c.deadline >= b.d0 AND c.deadline < b.d1 AND c.reported_at < b.t1
     AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'reject' AND e.at < b.t1)) AS due,
 (SELECT count(*) FROM c, b WHERE EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.action = 'close'
     AND e.at >= b.t0 AND e.at < b.t1)) AS closed
""")


@pytest.mark.parametrize("month", ["2022-01", "previous"])
def test_figures_match_direct_counts(conn: Connection, month: str) -> None:
    period = previous_months(current_month(), 2)[0] if month == "previous" else month_period(month)
    b = monthly_bulletin(conn, QUKOU, period, ANONYMOUS)
    direct = conn.execute(DIRECT, {"d0": period.start, "d1": period.end, "area": QUKOU}).one()
    f = b["figures"]
    assert (f["reported"], f["registered"], f["due"], f["closed"]) == tuple(direct)
    assert f["reported"] > 0 and f["due"] > 0
    assert f["closure_rate"] == f["due_closed"] / f["due"] and f["on_time_rate"] == f["due_on_time"] / f["due"]
    assert sum(m["reported"] for m in b["members"]) == f["reported"] and len(b["members"]) == 13
    top = conn.execute(
        text("""
        SELECT c.category, count(*) FROM cases c JOIN case_event e ON e.case_id = c.id AND e.action = 'report'
        WHERE c.township_code = :a AND e.at >= :t0 AND e.at < :t1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"""),
        {"a": QUKOU, "t0": f"{period.start} 00:00+08", "t1": f"{period.end} 00:00+08"},
    ).all()
    assert [(c["category"], c["reported"]) for c in b["top_categories"]] == [tuple(r) for r in top]
    assert b["series"][-1] == {"month": period.label, "reported": f["reported"], "closed": f["closed"]}
    assert len(b["map"]["features"]) == 13


def test_overdue_cases_are_listed_for_staff_only(conn: Connection) -> None:
    period = previous_months(current_month(), 2)[0]
    viewer = Principal(1, "v", "viewer", None, ("640221", "640302"))
    staff = monthly_bulletin(conn, QUKOU, period, viewer)
    public = monthly_bulletin(conn, QUKOU, period, ANONYMOUS)
    assert staff["overdue"]["total"] == public["overdue"]["total"] == staff["figures"]["overdue"] > 0
    assert staff["overdue"]["cases"] and public["overdue"]["cases"] == [] and not public["detail"]
    outsider = Principal(2, "i", "inspector", None, ("640302103",))
    assert monthly_bulletin(conn, QUKOU, period, outsider)["overdue"]["cases"] == []
    deadlines = [c["deadline"] for c in staff["overdue"]["cases"]]
    assert deadlines == sorted(deadlines) and all(c["days_overdue"] >= 1 for c in staff["overdue"]["cases"])


def test_bulletin_files(client: TestClient, conn: Connection) -> None:
    viewer = login(client, "demo-viewer")
    page = client.get(f"/bulletins/{QUKOU}/2022-01.html", headers=viewer)
    assert page.status_code == 200 and "渠口乡 2022年1月 月度通报" in page.text and page.text.count("<svg") == 2
    xlsx = client.get(f"/bulletins/{QUKOU}/2022-01.xlsx", headers=viewer)
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["主要指标", "分区统计", "月度走势", "逾期清单", "红黑榜"]
    assert wb["月度走势"]._charts, "the trend sheet carries a bar chart"
    figures = {r[0]: r[1] for r in wb["主要指标"].iter_rows(min_row=4, values_only=True)}
    expected = monthly_bulletin(conn, QUKOU, month_period("2022-01"), ANONYMOUS)["figures"]
    assert figures["上报 Reported"] == expected["reported"] and figures["应结案 Due"] == expected["due"]
    pdf = client.get(f"/bulletins/{QUKOU}/2022-01.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"WenQuanYiMicroHei" in pdf.content
    assert "attachment" in pdf.headers["content-disposition"]


def test_bulletin_refuses_bad_addresses(client: TestClient) -> None:
    assert client.get("/bulletins/640221202204/2022-01.html").status_code == 400
    assert client.get("/bulletins/640221202/2022-13.html").status_code == 400
    assert client.get("/bulletins/640221202/2022-01.doc").status_code == 400
    assert client.get("/bulletins/999999/2022-01.html").status_code == 400


def test_cli_writes_the_three_files(settings: Settings, sample: object, tmp_path: Path) -> None:
    del sample
    env = {"VILLAGEMAP_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(cli, ["bulletin", "--area", QUKOU, "--month", "2022-01", "-o", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"bulletin-{QUKOU}-2022-01.{ext}" for ext in ("html", "pdf", "xlsx")]
    html = (tmp_path / f"bulletin-{QUKOU}-2022-01.html").read_text(encoding="utf-8")
    assert "<svg" in html and "/static/" not in html, "one self-contained page"
    bad = CliRunner().invoke(cli, ["bulletin", "--area", QUKOU, "--month", "2022-1", "-o", str(tmp_path)], env=env)
    assert bad.exit_code == 1 and "2022-01" in bad.output
