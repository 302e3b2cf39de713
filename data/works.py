"""Sample projects and facilities (建设项目与设施) named in seed 003 (利通区 2022 task table).

Names, quantities, units and deadlines are the seed's; the geometry is schematic (synthetic):
roads start at the village they are named after, water works follow the named river or ditch.
Where the seed says "等6条" without naming all six, the missing ones are marked 示例 (sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, substring

from data.places import offset

LITONG, PINGLUO = "640302", "640221"


@dataclass
class WorkRow:
    """A project or facility ready for loading (codes of units, not ids)."""

    code: str
    category: str
    subtype: str
    name: str
    geom: BaseGeometry
    county_code: str
    status: str
    values: dict[str, Any] = field(default_factory=dict)


class Sketch:
    """Draws schematic work geometry from the sample's villages and named lines."""

    def __init__(self, regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
        self.regions = regions.set_index("code")
        self.lines = lines

    def seat(self, code: str) -> Point:
        """The seat point of a region (village committee, township seat)."""
        seat = self.regions.loc[code, "seat"]
        return seat if isinstance(seat, Point) else self.regions.loc[code, "geom"].representative_point()

    def road_from(self, code: str, bearing: float, km: float) -> LineString:
        """A road of ``km`` leaving a village seat on a compass ``bearing``, gently bent."""
        start, points = self.seat(code), []
        for i in range(7):
            d = km * 1000 * i / 6
            bend = 60 * math.sin(i * 1.3)
            a = math.radians(bearing)
            points.append(
                offset(
                    start,
                    d * math.sin(a) + bend * math.cos(a),
                    d * math.cos(a) - bend * math.sin(a),
                )
            )
        return LineString(points)

    def along(self, name: str, county: str, start: float, end: float) -> LineString:
        """A stretch (fractions of its length) of a named base-map line within a county."""
        found = self.lines[(self.lines["name"] == name) & (self.lines["county_code"] == county)]
        merged = linemerge(MultiLineString([g for geom in found.geometry for g in geom.geoms]))
        line = merged if isinstance(merged, LineString) else max(merged.geoms, key=lambda g: g.length)
        part = substring(line, start, end, normalized=True)
        if not isinstance(part, LineString):
            raise ValueError(f"{name}: no line between {start} and {end}")
        return part

    def block(self, code: str, east_m: float, north_m: float, side_m: float) -> BaseGeometry:
        """A square block of fields near a village seat, clipped to the village."""
        c = offset(self.seat(code), east_m, north_m)
        h = side_m / 2
        square = Polygon([(p.x, p.y) for p in (offset(c, -h, -h), offset(c, h, -h), offset(c, h, h), offset(c, -h, h))])
        clipped: BaseGeometry = square.intersection(self.regions.loc[code, "geom"])
        return clipped

    def roads_of(self, county: str, kind: str = "road") -> list[LineString]:
        """Every road line of a county, in a stable order."""
        found = self.lines[(self.lines["kind"] == kind) & (self.lines["county_code"] == county)]
        found = found.sort_values("name")
        return [g for geom in found.geometry for g in geom.geoms]

    def guardrails(self, county: str, count: int) -> MultiLineString:
        """Stretches of ``count`` roads where the guardrail (波形防护栏) goes."""
        all_roads = self.roads_of(county)
        roads = all_roads[:: max(1, len(all_roads) // count)][:count]
        parts = [substring(r, 0.2, 0.8, normalized=True) for r in roads]
        return MultiLineString([p for p in parts if isinstance(p, LineString)])

    def bumps(self, county: str, count: int) -> MultiPoint:
        """``count`` speed bumps (减速带) spread over the county's roads."""
        roads = self.roads_of(county)
        spots: list[Point] = [
            roads[i % len(roads)].interpolate(0.1 + 0.8 * ((i * 7919) % 97) / 97, normalized=True) for i in range(count)
        ]
        return MultiPoint(spots)


def _road(n: int, sub: str, name: str, geom: BaseGeometry, status: str, **v: Any) -> WorkRow:
    base = {"year": 2022, "lead": "640302-zjjtj", "deadline": date(2022, 11, 30)}
    return WorkRow(f"640302-2022-R{n:02d}", "road_project", sub, name, geom, LITONG, status, base | v)


def road_projects(sk: Sketch) -> list[WorkRow]:
    """Litong 2022: 6 industrial roads, 4 rural roads, hardening, 18 km guardrail, 148 bumps."""
    return [
        _road(1, "产业路", "清二沟道路", sk.road_from("640302203205", 70, 2.6), "accepted", planned_km=2.6, built_km=2.6, progress=100),
        _road(2, "产业路", "金水河湾产业路", sk.road_from("640302101", 20, 3.1), "completed", planned_km=3.1, built_km=3.1, progress=100),
        _road(3, "产业路", "板桥乡蔡桥劳务移民村智慧农业种植园区道路", sk.road_from("640302201200", 200, 1.8), "under_construction", planned_km=1.8, built_km=1.1, progress=60),
        _road(4, "产业路", "郭家桥乡奶产业园区道路（示例）", sk.road_from("640302203207", 110, 2.0), "accepted", planned_km=2.0, built_km=2.0, progress=100),
        _road(5, "产业路", "金银滩镇养殖园区道路（示例）", sk.road_from("640302101", 150, 1.5), "tendering", planned_km=1.5, progress=0),
        _road(6, "产业路", "上桥镇牛家坊民俗村旅游道路（示例）", sk.road_from("640302104204", 300, 1.2), "planned", planned_km=1.2, progress=0),
        _road(7, "农村公路", "韩桥村至吴高路公路道路", sk.road_from("640302102202", 90, 3.0), "under_construction", planned_km=3.0, built_km=2.2, progress=75),
        _road(8, "农村公路", "巴浪湖农场二道湾一队道路", sk.road_from("640302400", 45, 2.2), "completed", planned_km=2.2, built_km=2.2, progress=100),
        _road(9, "农村公路", "金积秦坝关道路", sk.road_from("640302100", 240, 2.4), "accepted", planned_km=2.4, built_km=2.4, progress=100),
        _road(10, "农村公路", "农村公路（示例）", sk.road_from("640302105210", 330, 1.6), "under_construction", planned_km=1.6, built_km=0.5, progress=30),
        _road(11, "道路硬化", "扁担沟镇渠口村道路硬化工程", sk.road_from("640302103204", 10, 1.4), "completed", planned_km=1.4, built_km=1.4, progress=100),
        _road(12, "道路硬化", "扁担沟镇赵家沟村道路硬化工程", sk.road_from("640302401502", 350, 1.9), "under_construction", planned_km=1.9, built_km=0.8, progress=40),
        _road(13, "道路硬化", "金银滩镇二支沟路", sk.road_from("640302101", 260, 1.7), "accepted", planned_km=1.7, built_km=1.7, progress=100),
        _road(14, "道路硬化", "郭家桥乡秦渠北岸道路", sk.along("秦渠", LITONG, 0.75, 0.9), "completed", progress=100),
        _road(15, "波形防护栏", "2022年农村生命安全防护工程（波形防护栏18公里）", sk.guardrails(LITONG, 12), "completed", guardrail_km=18, progress=100),
        _road(16, "减速带", "2022年农村生命安全防护工程（减速带148条）", sk.bumps(LITONG, 148), "completed", speed_bumps=148, progress=100),
        _road(17, "危桥改造", "农村公路危桥改造（示例）", sk.seat("640302102203"), "under_construction", progress=50),
    ]  # fmt: skip


def _water(n: int, sub: str, name: str, geom: BaseGeometry, status: str, **v: Any) -> WorkRow:
    base = {"year": 2022, "lead": "640302-swj", "deadline": date(2022, 11, 30)}
    return WorkRow(f"640302-2022-W{n:02d}", "water_project", sub, name, geom, LITONG, status, base | v)


def water_projects(sk: Sketch) -> list[WorkRow]:
    """Litong 2022 water works: 苦水河, 双吉沟, 头道沟, 新华桥村 revetment, farmland, irrigation."""
    return [
        _water(1, "河道治理", "苦水河利通区段综合治理工程", sk.along("苦水河", LITONG, 0.1, 0.85), "under_construction", progress=55),
        _water(2, "河道治理", "利通区双吉沟综合治理工程（中小河流治理）", sk.along("双吉沟", LITONG, 0.0, 1.0), "planned", progress=0, description="已完成项目可行性研究报告"),
        _water(3, "防汛岁修", "2022年头道沟防汛岁修工程", sk.along("头道沟", LITONG, 0.0, 1.0), "accepted", progress=100, deadline=date(2022, 5, 30)),
        _water(4, "护岸", "苦水河古城镇新华桥村段护岸", sk.along("苦水河", LITONG, 0.85, 0.97), "under_construction", planned_km=4.2, built_km=3.1, progress=74),
        _water(5, "高标准农田", "板桥乡任桥村高标准农田建设项目", sk.block("640302201202", 300, -400, 1400), "under_construction", area_mu=3900, progress=95),
        _water(6, "高标准农田", "马莲渠乡马莲渠村高标准农田建设项目", sk.block("640302202202", -300, 500, 1400), "under_construction", area_mu=3838, progress=95),
        _water(7, "高效节水灌溉", "汉渠灌域高闸镇高闸村、韩桥村高效节水灌溉工程", sk.block("640302102203", 400, 300, 1200), "completed", progress=100),
        _water(8, "高效节水灌溉", "东干渠灌域高闸镇韩桥村高效节水灌溉工程", sk.block("640302102202", -400, -300, 1000), "tendering", progress=0),
    ]  # fmt: skip


def facilities(sk: Sketch) -> list[WorkRow]:
    """10 waste-sorting points in Litong (5 by June), 渠口乡's 3 pilots, 3 water-level stations."""
    litong = ["640302103209", "640302102202", "640302203207", "640302104204", "640302201200",
              "640302202202", "640302105210", "640302200209", "640302100210", "640302102203"]  # fmt: skip
    rows = []
    for i, code in enumerate(litong, start=1):
        state = "working" if i <= 5 else ("built" if i <= 8 else "planned")
        target = date(2022, 6, 30) if i <= 5 else date(2022, 12, 31)
        name = f"{sk.regions.loc[code, 'name']}垃圾分类收集点"
        rows.append(WorkRow(f"640302-F{i:03d}", "collection_station", "收集点", name,
                            offset(sk.seat(code), 40, 25), LITONG, state,
                            {"unit": "640302-hwzx", "target_date": target}))  # fmt: skip
    for i, code in enumerate(["640221202204", "640221202200", "640221202209"], start=1):
        name = f"{sk.regions.loc[code, 'name']}垃圾分类试点收集点"
        rows.append(WorkRow(f"640221-F{i:03d}", "collection_station", "收集点", name,
                            offset(sk.seat(code), -35, 30), PINGLUO, "working",
                            {"unit": "640221202-gov", "target_date": date(2021, 12, 31)}))  # fmt: skip
    for i, line in enumerate(["头道沟", "双吉沟", "苦水河"], start=1):
        at = sk.along(line, LITONG, 0.0, 1.0).interpolate(0.5, normalized=True)
        rows.append(WorkRow(f"640302-M{i:03d}", "monitoring_station", "视频水位监测站",
                            f"{line}山洪灾害视频水位监测站", at, LITONG, "working",
                            {"unit": "640302-swj", "target_date": date(2022, 5, 30)}))  # fmt: skip
    return rows
