"""Seed the categories of DESIGN §3 (问题、项目、设施类别) as rows, not code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

SIX_EDGES = ["路边", "地边", "沟边", "村边", "田边", "林边"]
SUPERVISION = ["国家级", "自治区级", "市级", "县级"]

# code, kind, zh, en, aliases, geometry types, close-out m, duplicate m, accuracy m, deadline d,
# private, quota hint, subtypes, attributes, colour, symbol (one character drawn on maps and legends)
CATEGORIES: list[tuple[Any, ...]] = [
    ("ruined_wall", "problem", "残垣断壁", "Ruined wall", "废旧温棚、破旧广告",
     ["Point", "LineString", "Polygon"], 100, 30, 50, 14, False,
     "冬季战役：每村每周整治不少于5处 / ≥5 cleared per village per week",
     ["残垣断壁", "废旧温棚", "破旧广告"], {}, "#8c564b", "墙"),
    ("dilapidated_house", "problem", "危房", "Dilapidated house", "土坯房、土围墙、土圈舍",
     ["Point", "Polygon"], 100, 30, 50, 30, True,
     "冬季战役：每村每周拆除不少于3户 / ≥3 demolished per village per week",
     ["危房", "土坯房", "土围墙", "土圈舍"],
     {"occupied": {"label_zh": "是否住人", "label_en": "occupied", "type": "boolean"}},
     "#d62728", "房"),
    ("black_odorous_water", "problem", "黑臭水体", "Black-odorous water body",
     "坑塘、渠道、排水沟；河湖“四乱”",
     ["Polygon", "MultiPolygon", "LineString", "MultiLineString"], 100, 100, 50, 180, False,
     "拉条挂账、逐一销号 / ledger line struck off one by one",
     ["坑塘", "渠道", "排水沟", "河湖四乱"],
     {"supervision_level": {"label_zh": "监管级别", "label_en": "supervision level",
                            "type": "choice", "values": SUPERVISION}},
     "#3f3f8f", "水"),
    ("garbage_point", "problem", "垃圾点", "Garbage point", "六堆、六边",
     ["Point"], 100, 30, 50, 3, False, None,
     ["粪堆", "草堆", "柴堆", "土堆", "煤堆", "垃圾堆"],
     {"edge": {"label_zh": "六边", "label_en": "edge", "type": "choice", "values": SIX_EDGES}},
     "#ff7f0e", "垃"),
    ("agri_waste", "problem", "农业生产废弃物", "Agricultural waste", "农膜、农药包装、秸秆",
     ["Point", "Polygon"], 100, 30, 50, 7, False, None,
     ["农膜", "农药包装", "秸秆", "畜禽粪污", "病死畜禽"], {}, "#2ca02c", "农"),
    ("household_toilet", "problem", "户厕问题", "Household toilet problem", "厕所革命 排查整改",
     ["Point"], 100, 20, 50, 60, True, "整改台账，销号管理 / rectification ledger",
     ["渗漏", "堵塞", "破损", "闲置未用", "其他"], {}, "#9467bd", "厕"),
    ("collection_station", "facility", "垃圾分类收集点", "Waste-sorting collection point", None,
     ["Point"], 100, 50, 50, None, False, "2022年：6月前5处，年底10处 / 5 by June, 10 by year end",
     ["收集点"], {}, "#bcbd22", "收"),
    ("road_project", "project", "道路项目", "Road project", "产业路、旅游路、农村公路、道路硬化",
     ["LineString", "MultiLineString", "Point", "MultiPoint"], 200, 100, 50, None, False,
     "2022：6条产业路+4条农村公路，防护栏18公里，减速带148条",
     ["产业路", "旅游路", "资源路", "农村公路", "道路硬化", "波形防护栏", "减速带", "危桥改造"],
     {}, "#555555", "路"),
    ("water_project", "project", "水务项目", "Water project", "清淤疏浚、截污控源、河道治理、护岸",
     ["LineString", "MultiLineString", "Polygon", "MultiPolygon", "Point"], 200, 100, 50, None,
     False, None,
     ["清淤疏浚", "截污控源", "河道治理", "护岸", "防汛岁修", "高效节水灌溉", "高标准农田"],
     {}, "#17becf", "渠"),
    ("monitoring_station", "facility", "监测站", "Monitoring station", "山洪灾害监测站、水位监测站",
     ["Point"], 100, 50, 50, None, False, "2022：新建视频水位监测站3处 / 3 new in 2022",
     ["山洪灾害监测站", "水位监测站", "视频水位监测站"], {}, "#1f77b4", "测"),
]  # fmt: skip

COLUMNS = (
    "code", "kind", "label_zh", "label_en", "aliases_zh", "geometry_types", "closeout_radius_m",
    "duplicate_radius_m", "accuracy_limit_m", "default_deadline_days", "private_location",
    "quota_hint", "subtypes", "attributes", "color", "symbol",
)  # fmt: skip


def upgrade() -> None:
    insert = sa.text(
        "INSERT INTO category (code, kind, label_zh, label_en, aliases_zh, geometry_types, "
        "closeout_radius_m, duplicate_radius_m, accuracy_limit_m, default_deadline_days, "
        "private_location, quota_hint, subtypes, attributes, color, symbol, sort_order) "
        "VALUES (:code, :kind, :label_zh, :label_en, :aliases_zh, :geometry_types, "
        ":closeout_radius_m, :duplicate_radius_m, :accuracy_limit_m, :default_deadline_days, "
        ":private_location, :quota_hint, :subtypes, CAST(:attributes AS jsonb), :color, :symbol, "
        ":sort_order)"
    )
    rows = []
    for order, values in enumerate(CATEGORIES, start=1):
        row = dict(zip(COLUMNS, values, strict=True))
        row["attributes"] = json.dumps(row["attributes"], ensure_ascii=False)
        row["sort_order"] = order * 10
        rows.append(row)
    op.get_bind().execute(insert, rows)


def downgrade() -> None:
    op.execute("DELETE FROM category")
