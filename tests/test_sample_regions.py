"""Sample regions and base lines (样例区划与底图线): pure checks on the generators, no database."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pytest

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from data.baselines import build_base_lines
from data.regions import build_regions
from data.sources import LocalFrame, read_counties, read_hints, read_township_seats, read_villages

SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"
TOLERANCE_M2 = 1.0  # the documented tiling tolerance of data/regions.py
METRIC = "EPSG:4544"  # CGCS2000 3° Gauss-Krüger CM 105°E: one zone for measuring both counties
CHILD = {"county": "township", "township": "village", "village": "grid"}
CODE_LENGTH = {"county": 6, "township": 9, "village": 12, "grid": 15}
NAMED_LINES = {
    ("S301 平陶公路", "640221", "road"),
    ("沿黄路", "640221", "road"),
    ("城滨路", "640221", "road"),
    ("黄河", "640221", "river"),
    ("黄河", "640302", "river"),
    ("秦渠", "640302", "canal"),
    ("汉渠", "640302", "canal"),
    ("东干渠", "640302", "canal"),
    ("苦水河", "640302", "river"),
    ("清水沟", "640302", "ditch"),
    ("双吉沟", "640302", "ditch"),
    ("头道沟", "640302", "ditch"),
}
GEOD = Geod(ellps="WGS84")
OTHER_SEED = 7


@pytest.fixture(scope="module")
def regions() -> gpd.GeoDataFrame:
    return build_regions(SOURCES)


@pytest.fixture(scope="module")
def lines(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return build_base_lines(regions, SOURCES)


@pytest.fixture(scope="module")
def other_seed() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The sample built from another seed (7): other synthetic shapes, same guarantees."""
    regions = build_regions(SOURCES, seed=OTHER_SEED)
    return regions, build_base_lines(regions, SOURCES, seed=OTHER_SEED)


def _m2(geom: BaseGeometry) -> float:
    """Geodesic area (WGS84) of a region, m²."""
    return abs(float(GEOD.geometry_area_perimeter(geom)[0]))


def _residual_m2(geom: BaseGeometry) -> float:
    """Area (m²) of a sliver between two lon/lat shapes, measured as stored (planar lon/lat).

    The scaling to metres is affine (equirectangular at the sliver's latitude), so it does not
    bend the long straight source edges the way a projection or a geodesic area would.
    """
    if geom.is_empty:
        return 0.0
    frame = LocalFrame.around(geom.centroid.x, geom.centroid.y)
    return float(geom.area * frame.kx * frame.ky)


def _shapes(regions: gpd.GeoDataFrame) -> dict[str, MultiPolygon]:
    return dict(zip(regions["code"], regions["geom"], strict=True))


def _seats(regions: gpd.GeoDataFrame) -> dict[str, Point]:
    return {c: p for c, p in zip(regions["code"], regions["seat"], strict=True) if p is not None}


def _csv_rows() -> list[dict[str, str]]:
    with (SOURCES / "villages_nbs2016.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_four_levels_with_the_expected_counts(regions: gpd.GeoDataFrame) -> None:
    rows = _csv_rows()
    codes = {level: set(regions.loc[regions["level"] == level, "code"]) for level in CODE_LENGTH}
    assert codes["county"] == {"640221", "640302"}
    assert codes["township"] == {r["township_code"] for r in rows}
    assert len(codes["township"]) == 29
    assert codes["village"] == {r["code12"] for r in rows}
    assert len(codes["village"]) == 336
    grids_per_village = regions[regions["level"] == "grid"].groupby("parent_code").size()
    assert set(grids_per_village.index) == codes["village"]
    assert grids_per_village.between(2, 6).all()


def test_codes_parents_and_row_order(regions: gpd.GeoDataFrame) -> None:
    levels = list(CODE_LENGTH)
    keys = [(levels.index(level), code) for level, code in zip(regions["level"], regions["code"], strict=True)]
    assert keys == sorted(keys)
    known = set(regions["code"])
    for row in regions.itertuples(index=False):
        assert len(row.code) == CODE_LENGTH[row.level] and row.code.isdigit()
        assert row.county_code == row.code[:6]
        if row.level == "county":
            assert row.parent_code is None
        else:
            assert row.parent_code == row.code[: CODE_LENGTH[row.level] - 3]
            assert row.parent_code in known


def test_columns_names_and_provenance(regions: gpd.GeoDataFrame) -> None:
    assert regions.crs.to_epsg() == 4326
    assert regions.geometry.name == "geom"
    assert all(isinstance(g, MultiPolygon) for g in regions.geometry)
    counties = regions[regions["level"] == "county"].set_index("code")
    assert counties.loc["640302", "name"] == "利通区" and counties.loc["640302", "name_en"] == "Litong District"
    assert counties.loc["640221", "name_en"] == "Pingluo County"
    assert not counties["synthetic"].any() and counties["source"].str.contains("Vonng/adcode").all()
    others = regions[regions["level"] != "county"]
    assert others["synthetic"].all() and others["source"].str.startswith("synthetic:").all()
    assert others["name_en"].isna().all() and all(v is None for v in others["name_en"])
    villages = regions[regions["level"] == "village"]
    assert villages["ur_code"].isin(["111", "112", "121", "122", "123", "210", "220"]).all()
    assert all(v is None for v in regions.loc[regions["level"] != "village", "ur_code"])
    grids = regions[regions["level"] == "grid"]
    assert (grids["name"] == grids["official_name"]).all()
    names = {r["code12"]: (r["short_name"], r["name"]) for r in _csv_rows()}
    assert {
        c: (n, o) for c, n, o in zip(villages["code"], villages["name"], villages["official_name"], strict=True)
    } == names
    townships = {r["township_code"]: r["township"] for r in _csv_rows()}
    assert (
        dict(zip(*(regions.loc[regions["level"] == "township", c] for c in ("code", "name")), strict=True)) == townships
    )


def _assert_real_counties(regions: gpd.GeoDataFrame) -> None:
    """The county rows are the source outlines: every source vertex kept, the shape unchanged."""
    shapes = _shapes(regions)
    for county in read_counties(SOURCES):
        stored = shapes[county.code]
        kept = {tuple(c) for c in shapely.get_coordinates(stored)}
        assert all(tuple(c) in kept for c in shapely.get_coordinates(county.geom))
        assert _residual_m2(stored.symmetric_difference(county.geom)) < TOLERANCE_M2


def test_county_outlines_are_the_real_ones(regions: gpd.GeoDataFrame) -> None:
    _assert_real_counties(regions)


def test_jinqiao_village_in_qukou(regions: gpd.GeoDataFrame) -> None:
    by = regions.set_index("code")
    assert by.loc["640221202", "name"] == "渠口乡"
    village = by.loc["640221202204"]
    assert (village["name"], village["official_name"]) == ("金桥村", "金桥村委会")
    assert village["parent_code"] == "640221202"
    grid = by.loc["640221202204001"]
    assert grid["name"] == "金桥村第1网格" and grid["parent_code"] == "640221202204"
    assert by.loc["640221202", "geom"].covers(village["geom"])


def test_geometries_valid_and_not_empty(regions: gpd.GeoDataFrame) -> None:
    assert regions.geometry.is_valid.all()
    assert not regions.geometry.is_empty.any()
    assert (shapely.area(regions.geometry.values) > 0).all()


def _assert_tiles(regions: gpd.GeoDataFrame, level: str) -> None:
    """Children cover their parent and do not overlap, within TOLERANCE_M2 per parent, in EPSG:4544."""
    shapes = dict(zip(regions["code"], regions.geometry.to_crs(METRIC), strict=True))
    children = regions[regions["level"] == CHILD[level]]
    for parent in regions.loc[regions["level"] == level, "code"]:
        kids = [shapes[c] for c in children.loc[children["parent_code"] == parent, "code"]]
        gap = shapes[parent].symmetric_difference(shapely.union_all(kids)).area
        assert gap < TOLERANCE_M2, f"{parent}: children differ from it by {gap:.3f} m²"
        left, right = shapely.STRtree(kids).query(kids, predicate="intersects")
        overlap = sum(kids[i].intersection(kids[j]).area for i, j in zip(left, right, strict=True) if i < j)
        assert overlap < TOLERANCE_M2, f"{parent}: children overlap by {overlap:.3f} m²"


@pytest.mark.parametrize("level", ["county", "township", "village"])
def test_children_tile_their_parent(regions: gpd.GeoDataFrame, level: str) -> None:
    _assert_tiles(regions, level)


def test_every_point_of_a_county_lies_in_one_grid(regions: gpd.GeoDataFrame) -> None:
    grids = regions[regions["level"] == "grid"]
    tree = shapely.STRtree(list(grids.geometry))
    for county in regions[regions["level"] == "county"].geometry:
        minx, miny, maxx, maxy = county.bounds
        probes = [
            Point(minx + (maxx - minx) * i / 37, miny + (maxy - miny) * j / 41) for i in range(38) for j in range(42)
        ]
        inside = [p for p in probes if county.contains(p)]
        hits = tree.query(inside, predicate="within")
        counts = [int((hits[0] == k).sum()) for k in range(len(inside))]
        assert len(inside) > 300 and counts == [1] * len(inside)


def test_no_exclaves_and_no_slivers(regions: gpd.GeoDataFrame) -> None:
    for row in regions[regions["level"] != "county"].itertuples(index=False):
        assert len(row.geom.geoms) == 1, f"{row.code} {row.name} has {len(row.geom.geoms)} parts"
    grid_areas = [_m2(g) for g in regions.loc[regions["level"] == "grid", "geom"]]
    assert min(grid_areas) > 20_000  # 2 ha: the smallest grid is an urban block, not a sliver


def _assert_real_points_inside(regions: gpd.GeoDataFrame) -> None:
    shapes, seats = _shapes(regions), _seats(regions)
    for seat in read_township_seats(SOURCES):
        assert shapes[seat.code].contains(seat.point), seat.name
    for v in read_villages(SOURCES):
        if v.point is not None:
            assert shapes[v.code].contains(v.point) and shapes[v.township_code].contains(v.point), v.short_name
            assert seats[v.code].equals_exact(v.point, 0.0)
    for row in regions[regions["level"] != "county"].itertuples(index=False):
        assert isinstance(row.seat, Point) and row.geom.contains(row.seat), row.code


def test_real_points_lie_in_their_own_township_and_village(regions: gpd.GeoDataFrame) -> None:
    assert len(read_township_seats(SOURCES)) == 27
    assert sum(v.point is not None for v in read_villages(SOURCES)) == 9
    _assert_real_points_inside(regions)
    seatless = regions.set_index("code").loc[["640302401", "640302402"], "seat"]
    assert all(37.3 < p.y < 37.75 for p in seatless)  # synthetic seats in Litong's southern lobe


def test_named_villages_within_their_hint_radius(regions: gpd.GeoDataFrame) -> None:
    seats = _seats(regions)
    hints = [h for h in read_hints(SOURCES).values() if h.point is not None and h.radius_m is not None]
    assert len(hints) == 18
    for h in hints:
        assert h.point is not None and h.radius_m is not None
        _, _, metres = GEOD.inv(h.point.x, h.point.y, seats[h.code].x, seats[h.code].y)
        assert metres <= h.radius_m, f"{h.code} is {metres:.0f} m from its hint"


def _same_frames(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    plain = [c for c in a.columns if c not in ("geom", "seat")]
    if list(a.columns) != list(b.columns) or a[plain].values.tolist() != b[plain].values.tolist():
        return False
    shapes = [c for c in ("geom", "seat") if c in a.columns]
    return all(list(shapely.to_wkb(a[c].values)) == list(shapely.to_wkb(b[c].values)) for c in shapes)


def test_same_seed_gives_identical_output(regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
    again = build_regions(SOURCES)
    assert _same_frames(regions, again)
    assert _same_frames(lines, build_base_lines(again, SOURCES))


def test_another_seed_moves_only_the_synthetic_shapes(
    regions: gpd.GeoDataFrame, other_seed: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    other, other_lines = other_seed
    units = [list(f.loc[f["level"] != "grid", "code"]) for f in (regions, other)]
    assert units[0] == units[1]  # grids per village may differ: they follow the village's area
    villages = [shapely.to_wkb(f.loc[f["level"] == "village", "geom"].values).tolist() for f in (regions, other)]
    assert villages[0] != villages[1]
    _assert_real_counties(other)
    _assert_real_points_inside(other)
    _assert_network(regions=other, lines=other_lines)
    for level in CHILD:
        _assert_tiles(other, level)


def test_line_columns_kinds_and_validity(lines: gpd.GeoDataFrame) -> None:
    assert lines.crs.to_epsg() == 4326 and lines.geometry.name == "geom"
    assert set(lines["kind"]) == {"road", "lane", "canal", "ditch", "river"}
    assert all(isinstance(g, MultiLineString) for g in lines.geometry)
    assert lines.geometry.is_valid.all() and not lines.geometry.is_empty.any()
    real = lines[~lines["synthetic"]]
    assert set(real["name"]) == {"黄河"} and (real["source"] == "Made with Natural Earth (public domain), 1:50m").all()
    assert lines.loc[lines["synthetic"], "source"].str.startswith("synthetic:").all()


def _line(lines: gpd.GeoDataFrame, name: str, county: str = "640302") -> MultiLineString:
    found = lines.loc[(lines["name"] == name) & (lines["county_code"] == county), "geom"]
    assert len(found) == 1, f"{name} in {county}: {len(found)} rows"
    line: MultiLineString = found.iloc[0]
    return line


def _metres(a: BaseGeometry, b: BaseGeometry) -> float:
    p, q = nearest_points(a, b)
    return float(GEOD.inv(p.x, p.y, q.x, q.y)[2])


def test_lines_meet_the_places_they_are_named_after(regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
    seats = _seats(regions)
    kushui = _line(lines, "苦水河")
    assert kushui.distance(seats["640302105210"]) < 1e-9  # runs through 新华桥村
    assert regions.set_index("code").loc["640302105210", "geom"].intersects(kushui)
    mouth = Point(max(kushui.geoms, key=lambda g: g.length).coords[-1])
    assert _line(lines, "黄河").distance(mouth) < 1e-9  # and ends in the Yellow River
    assert _metres(_line(lines, "清水沟"), seats["640302203205"]) < 500
    assert _metres(_line(lines, "双吉沟"), seats["640302103203"]) < 500
    for code in ("640221100", "640221202", "640221106"):  # 城关镇 → 渠口乡 → 陶乐镇
        assert _line(lines, "S301 平陶公路", "640221").distance(seats[code]) < 1e-9
    for name, codes in (("秦渠", ("640302100", "640302104", "640302200")),
                        ("汉渠", ("640302102", "640302202", "640302101")), ("东干渠", ("640302103",))):  # fmt: skip
        for code in codes:
            assert _metres(_line(lines, name), seats[code]) < 1500, (name, code)
    for name, county, _ in NAMED_LINES - {("黄河", "640221", "river"), ("黄河", "640302", "river")}:
        assert len(_line(lines, name, county).geoms) == 1, f"{name} is cut in pieces by the county edge"
    river = _line(lines, "黄河", "640221")
    assert 1400 < _metres(_line(lines, "沿黄路", "640221").geoms[0], river) < 1600


def _components(parts: Iterable[LineString]) -> int:
    """Connected groups of lines joined at endpoints (rounded to 1e-9°)."""
    root: dict[tuple[float, float], tuple[float, float]] = {}

    def find(a: tuple[float, float]) -> tuple[float, float]:
        root.setdefault(a, a)
        while root[a] != a:
            a = root[a]
        return a

    for p in parts:
        (ax, ay), (bx, by) = p.coords[0], p.coords[-1]
        root[find((round(ax, 9), round(ay, 9)))] = find((round(bx, 9), round(by, 9)))
    return len({find(a) for a in list(root)})


def _network(lines: gpd.GeoDataFrame, county: str) -> gpd.GeoDataFrame:
    return lines[lines["kind"].isin(["road", "lane"]) & (lines["county_code"] == county)]


def _assert_network(regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
    """Per county: village roads and lanes join at shared seats; with named roads, once noded."""
    for county in ("640221", "640302"):
        network = _network(lines, county)
        village_net = network[(network["kind"] == "lane") | network["name"].str.endswith("道路")]
        assert _components(p for g in village_net.geometry for p in g.geoms) == 1, county
        noded = shapely.union_all([p for g in network.geometry for p in g.geoms])
        assert _components(shapely.get_parts(noded)) == 1, county
    found = set(zip(lines["name"], lines["county_code"], lines["kind"], strict=True))
    assert found >= NAMED_LINES
    for county, outline in _shapes(regions).items():
        if len(county) == 6:
            mine = lines[lines["county_code"] == county]
            inside = shapely.covers(outline.buffer(1e-8), mine.geometry.values)  # within ≈ 1 mm
            assert len(mine) > 100 and inside.all(), list(mine.loc[~inside, "name"])


def test_road_network_connected_and_lines_inside_their_county(
    regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame
) -> None:
    assert lines["county_code"].notna().all()
    _assert_network(regions, lines)


def test_every_village_and_grid_seat_is_on_the_network(regions: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> None:
    network = lines[lines["kind"].isin(["road", "lane"])]
    ends = {tuple(round(v, 9) for v in p.coords[k]) for g in network.geometry for p in g.geoms for k in (0, -1)}
    seats = regions.loc[regions["level"].isin(["village", "grid"]), "seat"]
    assert all((round(p.x, 9), round(p.y, 9)) in ends for p in seats)
    roads = network[network["name"].str.endswith("道路")]
    assert len(roads) > 300 and all(len(g.geoms) == 1 for g in roads.geometry)
