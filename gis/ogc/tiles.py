"""Mapbox vector tiles built by PostGIS (矢量瓦片): ``ST_AsMVT``/``ST_AsMVTGeom`` in one statement.

A tile never drops a feature silently. A layer with at most :data:`MAX_RAW_FEATURES` features in
the tile carries them one by one (a polygon too small to survive quantisation falls back to a
point, flagged ``collapsed``). A denser layer — the whole county at low zoom — is aggregated:
features are grouped on a grid of :data:`CELLS` × :data:`CELLS` cells per tile and each group is one
point with ``count`` (how many features it stands for) and ``aggregated = true``; the counts add up
to the features in the tile. Cases are shown in the caller's view, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    LargeBinary,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.sql.util import find_tables

from gis.errors import InvalidParameter, NotFound
from gis.ogc.sources import Source, tile_properties

MAX_ZOOM: Final = 22
MAX_RAW_FEATURES: Final = 2_000
CELLS: Final = 32
EXTENT: Final = 4096
BUFFER: Final = 64


@dataclass(frozen=True)
class TileId:
    """A WebMercatorQuad tile (瓦片编号): zoom, column (x) and row (y)."""

    z: int
    x: int
    y: int


def check_tile(z: int, x: int, y: int) -> TileId:
    """Refuse a tile outside the WebMercatorQuad matrix, saying what the valid range is."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidParameter("z", f"缩放级别 z 须在 0–{MAX_ZOOM} 之间，收到 {z}。",
                               f"Zoom z must be 0–{MAX_ZOOM}; got {z}.", value=z)  # fmt: skip
    top = 2**z - 1
    if not (0 <= x <= top and 0 <= y <= top):
        raise NotFound(
            f"瓦片 {z}/{x}/{y} 超出 WebMercatorQuad 范围：z={z} 时 x、y 须在 0–{top} 之间。",
            f"Tile {z}/{x}/{y} is outside the WebMercatorQuad matrix: at z={z}, x and y must be 0–{top}.",
            z=z,
            x=x,
            y=y,
        )
    return TileId(z, x, y)


def _envelopes(tile: TileId) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The tile's envelope in EPSG:3857 and in EPSG:4326, each a scalar subquery computed once per
    statement: in the generic plan of a prepared statement PostgreSQL no longer folds
    ``ST_Transform(ST_TileEnvelope($1, $2, $3), 4326)`` into a constant and would build and
    transform it again for every feature (11,475 in the dense z12 tile of the 1M bench)."""
    env = func.ST_TileEnvelope(tile.z, tile.x, tile.y)
    return select(env).scalar_subquery(), select(func.ST_Transform(env, 4326)).scalar_subquery()


def _rows(source: Source, tile: TileId, name: str) -> CTE:
    """The tile's features (fid, geometry, properties); from the source's own table alone when every
    column and condition names only it (``Source.table``), without the joins other properties need."""
    _env, env4326 = _envelopes(tile)
    props = {k: v.label(k) for k, v in tile_properties(source).items()}
    fid = source.id_col if source.collection.source != "region" else literal(None, Integer)
    columns = [fid.label("fid"), source.geom.label("g"), *props.values()]
    where = and_(source.where, func.ST_Intersects(source.geom, env4326))
    named = [t for part in (where, *columns) for t in find_tables(part, check_columns=True, include_aliases=True)]
    if source.table is not None and all(found is source.table for found in named):
        stmt = select(*columns).select_from(source.table).where(where)
    else:
        stmt = source.base.with_only_columns(*columns).where(where)
    return stmt.cte(f"rows_{name}").prefix_with("MATERIALIZED")


def _mvt_geom(geom: ColumnElement[Any], env: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.ST_AsMVTGeom(geom, env, EXTENT, BUFFER, true())


def _raw(rows: CTE, tile: TileId, layer: str, with_ids: bool) -> Select[Any]:
    env, _env4326 = _envelopes(tile)
    g3857 = func.ST_Transform(rows.c.g, 3857)
    anchor = func.ST_ClosestPoint(env, func.ST_PointOnSurface(g3857))
    shaped = _mvt_geom(g3857, env)
    geom = func.coalesce(shaped, _mvt_geom(anchor, env)).label("geom")
    columns = [c for c in rows.c if c.name not in ("g", "fid")]
    ids = [rows.c.fid.label("id")] if with_ids else []
    inner = select(*ids, *columns, shaped.is_(None).label("collapsed"), geom).subquery("t")
    if with_ids:
        return select(func.ST_AsMVT(inner.table_valued(), layer, EXTENT, "geom", "id"))
    return select(func.ST_AsMVT(inner.table_valued(), layer, EXTENT, "geom"))


def _aggregated(rows: CTE, tile: TileId, layer: str) -> Select[Any]:
    env, _env4326 = _envelopes(tile)
    point = func.ST_Transform(func.ST_PointOnSurface(rows.c.g), 3857)
    cell = (2 * 20037508.342789244 / 2**tile.z) / CELLS
    key = func.ST_SnapToGrid(point, cell)
    centre = func.ST_ClosestPoint(env, func.ST_Centroid(func.ST_Collect(point)))
    dominant = {
        c.name: func.mode().within_group(c).label(c.name) for c in rows.c if c.name in ("category", "status", "state")
    }
    inner = (
        select(
            cast(func.count(), Integer).label("count"),
            literal(True, Boolean).label("aggregated"),
            *dominant.values(),
            _mvt_geom(centre, env).label("geom"),
        )
        .group_by(key)
        .subquery("t")
    )
    return select(func.ST_AsMVT(inner.table_valued(), layer, EXTENT, "geom"))


def build_tile(conn: Connection, sources: list[Source], tile: TileId) -> tuple[bytes, list[str]]:
    """The tile of every source as one MVT (layers named by collection id) and the aggregated layers."""
    parts = []
    flags = []
    for i, source in enumerate(sources):
        rows = _rows(source, tile, f"l{i}")
        count = select(func.count()).select_from(rows).scalar_subquery()
        dense = count > MAX_RAW_FEATURES
        layer = source.collection.id
        body = case(
            (dense, _aggregated(rows, tile, layer).scalar_subquery()),
            else_=_raw(rows, tile, layer, source.collection.source != "region").scalar_subquery(),
        )
        parts.append(func.coalesce(body, literal(b"", LargeBinary)).label(f"t{i}"))
        flags.append(dense.label(f"a{i}"))
    row = conn.execute(select(*parts, *flags)).one()
    n = len(sources)
    data = b"".join(bytes(row[i]) for i in range(n))
    aggregated = [s.collection.id for i, s in enumerate(sources) if row[n + i]]
    return data, aggregated
