"""The home page's overview (首页概览): areas, open and overdue cases, grids to patrol."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from gis.lifecycle import OPEN_STATUSES, RUNNING_STATUSES

SUMMARY_SQL = text("""
SELECT json_build_object(
  'counties', (SELECT coalesce(json_agg(json_build_object('code', c.code, 'name', c.name,
      'name_en', c.name_en, 'townships', (
        SELECT coalesce(json_agg(json_build_object('code', t.code, 'name', t.name,
            'villages', (SELECT count(*) FROM region v WHERE v.parent_code = t.code))
          ORDER BY t.code), '[]')
        FROM region t WHERE t.parent_code = c.code)) ORDER BY c.code), '[]')
    FROM region c WHERE c.level = 'county'),
  'open_cases', (SELECT count(*) FROM cases WHERE status = ANY (:open)),
  'overdue_cases', (SELECT count(*) FROM cases WHERE status = ANY (:running)
      AND deadline < (now() AT TIME ZONE 'Asia/Shanghai')::date),
  'closed_cases', (SELECT count(*) FROM cases WHERE status = 'closed'),
  'projects', (SELECT count(*) FROM project),
  'facilities', (SELECT count(*) FROM facility),
  'featured_grids', (SELECT coalesce(json_agg(json_build_object('code', g.code, 'name', g.name,
      'village', v.name, 'township', t.name) ORDER BY g.code), '[]')
    FROM region g JOIN region v ON v.code = g.parent_code JOIN region t ON t.code = v.parent_code
    WHERE g.parent_code = :featured_village)
)::text
""").bindparams(bindparam("open", type_=ARRAY(Text)), bindparam("running", type_=ARRAY(Text)))

FEATURED_VILLAGE = "640221202204"  # 渠口乡 金桥村: the seeds' garbage-sorting pilot


def home_summary(conn: Connection) -> dict[str, Any]:
    """Counts and the area tree for the home page, in one statement."""
    found = conn.execute(
        SUMMARY_SQL,
        {
            "open": list(OPEN_STATUSES),
            "running": list(RUNNING_STATUSES),
            "featured_village": FEATURED_VILLAGE,
        },
    ).scalar_one()
    summary: dict[str, Any] = json.loads(found)
    return summary
