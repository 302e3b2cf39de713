"""Geometry into SQL (几何传参): full-precision hex WKB for ``ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)``."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry


def wkb(geom: BaseGeometry) -> str:
    """Hex WKB (no SRID; the SQL sets 4326): exact, unlike WKT with its rounding."""
    return str(shapely.to_wkb(geom, hex=True))
