"""Quota attainment (任务达标情况) of a campaign: per village per week, per phase, per campaign.

Built from the slots of ``gis.campaigns`` (one village × ISO week × quota). A village's week is met
when every quota of that week is met. Rates are shares of slots met (达标率); ``closed`` and
``required`` add up the counts. Targets for the area (目标任务) are counted where they live: closed
cases for problem categories, built or working facilities, completed or accepted projects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

from gis.campaigns import Slot, get_campaign, slots
from gis.errors import InvalidParameter
from gis.periods import Period


def tally(items: Iterable[Slot]) -> dict[str, Any]:
    """Slots, slots met, the rate and the closed/required counts of a set of slots."""
    chosen = list(items)
    met = sum(s.met for s in chosen)
    return {
        "slots": len(chosen),
        "met": met,
        "rate": met / len(chosen) if chosen else None,
        "closed": sum(s.closed for s in chosen),
        "required": sum(s.required for s in chosen),
    }


def _week_row(week: str, group: list[Slot]) -> dict[str, Any]:
    return {
        "week": week,
        "phase_seq": group[0].phase_seq,
        "met": all(s.met for s in group),
        "categories": [
            {"category": s.category, "closed": s.closed, "required": s.required, "met": s.met} for s in group
        ],
    }


def _village_rows(all_slots: list[Slot], phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    villages: dict[str, list[Slot]] = {}
    for s in all_slots:
        villages.setdefault(s.village_code, []).append(s)
    rows = []
    for code, mine in villages.items():
        weeks: dict[str, list[Slot]] = {}
        for s in mine:
            weeks.setdefault(s.week, []).append(s)
        rows.append(
            {
                "code": code,
                "name": mine[0].village_name,
                "total": tally(mine),
                "weeks": [_week_row(w, g) for w, g in weeks.items()],
                "phases": [{"seq": ph["seq"], **tally(s for s in mine if s.phase_seq == ph["seq"])} for ph in phases],
            }
        )
    return rows


def _check_week(campaign: dict[str, Any], week: Period | None, weeks: list[str]) -> None:
    if week is not None and week.label not in weeks:
        raise InvalidParameter(
            "week",
            f"{week.label} 不在该行动的任务周内（{weeks[0]}–{weeks[-1]}）。" if weeks else "该行动没有每周任务。",
            f"{week.label} is not a quota week of this campaign"
            + (f" ({weeks[0]}–{weeks[-1]})." if weeks else "; it has no weekly quotas."),
            value=week.label,
            campaign=campaign["id"],
        )


def campaign_attainment(conn: Connection, campaign_id: int, week: Period | None = None) -> dict[str, Any]:
    """The attainment report: villages × weeks, per phase, the campaign total and the targets."""
    campaign = get_campaign(conn, campaign_id)
    all_slots = slots(conn, [campaign_id])
    weeks = list(dict.fromkeys(s.week for s in sorted(all_slots, key=lambda s: s.monday)))
    _check_week(campaign, week, weeks)
    chosen = [s for s in all_slots if week is None or s.week == week.label]
    phases = [{**ph, **tally(s for s in chosen if s.phase_seq == ph["seq"])} for ph in campaign["phases"]]
    villages = _village_rows(chosen, campaign["phases"])
    villages.sort(key=lambda v: (-(v["total"]["rate"] or 0), -v["total"]["closed"], v["code"]))
    by_week = [{"week": w, **tally(s for s in chosen if s.week == w)} for w in weeks if week is None or w == week.label]
    return {
        "campaign": campaign,
        "week": week.label if week else None,
        "weeks": weeks,
        "total": tally(chosen),
        "phases": phases,
        "by_week": by_week,
        "villages": villages,
        "targets": target_progress(conn, campaign_id),
    }


TARGETS = text("""
SELECT tg.category, c.label_zh, c.label_en, c.kind, tg.target_count, tg.due_on,
  CASE c.kind
    WHEN 'facility' THEN (SELECT count(*) FROM facility f WHERE f.category = tg.category
        AND left(f.grid_code, length(cmp.area_code)) = cmp.area_code AND f.state IN ('built', 'working'))
    WHEN 'project' THEN (SELECT count(*) FROM project p WHERE p.category = tg.category
        AND left(coalesce(p.village_code, p.township_code, p.county_code), length(cmp.area_code)) = cmp.area_code
        AND p.status IN ('completed', 'accepted'))
    ELSE (SELECT count(DISTINCT x.id) FROM cases x JOIN case_event e ON e.case_id = x.id AND e.action = 'close'
        WHERE x.category = tg.category AND left(x.grid_code, length(cmp.area_code)) = cmp.area_code
          AND e.at >= (cmp.starts_on::timestamp AT TIME ZONE 'Asia/Shanghai')
          AND e.at < ((tg.due_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'))
  END AS done
FROM campaign_target tg JOIN campaign cmp ON cmp.id = tg.campaign_id JOIN category c ON c.code = tg.category
WHERE tg.campaign_id = :cid
ORDER BY tg.due_on, tg.id
""")


def target_progress(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Each target with how many are done (facilities and projects as they stand now)."""
    rows = conn.execute(TARGETS, {"cid": campaign_id})
    return [
        {
            "category": r.category,
            "label_zh": r.label_zh,
            "label_en": r.label_en,
            "kind": r.kind,
            "target_count": r.target_count,
            "due_on": r.due_on.isoformat(),
            "done": int(r.done),
            "met": int(r.done) >= r.target_count,
        }
        for r in rows
    ]


def village_rates(report: dict[str, Any]) -> dict[str, float | None]:
    """Village code → attainment rate, for colouring a map."""
    return {v["code"]: v["total"]["rate"] for v in report["villages"]}


def quota_by_member(conn: Connection, area: str, period: Period, member_len: int, ids: list[int]) -> dict[str, Any]:
    """Per member (child area) the slots of the period: tally and per-category shortfalls."""
    out: dict[str, dict[str, Any]] = {}
    for s in slots(conn, ids, area):
        if not s.in_period(period):
            continue
        entry = out.setdefault(s.village_code[:member_len], {"slots": [], "missed": {}})
        entry["slots"].append(s)
        if not s.met:
            miss = entry["missed"].setdefault(s.category, {"weeks": 0, "min_count": s.min_count})
            miss["weeks"] += 1
    return {k: {"tally": tally(v["slots"]), "missed": v["missed"]} for k, v in out.items()}
