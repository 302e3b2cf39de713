"""Campaigns and quota attainment (整治行动与任务达标) on a hand-built fixture with known answers.

The fixture township is 扁担沟镇 (640302103), which has no sample cases in 2022: a campaign there
with three phases and weekly quotas during the second, and cases closed at chosen local times.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from data.campaigns import QUKOU_WINTER
from gis.attainment import campaign_attainment
from gis.campaigns import CampaignSpec, PhaseSpec, QuotaSpec, TargetSpec, create_campaign
from gis.periods import SHANGHAI, week_period

TOWNSHIP = "640302103"  # 扁担沟镇
A, B = "640302103200", "640302103201"  # 扁担沟村, 烽火墩村

INSERT_CASE = text("""
INSERT INTO cases (code, category, subtype, geom, county_code, township_code, village_code, grid_code, status, title,
                   reported_at, closed_at, closed_on_time, deadline, source, version)
SELECT vm_next_case_code(left(g.code, 6), CAST(:reported AS timestamptz)), :category, NULL, ST_PointOnSurface(g.geom),
       left(g.code, 6), left(g.code, 9), left(g.code, 12), g.code, :status, 'fixture', :reported, :closed,
       CASE WHEN CAST(:closed AS timestamptz) IS NULL OR CAST(:deadline AS date) IS NULL THEN NULL
            ELSE (CAST(:closed AS timestamptz) AT TIME ZONE 'Asia/Shanghai')::date <= CAST(:deadline AS date) END,
       :deadline, 'app', :version
FROM region g WHERE g.parent_code = :village AND g.level = 'grid' ORDER BY g.code LIMIT 1
RETURNING id
""")
INSERT_EVENT = text("""
INSERT INTO case_event (case_id, county_code, action, from_status, to_status, actor, at)
VALUES (:case_id, left(:village, 6), :action, :from_status, :to_status, 'fixture', :at)
""")
STATUS_AFTER = {
    "report": "reported",
    "register": "registered",
    "assign": "assigned",
    "start": "in_progress",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "registered",
    "return": "assigned",
}


def local(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """A Beijing-time moment."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=SHANGHAI)


def add_case(
    conn: Connection, village: str, category: str, steps: list[tuple[str, datetime]], deadline: date | None = None
) -> int:
    """A case with the given events (action, local time); status and closed_at follow the last one."""
    status = STATUS_AFTER[steps[-1][0]]
    closed = steps[-1][1] if status == "closed" else None
    params = {
        "village": village,
        "category": category,
        "status": status,
        "reported": steps[0][1],
        "closed": closed,
        "deadline": deadline,
        "version": len(steps),
    }
    case_id = int(conn.execute(INSERT_CASE, params).scalar_one())
    previous = None
    for action, at in steps:
        to = STATUS_AFTER[action]
        conn.execute(
            INSERT_EVENT,
            {
                "case_id": case_id,
                "village": village,
                "action": action,
                "from_status": previous,
                "to_status": to,
                "at": at,
            },
        )
        previous = to
    return case_id


def closed_case(conn: Connection, village: str, category: str, closed: datetime) -> int:
    """A case reported two days before it was closed."""
    start = closed - timedelta(days=2)
    return add_case(conn, village, category, [("report", start), ("register", start), ("close", closed)])


FIXTURE = CampaignSpec(
    code="fixture-2022-spring",
    name="扁担沟镇春季清洁行动（测试）",
    area_code=TOWNSHIP,
    starts_on=date(2022, 3, 2),
    ends_on=date(2022, 3, 25),
    phases=(
        PhaseSpec("动员", date(2022, 3, 2), date(2022, 3, 7)),
        PhaseSpec("攻坚", date(2022, 3, 7), date(2022, 3, 23)),
        PhaseSpec("验收", date(2022, 3, 23), date(2022, 3, 25)),
    ),
    quotas=(QuotaSpec("ruined_wall", 2, phase_seq=2), QuotaSpec("dilapidated_house", 1, phase_seq=2)),
    targets=(TargetSpec("ruined_wall", 4, date(2022, 3, 25)),),
)


@pytest.fixture
def campaign(conn: Connection) -> int:
    """The fixture campaign and its closures (rolled back after the test)."""
    campaign_id = create_campaign(conn, FIXTURE)
    for when in [
        local("2022-03-07", 0, 30),
        local("2022-03-13", 23, 0),
        local("2022-03-15"),
        local("2022-03-22", 23, 59),
        local("2022-03-23", 0, 1),
        local("2022-03-06", 23, 30),
    ]:
        closed_case(conn, A, "ruined_wall", when)
    twice = closed_case(conn, A, "ruined_wall", local("2022-03-08"))
    conn.execute(
        INSERT_EVENT,
        {
            "case_id": twice,
            "village": A,
            "action": "reopen",
            "from_status": "closed",
            "to_status": "registered",
            "at": local("2022-03-09"),
        },
    )
    conn.execute(
        INSERT_EVENT,
        {
            "case_id": twice,
            "village": A,
            "action": "close",
            "from_status": "registered",
            "to_status": "closed",
            "at": local("2022-03-10"),
        },
    )
    closed_case(conn, A, "dilapidated_house", local("2022-03-09"))
    return campaign_id


def _village(report: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in report["villages"] if v["code"] == code)
    return found


def test_weekly_slots_prorate_partial_weeks_and_count_distinct_closures(conn: Connection, campaign: int) -> None:
    report = campaign_attainment(conn, campaign)
    assert report["weeks"] == ["2022-W10", "2022-W11", "2022-W12"]
    a = _village(report, A)
    cells = {
        (w["week"], c["category"]): (c["closed"], c["required"], c["met"]) for w in a["weeks"] for c in w["categories"]
    }
    # W10 (7–13 Mar): 00:30 on the phase's first day counts, the case closed twice counts once.
    assert cells[("2022-W10", "ruined_wall")] == (3, 2, True)
    assert cells[("2022-W11", "ruined_wall")] == (1, 2, False)
    # W12 holds only 21–22 Mar of the phase: 2 days → ceil(2 × 2 / 7) = 1 wall, ceil(1 × 2 / 7) = 1 house.
    assert cells[("2022-W12", "ruined_wall")] == (1, 1, True)
    assert cells[("2022-W10", "dilapidated_house")] == (1, 1, True)
    assert cells[("2022-W11", "dilapidated_house")] == (0, 1, False)
    assert cells[("2022-W12", "dilapidated_house")] == (0, 1, False)
    assert a["total"] == {"slots": 6, "met": 3, "rate": 0.5, "closed": 6, "required": 8}
    assert [w["met"] for w in a["weeks"]] == [True, False, False]
    b = _village(report, B)
    assert b["total"]["met"] == 0 and b["total"]["slots"] == 6
    villages = len(report["villages"])
    assert report["total"]["slots"] == 6 * villages and report["total"]["met"] == 3
    phases = {p["seq"]: p for p in report["phases"]}
    assert phases[1]["slots"] == 0 and phases[2]["met"] == 3 and phases[3]["slots"] == 0
    assert report["villages"][0]["code"] == A, "villages are ordered by attainment"


def test_targets_count_closures_up_to_their_day(conn: Connection, campaign: int) -> None:
    targets = campaign_attainment(conn, campaign)["targets"]
    done = conn.execute(
        text("""
        SELECT count(DISTINCT c.id) FROM cases c JOIN case_event e ON e.case_id = c.id AND e.action = 'close'
        WHERE c.township_code = :t AND c.category = 'ruined_wall'
          AND e.at >= '2022-03-02 00:00+08' AND e.at < '2022-03-26 00:00+08'"""),
        {"t": TOWNSHIP},
    ).scalar_one()
    assert targets == [
        {
            "category": "ruined_wall",
            "label_zh": "残垣断壁",
            "label_en": "Ruined wall",
            "kind": "problem",
            "target_count": 4,
            "due_on": "2022-03-25",
            "done": done,
            "met": done >= 4,
        }
    ]
    assert done == 7


def test_one_week_and_refused_weeks(client: TestClient, campaign: int) -> None:
    one = client.get(f"/campaigns/{campaign}/attainment", params={"week": "2022-W11"})
    assert one.status_code == 200
    body = one.json()
    assert body["week"] == "2022-W11" and [w["week"] for w in body["by_week"]] == ["2022-W11"]
    assert _village(body, A)["total"] == {"slots": 2, "met": 0, "rate": 0.0, "closed": 1, "required": 3}
    outside = client.get(f"/campaigns/{campaign}/attainment", params={"week": "2022-W20"})
    assert outside.status_code == 400 and "2022-W10" in outside.json()["detail_zh"]
    malformed = client.get(f"/campaigns/{campaign}/attainment", params={"week": "2022-11"})
    assert malformed.status_code == 400 and malformed.json()["parameter"] == "week"
    assert client.get("/campaigns/999999/attainment").status_code == 404


def test_attainment_page_table_and_map(client: TestClient, campaign: int) -> None:
    page = client.get(f"/campaigns/{campaign}/attainment", params={"f": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "扁担沟镇春季清洁行动" in html and 'id="vm-attainment"' in html and "<svg" in html
    assert f'data-code="{A}"' in html and "3/2 · 1/1" in html, "closed/required per quota in the A row"


def test_sample_holds_the_qukou_winter_campaign(client: TestClient) -> None:
    listed = client.get("/campaigns", params={"area": "640221202"}).json()["campaigns"]
    winter = next(c for c in listed if c["code"] == QUKOU_WINTER.code)
    assert [(p["name"], p["starts_on"], p["ends_before"]) for p in winter["phases"]] == [
        ("宣传动员", "2021-12-15", "2021-12-22"),
        ("集中攻坚", "2021-12-22", "2022-02-17"),
        ("考核验收", "2022-02-17", "2022-02-20"),
    ]
    assert {(q["category"], q["min_count"], q["phase_seq"]) for q in winter["quotas"]} == {
        ("ruined_wall", 5, 2),
        ("dilapidated_house", 3, 2),
    }
    report = client.get(f"/campaigns/{winter['id']}/attainment").json()
    assert report["weeks"][0] == "2021-W51" and report["weeks"][-1] == "2022-W07"
    assert len(report["villages"]) == 13 and report["total"]["slots"] == 13 * 9 * 2
    assert report["targets"][0]["done"] == 3 and report["targets"][0]["met"]
    assert client.get("/campaigns", params={"f": "html"}).status_code == 200


def test_sample_attainment_matches_direct_counts(conn: Connection) -> None:
    campaign_id = conn.execute(text("SELECT id FROM campaign WHERE code = :c"), {"c": QUKOU_WINTER.code}).scalar_one()
    week = week_period("2022-W03")
    report = campaign_attainment(conn, campaign_id, week)
    direct: dict[str, int] = dict(
        conn.execute(
            text("""
        SELECT c.village_code || c.category, count(DISTINCT c.id) FROM cases c
        JOIN case_event e ON e.case_id = c.id AND e.action = 'close'
        WHERE c.township_code = '640221202' AND e.at >= '2022-01-17 00:00+08' AND e.at < '2022-01-24 00:00+08'
        GROUP BY 1""")
        ).all()
    )
    for v in report["villages"]:
        for cell in v["weeks"][0]["categories"]:
            assert cell["closed"] == direct.get(v["code"] + cell["category"], 0)
            assert cell["required"] == {"ruined_wall": 5, "dilapidated_house": 3}[cell["category"]]
