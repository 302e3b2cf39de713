"""The collections catalogue (图层目录): one collection per category and geometry type, plus regions.

QGIS types a layer by its first feature and silently does not draw the others, so a collection
never mixes points, lines and polygons: a category allowing points and polygons gives two
collections, ``dilapidated_house_points`` and ``dilapidated_house_polygons``. The four region
levels are ``counties``, ``townships``, ``villages`` and ``grids``. Categories are data, so the
catalogue is read from the ``category`` table; a collection is listed once it holds a feature and
is addressable as soon as its category allows its geometry type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, exists, func, select

from gis import tables as t
from gis import tables_works as tw
from gis.errors import NotFound

#: Geometry families (几何类型): collection suffix → (ST_Dimension, GeoJSON types, Chinese, English).
FAMILIES: Final[dict[str, tuple[int, tuple[str, ...], str, str]]] = {
    "points": (0, ("Point", "MultiPoint"), "点", "points"),
    "lines": (1, ("LineString", "MultiLineString"), "线", "lines"),
    "polygons": (2, ("Polygon", "MultiPolygon"), "面", "polygons"),
}
REGION_LEVELS: Final[dict[str, tuple[str, str, str]]] = {
    "counties": ("county", "区县", "counties"),
    "townships": ("township", "乡镇", "townships"),
    "villages": ("village", "行政村", "villages"),
    "grids": ("grid", "网格", "grids"),
}
SOURCE_OF_KIND: Final[dict[str, str]] = {"problem": "case", "project": "project", "facility": "facility"}
TABLE_OF_SOURCE: Final[dict[str, Any]] = {"case": t.cases, "project": tw.project, "facility": tw.facility}


@dataclass(frozen=True)
class Collection:
    """One OGC collection (图层): where its features come from and how they are typed."""

    id: str
    source: str  # case | project | facility | region
    title_zh: str
    title_en: str
    family: str  # points | lines | polygons
    category: str | None = None
    level: str | None = None
    private_location: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    subtypes: tuple[str, ...] = ()
    sort_order: int = 0

    @property
    def dimension(self) -> int:
        """``ST_Dimension`` of the collection's geometries (0 points, 1 lines, 2 polygons)."""
        return FAMILIES[self.family][0]

    @property
    def title(self) -> str:
        """Chinese first, English beside."""
        return f"{self.title_zh} {self.title_en}"

    @property
    def description(self) -> str:
        """What the collection holds, in Chinese and English."""
        if self.source == "region":
            return f"{self.title_zh}边界（面）/ {self.title_en} boundaries (polygons)"
        zh_family, en_family = FAMILIES[self.family][2], FAMILIES[self.family][3]
        extra_zh = "；公众只能看到村级位置" if self.private_location else ""
        extra_en = "; the public sees village-level locations only" if self.private_location else ""
        return f"{self.title_zh}（{zh_family}）{extra_zh} / {self.title_en} ({en_family}){extra_en}"


def _families(geometry_types: list[str]) -> list[str]:
    return [name for name, (_d, types, _zh, _en) in FAMILIES.items() if set(types) & set(geometry_types)]


def _category_collections(rows: Any) -> list[Collection]:
    found = []
    for row in rows:
        for family in _families(list(row.geometry_types)):
            found.append(
                Collection(
                    f"{row.code}_{family}",
                    SOURCE_OF_KIND[row.kind],
                    row.label_zh,
                    row.label_en,
                    family,
                    row.code,
                    None,
                    bool(row.private_location),
                    dict(row.attributes),
                    tuple(row.subtypes),
                    int(row.sort_order),
                )
            )
    return found


def _region_collections() -> list[Collection]:
    return [
        Collection(cid, "region", zh, en, "polygons", level=level, sort_order=1000 + i)
        for i, (cid, (level, zh, en)) in enumerate(REGION_LEVELS.items())
    ]


def _categories(conn: Connection, code: str | None = None) -> list[Collection]:
    cat = t.category
    stmt = select(cat).order_by(cat.c.sort_order, cat.c.code)
    if code is not None:
        stmt = stmt.where(cat.c.code == code)
    return _category_collections(conn.execute(stmt))


def all_collections(conn: Connection) -> list[Collection]:
    """Every addressable collection (可访问图层), listed or not, in catalogue order."""
    return [*_categories(conn), *_region_collections()]


def listed_collections(conn: Connection) -> list[Collection]:
    """The collections shown in ``/collections``: those holding at least one feature (one statement)."""
    candidates = _categories(conn)
    if not candidates:
        return _region_collections()
    checks = [_has_features(col).label(f"c{i}") for i, col in enumerate(candidates)]
    flags = conn.execute(select(*checks)).one()
    return [col for col, ok in zip(candidates, flags, strict=True) if ok] + _region_collections()


def _has_features(col: Collection) -> Any:
    table = TABLE_OF_SOURCE[col.source]
    return exists().where(table.c.category == col.category, func.ST_Dimension(table.c.geom) == col.dimension)


def find_collection(conn: Connection, collection_id: str) -> Collection:
    """The collection named in the path, or a 404 that lists how collections are named."""
    for region in _region_collections():
        if region.id == collection_id:
            return region
    category, _sep, family = collection_id.rpartition("_")
    if category and family in FAMILIES:
        for col in _categories(conn, category):
            if col.id == collection_id:
                return col
    raise NotFound(
        f"没有图层“{collection_id}”。图层名为 类别_points/lines/polygons 或 counties、townships、villages、grids；"
        "完整列表见 /collections。",
        f"There is no collection '{collection_id}'. Collections are named <category>_points|lines|polygons or "
        "counties, townships, villages, grids; see /collections for the list.",
        collection=collection_id,
    )


def data_extent(conn: Connection) -> list[float]:
    """The extent of the loaded counties (数据范围), where every case, project and facility lies."""
    box = select(func.ST_Extent(t.region.c.geom).label("e")).where(t.region.c.level == "county").subquery()
    row = conn.execute(
        select(func.ST_XMin(box.c.e), func.ST_YMin(box.c.e), func.ST_XMax(box.c.e), func.ST_YMax(box.c.e))
    ).one()
    if row[0] is None:
        return [-180.0, -90.0, 180.0, 90.0]
    return [round(float(v), 6) for v in row]
