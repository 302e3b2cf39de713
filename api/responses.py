"""Response classes (响应类型): text built by PostGIS goes out as it is."""

from __future__ import annotations

from fastapi.responses import Response

GEOJSON = "application/geo+json"


class GeoJSONResponse(Response):
    """GeoJSON text (RFC 7946) handed over from PostGIS without decoding."""

    media_type = GEOJSON


#: Where VillageMap serves the map's own JS/CSS (never a CDN).
STATIC_PREFIX = "/static/vendor"
