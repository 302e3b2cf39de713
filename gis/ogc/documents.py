"""OGC API documents (接口文档): conformance, collections, queryables and the links of pages.

Plain dictionaries built from the catalogue; the features themselves are text from PostGIS and
are wrapped here without being decoded (:func:`feature_collection`, :func:`with_links`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

import orjson

from gis.ogc.catalogue import FAMILIES, Collection
from gis.ogc.crs import CRS84, URIS
from gis.ogc.items import ItemsPage
from gis.ogc.sources import Source

GEOJSON: Final = "application/geo+json"
JSON: Final = "application/json"
HTML: Final = "text/html"
SCHEMA_JSON: Final = "application/schema+json"
MVT: Final = "application/vnd.mapbox-vector-tile"
_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE: Final[tuple[str, ...]] = (
    *(_F1 + c for c in ("core", "oas30", "geojson", "html")),
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *(_F3 + c for c in ("queryables", "queryables-query-parameters", "filter", "features-filter")),
    *(
        _CQL + c
        for c in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "case-insensitive-comparison",
            "basic-spatial-functions",
            "basic-spatial-functions-plus",
            "spatial-functions",
            "property-property",
        )
    ),
)
QUERYABLES_REL: Final = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def link(href: str, rel: str, media: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    """A link object with ``rel`` and ``type`` (ogctests checks both)."""
    found: dict[str, Any] = {"href": href, "rel": rel, "type": media}
    if title:
        found["title"] = title
    return found | extra


def landing_links(base: str) -> list[dict[str, Any]]:
    """The OGC links the landing page adds (入口链接): conformance, data, tiles, Open311."""
    return [
        link(f"{base}/conformance", "conformance", JSON, "符合的标准 conformance classes"),
        link(f"{base}/collections", "data", JSON, "图层 collections"),
        link(f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "矢量瓦片 vector tiles"),
        link(f"{base}/maps/tiles", "alternate", HTML, "全县瓦片地图 county map from vector tiles"),
        link(f"{base}/open311/v2/discovery.json", "related", JSON, "Open311 GeoReport v2"),
    ]


def conformance() -> dict[str, Any]:
    """``/conformance``: the classes this server implements."""
    return {"conformsTo": list(CONFORMANCE)}


def collection_doc(col: Collection, base: str, extent: list[float]) -> dict[str, Any]:
    """One collection's metadata (图层说明); the same in ``/collections`` and ``/collections/{id}``."""
    href = f"{base}/collections/{col.id}"
    return {
        "id": col.id,
        "title": col.title,
        "description": col.description,
        "itemType": "feature",
        "crs": list(URIS),
        "storageCrs": CRS84.uri,
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84.uri}},
        "geometryType": FAMILIES[col.family][1][0],
        "links": [
            link(href, "self", JSON, col.title),
            link(f"{href}?f=html", "alternate", HTML, col.title),
            link(f"{href}/items", "items", GEOJSON, "要素 features"),
            link(f"{href}/items?f=html", "items", HTML, "要素 features"),
            link(f"{href}/queryables", QUERYABLES_REL, SCHEMA_JSON, "可查询属性 queryables"),
            link(f"{href}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "矢量瓦片 tiles"),
        ],
    }


def collections_doc(cols: list[Collection], base: str, extent: list[float]) -> dict[str, Any]:
    """``/collections``: every listed collection with its links."""
    return {
        "links": [
            link(f"{base}/collections", "self", JSON, "图层 collections"),
            link(f"{base}/collections?f=html", "alternate", HTML, "图层 collections"),
        ],
        "crs": list(URIS),
        "collections": [collection_doc(c, base, extent) for c in cols],
    }


def _schema(q: Any) -> dict[str, Any]:
    if q.type == "geometry":
        return {"format": "geometry-any", "title": q.title}
    kind = {"date": "string", "date-time": "string"}.get(q.type, q.type)
    found: dict[str, Any] = {"type": kind, "title": q.title}
    if q.type in ("date", "date-time"):
        found["format"] = q.type
    if q.enum:
        found["enum"] = list(q.enum)
    return found


def queryables_doc(source: Source, base: str) -> dict[str, Any]:
    """``/queryables`` (可查询属性): a JSON Schema of the properties filters may name."""
    col = source.collection
    props = {name: _schema(q) for name, q in source.queryables.items()}
    geometry_format = {"points": "geometry-point-or-multipoint", "lines": "geometry-linestring-or-multilinestring"}
    props["geometry"]["format"] = geometry_format.get(col.family, "geometry-polygon-or-multipolygon")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{col.id}/queryables",
        "type": "object",
        "title": col.title,
        "properties": props,
        "additionalProperties": False,
    }


def page_links(
    url: str, params: list[tuple[str, str]], page: ItemsPage, offset: int, limit: int
) -> list[dict[str, Any]]:
    """``self``, ``alternate``, ``next`` and ``prev`` of an items page, repeating every other parameter."""
    kept = [(k, v) for k, v in params if k not in ("offset", "f")]

    def at(new_offset: int, f: str | None = None) -> str:
        query = kept + ([("offset", str(new_offset))] if new_offset else []) + ([("f", f)] if f else [])
        return url + ("?" + urlencode(query) if query else "")

    links = [
        link(at(offset), "self", GEOJSON, "本页 this page"),
        link(at(offset, "html"), "alternate", HTML, "本页 this page"),
    ]
    if page.more:
        links.append(link(at(offset + limit), "next", GEOJSON, "下一页 next page"))
    if offset > 0:
        links.append(link(at(max(offset - limit, 0)), "prev", GEOJSON, "上一页 previous page"))
    collection_url = url.rsplit("/items", 1)[0]
    return [*links, link(collection_url, "collection", JSON, "图层 collection")]


def feature_collection(page: ItemsPage, links: list[dict[str, Any]]) -> str:
    """The FeatureCollection text: PostGIS's features array spliced in as it came."""
    head: dict[str, Any] = {"type": "FeatureCollection", "timeStamp": datetime.now(UTC).isoformat(timespec="seconds")}
    if page.matched is not None:
        head["numberMatched"] = page.matched
    head |= {"numberReturned": page.returned, "links": links}
    return orjson.dumps(head).decode()[:-1] + ',"features":' + page.features + "}"


def with_links(feature_text: str, links: list[dict[str, Any]]) -> str:
    """A Feature text from PostGIS with ``links`` added (its first character is ``{``)."""
    return '{"links":' + orjson.dumps(links).decode() + "," + feature_text.lstrip()[1:]


def feature_links(base: str, collection_id: str, feature_id: str) -> list[dict[str, Any]]:
    """``self``, ``alternate`` and ``collection`` links of one feature."""
    href = f"{base}/collections/{collection_id}/items/{feature_id}"
    return [
        link(href, "self", GEOJSON, "本要素 this feature"),
        link(f"{href}?f=html", "alternate", HTML, "本要素 this feature"),
        link(f"{base}/collections/{collection_id}", "collection", JSON, "图层 collection"),
    ]
