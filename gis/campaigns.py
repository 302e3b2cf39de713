"""Campaigns (整治行动) with phases, weekly quotas per village and targets for the area.

E.g. 渠口乡 2021 冬季战役: 宣传动员 2021-12-15 → 集中攻坚 2021-12-22 → 考核验收 2022-02-17..19; during
集中攻坚 every village clears ≥ 5 残垣断壁 and demolishes ≥ 3 危房 a week. A phase includes its first
day and ends where the next begins (the last one on its end date). Weeks are ISO weeks.

Attainment (任务达标) is counted from close events (结案销号): a *slot* is one village, one ISO week
and one quota; its *slice* is the part of the week inside the quota's phase. A slot needs
``ceil(min_count × days in slice / 7)`` distinct cases of the category closed within its slice
(a whole week needs the full quota; the phase's first and last partial weeks a prorated share).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer

from gis import tables_office as o
from gis.errors import NotFound
from gis.periods import Period


@dataclass(frozen=True)
class PhaseSpec:
    """A phase (阶段): name and its dates as the plan states them."""

    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class QuotaSpec:
    """A weekly quota per village (每村每周任务量), optionally for one phase only (1-based)."""

    category: str
    min_count: int
    phase_seq: int | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A target for the whole area (目标任务): ``target_count`` of a category by ``due_on``."""

    category: str
    target_count: int
    due_on: date


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign as a plan defines it (实施方案)."""

    code: str
    name: str
    area_code: str
    starts_on: date
    ends_on: date
    description: str = ""
    source: str = ""
    phases: tuple[PhaseSpec, ...] = ()
    quotas: tuple[QuotaSpec, ...] = ()
    targets: tuple[TargetSpec, ...] = field(default_factory=tuple)


def create_campaign(conn: Connection, spec: CampaignSpec) -> int:
    """Store a campaign with its phases, quotas and targets; returns its id."""
    values = {k: getattr(spec, k) for k in ("code", "name", "area_code", "starts_on", "ends_on", "description")}
    campaign_id = int(
        conn.execute(insert(o.campaign).values(source=spec.source, **values).returning(o.campaign.c.id)).scalar_one()
    )
    for seq, ph in enumerate(spec.phases, start=1):
        conn.execute(
            insert(o.campaign_phase).values(
                campaign_id=campaign_id, seq=seq, name=ph.name, starts_on=ph.starts_on, ends_on=ph.ends_on
            )
        )
    for q in spec.quotas:
        conn.execute(
            insert(o.campaign_quota).values(
                campaign_id=campaign_id, category=q.category, min_count=q.min_count, phase_seq=q.phase_seq
            )
        )
    for tg in spec.targets:
        conn.execute(
            insert(o.campaign_target).values(
                campaign_id=campaign_id, category=tg.category, target_count=tg.target_count, due_on=tg.due_on
            )
        )
    return campaign_id


LIST = text("""
SELECT json_build_object(
  'id', cmp.id, 'code', cmp.code, 'name', cmp.name, 'area_code', cmp.area_code, 'area_name', r.name,
  'starts_on', cmp.starts_on, 'ends_on', cmp.ends_on, 'description', cmp.description, 'source', cmp.source,
  'phases', (SELECT coalesce(json_agg(json_build_object('seq', p.seq, 'name', p.name, 'starts_on', p.starts_on,
      'ends_on', p.ends_on, 'ends_before', coalesce((SELECT min(n.starts_on) FROM campaign_phase n
        WHERE n.campaign_id = p.campaign_id AND n.seq > p.seq), p.ends_on + 1)) ORDER BY p.seq), '[]')
    FROM campaign_phase p WHERE p.campaign_id = cmp.id),
  'quotas', (SELECT coalesce(json_agg(json_build_object('category', q.category, 'label_zh', c.label_zh,
      'label_en', c.label_en, 'per', q.per, 'level', q.level, 'min_count', q.min_count, 'phase_seq', q.phase_seq)
      ORDER BY q.id), '[]')
    FROM campaign_quota q JOIN category c ON c.code = q.category WHERE q.campaign_id = cmp.id),
  'targets', (SELECT coalesce(json_agg(json_build_object('category', tg.category, 'label_zh', c.label_zh,
      'label_en', c.label_en, 'kind', c.kind, 'target_count', tg.target_count, 'due_on', tg.due_on)
      ORDER BY tg.due_on, tg.id), '[]')
    FROM campaign_target tg JOIN category c ON c.code = tg.category WHERE tg.campaign_id = cmp.id)
)::text
FROM campaign cmp JOIN region r ON r.code = cmp.area_code
WHERE (CAST(:area AS text) IS NULL OR left(cmp.area_code, length(:area)) = :area
       OR left(:area, length(cmp.area_code)) = cmp.area_code)
  AND (CAST(:cid AS integer) IS NULL OR cmp.id = :cid)
ORDER BY cmp.starts_on DESC, cmp.id
""")


def list_campaigns(conn: Connection, area: str | None = None) -> list[dict[str, Any]]:
    """Campaigns of an area, its parents or its parts (newest first), with phases and quotas."""
    import json

    return [json.loads(row) for row in conn.execute(LIST, {"area": area, "cid": None}).scalars()]


def get_campaign(conn: Connection, campaign_id: int) -> dict[str, Any]:
    """One campaign with its phases and quotas, or NotFound."""
    import json

    found = conn.execute(LIST, {"area": None, "cid": campaign_id}).scalar_one_or_none()
    if found is None:
        raise NotFound(f"整治行动 {campaign_id} 不存在。", f"Campaign {campaign_id} does not exist.", id=campaign_id)
    campaign: dict[str, Any] = json.loads(found)
    return campaign


SLOTS = text("""
WITH cmp AS (SELECT * FROM campaign WHERE id = ANY (:ids)),
phase AS (
  SELECT p.campaign_id, p.seq, p.starts_on,
         coalesce(lead(p.starts_on) OVER (PARTITION BY p.campaign_id ORDER BY p.seq), p.ends_on + 1) AS ends_before
  FROM campaign_phase p WHERE p.campaign_id = ANY (:ids)
), win AS (
  SELECT q.id AS quota_id, q.campaign_id, cmp.area_code, q.category, q.min_count, q.phase_seq,
         coalesce(ph.starts_on, cmp.starts_on) AS w0, coalesce(ph.ends_before, cmp.ends_on + 1) AS w1
  FROM campaign_quota q JOIN cmp ON cmp.id = q.campaign_id
  LEFT JOIN phase ph ON ph.campaign_id = q.campaign_id AND ph.seq = q.phase_seq
), slice AS (
  SELECT w.*, wk::date AS monday, greatest(wk::date, w.w0) AS s0, least(wk::date + 7, w.w1) AS s1
  FROM win w, generate_series(date_trunc('week', w.w0::timestamp), (w.w1 - 1)::timestamp, interval '1 week') wk
), village AS (
  SELECT DISTINCT w.campaign_id, v.code, v.name FROM win w
  JOIN region v ON v.level = 'village' AND left(v.code, length(w.area_code)) = w.area_code
  WHERE left(v.code, length(:area)) = :area
), closure AS (
  SELECT c.village_code, c.category, e.case_id, e.at FROM cases c
  JOIN case_event e ON e.case_id = c.id AND e.action = 'close'
  WHERE c.village_code IN (SELECT code FROM village) AND c.category IN (SELECT category FROM win)
)
SELECT v.campaign_id, v.code AS village_code, v.name AS village_name, s.quota_id, s.category, s.phase_seq,
       s.min_count, to_char(s.monday, 'IYYY-"W"IW') AS week, s.monday, s.s0, s.s1,
       ceil(s.min_count * (s.s1 - s.s0) / 7.0)::integer AS required,
       (SELECT count(DISTINCT cl.case_id) FROM closure cl
        WHERE cl.village_code = v.code AND cl.category = s.category
          AND cl.at >= (s.s0::timestamp AT TIME ZONE 'Asia/Shanghai')
          AND cl.at < (s.s1::timestamp AT TIME ZONE 'Asia/Shanghai'))::integer AS closed
FROM village v JOIN slice s ON s.campaign_id = v.campaign_id
WHERE s.s1 > s.s0
ORDER BY v.code, s.monday, s.quota_id
""").bindparams(bindparam("ids", type_=ARRAY(Integer)))


@dataclass(frozen=True)
class Slot:
    """One village × ISO week × quota (任务格): what was required and what was closed."""

    campaign_id: int
    village_code: str
    village_name: str
    category: str
    phase_seq: int | None
    min_count: int
    week: str
    monday: date
    required: int
    closed: int

    @property
    def met(self) -> bool:
        """The quota of this slot is met (达标)."""
        return self.closed >= self.required

    def in_period(self, period: Period) -> bool:
        """A slot counts for the period holding its week's Thursday (as ISO years do)."""
        from datetime import timedelta

        return period.start <= self.monday + timedelta(days=3) < period.end


def slots(conn: Connection, campaign_ids: Sequence[int], area: str = "") -> list[Slot]:
    """Every quota slot of the campaigns, for villages under ``area`` (all when empty)."""
    if not campaign_ids:
        return []
    rows = conn.execute(SLOTS, {"ids": list(campaign_ids), "area": area})
    return [
        Slot(
            r.campaign_id,
            r.village_code,
            r.village_name,
            r.category,
            r.phase_seq,
            r.min_count,
            r.week,
            r.monday,
            r.required,
            r.closed,
        )
        for r in rows
    ]


ACTIVE = text("""
SELECT id FROM campaign
WHERE starts_on < :end AND ends_on >= :start
  AND (left(area_code, length(:area)) = :area OR left(:area, length(area_code)) = area_code)
ORDER BY id
""")


def campaigns_in(conn: Connection, area: str, period: Period) -> list[int]:
    """Campaigns overlapping ``period`` whose area contains or lies within ``area``."""
    params = {"area": area, "start": period.start, "end": period.end}
    return [int(i) for i in conn.execute(ACTIVE, params).scalars()]
