"""Sample campaigns and contractor scores (样例整治行动与考核评分), from seeds 000 and 003.

- 渠口乡 2021 冬季战役 (seed 000): three phases, ≥ 5 残垣断壁 cleared and ≥ 3 危房 demolished per
  village per week during 集中攻坚, the three garbage-sorting pilots (金桥、渠口、分水闸).
- 利通区 2022 示范区创建 (seed 003): 5 垃圾分类收集点 by June, 10 by year end, 3 监测站 by 30 May.
- 二泉公司 is scored monthly by 渠口乡 (60 %) and its villages (40 %) on a five-item sheet; the sample
  holds the last few months' paper scores (no scorer account), deterministic for the seed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select

from gis import tables as t
from gis import tables_office as o
from gis.campaigns import CampaignSpec, PhaseSpec, QuotaSpec, TargetSpec, create_campaign
from gis.scores import DEFAULT_ITEMS, item_total

QUKOU = "640221202"
ERQUAN = "640221202-erquan"

QUKOU_WINTER = CampaignSpec(
    code="640221202-2021-winter",
    name="渠口乡2021年农村人居环境整治村庄清洁行动“冬季战役”",
    area_code=QUKOU,
    starts_on=date(2021, 12, 15),
    ends_on=date(2022, 2, 19),
    description="各村每周整治残垣断壁不少于5处、拆除危房不少于3户；以金桥、渠口、分水闸为垃圾分类试点。",
    source="渠口乡2021年农村人居环境整治村庄清洁行动“冬季战役”实施方案（附件1）",
    phases=(
        PhaseSpec("宣传动员", date(2021, 12, 15), date(2021, 12, 22)),
        PhaseSpec("集中攻坚", date(2021, 12, 22), date(2022, 2, 17)),
        PhaseSpec("考核验收", date(2022, 2, 17), date(2022, 2, 19)),
    ),
    quotas=(QuotaSpec("ruined_wall", 5, phase_seq=2), QuotaSpec("dilapidated_house", 3, phase_seq=2)),
    targets=(TargetSpec("collection_station", 3, date(2022, 2, 19)),),
)

LITONG_2022 = CampaignSpec(
    code="640302-2022-demo",
    name="利通区2022年创建自治区人居环境整治示范区",
    area_code="640302",
    starts_on=date(2022, 1, 1),
    ends_on=date(2022, 12, 31),
    description="6月前完成生活垃圾分类收集点5处，年度完成10处；新建山洪灾害防治视频水位监测站3处。",
    source="利通区2022年创建自治区人居环境整治示范区任务分工表",
    targets=(
        TargetSpec("collection_station", 5, date(2022, 6, 30)),
        TargetSpec("collection_station", 10, date(2022, 12, 31)),
        TargetSpec("monitoring_station", 3, date(2022, 5, 30)),
    ),
)


def _months_before(now: datetime, count: int) -> list[date]:
    """The first days of the ``count`` complete months before ``now``, oldest first."""
    months = []
    year, month = now.year, now.month
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(date(year, month, 1))
    return months[::-1]


def _sheet(rng: np.random.Generator, level: float) -> dict[str, float]:
    """Item scores near ``level`` (0..1) of each item's maximum, in half points."""
    out = {}
    for item in DEFAULT_ITEMS:
        share = min(1.0, max(0.4, level + float(rng.normal(0, 0.05))))
        out[item["code"]] = round(item["max"] * share * 2) / 2
    return out


def _score_rows(conn: Connection, unit_id: int, now: datetime, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    r = t.region
    villages = [
        str(c) for c in conn.execute(select(r.c.code).where(r.c.parent_code == QUKOU).order_by(r.c.code)).scalars()
    ]
    rows = []
    for month in _months_before(now, 4):
        level = float(rng.uniform(0.78, 0.93))
        scorers = [("township", QUKOU, level)] + [("village", v, level + float(rng.normal(0, 0.04))) for v in villages]
        for scorer_level, area, lvl in scorers:
            items = _sheet(rng, lvl)
            rows.append(
                {
                    "unit_id": unit_id,
                    "month": month,
                    "scorer_level": scorer_level,
                    "area_code": area,
                    "items": items,
                    "total": item_total(items),
                    "note": "纸质考核表录入（样例）",
                }
            )
    return rows


def load_sample_campaigns(conn: Connection, *, now: datetime, seed: int = 20211215) -> int:
    """Store the sample campaigns, 二泉公司's scheme and its last four months of scores."""
    for spec in (QUKOU_WINTER, LITONG_2022):
        create_campaign(conn, spec)
    unit_id = int(conn.execute(select(t.unit.c.id).where(t.unit.c.code == ERQUAN)).scalar_one())
    conn.execute(
        insert(o.contractor_scheme).values(
            unit_id=unit_id,
            from_month=date(2021, 12, 1),
            township_weight=0.6,
            village_weight=0.4,
            items=json.loads(json.dumps(DEFAULT_ITEMS)),
        )
    )
    rows = _score_rows(conn, unit_id, now, seed)
    conn.execute(insert(o.contractor_score), rows)
    return 2 + len(rows)
