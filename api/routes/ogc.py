"""OGC API – Features routes (OGC 要素服务): conformance, collections, queryables, items.

Thin: parsing, SQL and documents live in :mod:`gis.ogc`; errors come out as OGC exceptions.
The path parameter is literally ``collectionId`` (GDAL pushes filters to the server only then).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Claims, ClaimsDep, PrincipalDep, principal_for
from api.deps import ConnDep, SettingsDep, request_transaction, strict_query
from api.routes.ogc_support import OGC_ERRORS, OgcRoute, base_url, html_page, json_doc, wanted_format
from gis.ogc import documents as docs
from gis.ogc.catalogue import data_extent, find_collection, listed_collections
from gis.ogc.crs import URIS, parse_ogc_crs
from gis.ogc.items import items_page, one_feature
from gis.ogc.params import items_query
from gis.ogc.sources import source_for
from gis.settings import Settings

router = APIRouter(tags=["OGC API – Features 要素服务"], route_class=OgcRoute)


GEOJSON_DOC = {"application/geo+json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
ITEMS_DOC = {200: {"description": "要素 / features (FeatureCollection)", "content": GEOJSON_DOC}} | OGC_ERRORS
ITEM_DOC = {200: {"description": "一个要素 / one feature", "content": GEOJSON_DOC}} | OGC_ERRORS
QUERYABLES_DOC = json_doc("可查询属性 / queryables (JSON Schema)", "application/schema+json") | OGC_ERRORS
SIMPLE_FILTERS: Final = ("code", "category", "status", "state", "subtype", "level", "parent_code", "county_code",
                         "township_code", "village_code", "grid_code", "overdue", "edge", "supervision_level",
                         "occupied", "year")  # fmt: skip


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
            "schema": schema, "description": description}  # fmt: skip


CRS_SCHEMA: Final = {"type": "string", "format": "uri", "enum": list(URIS)}
ITEMS_PARAMETERS: Final = [
    _param("limit", {"type": "integer", "minimum": 1}, "每页条数 / page size (larger values are clamped)"),
    _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "跳过条数 / features to skip"),
    _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
           "范围（按 bbox-crs 的轴序）/ bounding box in the axis order of bbox-crs (default CRS84 lon/lat)"),
    _param("bbox-crs", CRS_SCHEMA, "bbox 的坐标系 / CRS of bbox"),
    _param("crs", CRS_SCHEMA, "输出坐标系 / CRS of the response geometries"),
    _param("datetime", {"type": "string"}, "时刻、日期或区间 / instant, date or interval start/end ('..' open)"),
    _param("filter", {"type": "string"}, "CQL2 过滤条件 / CQL2 filter over the queryables"),
    _param("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
           "过滤语言（cql-text 视同 cql2-text）/ filter language; cql-text is an alias of cql2-text"),
    _param("filter-crs", CRS_SCHEMA, "过滤条件中几何的坐标系 / CRS of geometry literals in filter"),
    _param("f", {"type": "string", "enum": ["json", "geojson", "html"]}, "格式 / format"),
    *(_param(n, {"type": "boolean" if n in ("overdue", "occupied") else "integer" if n == "year" else "string"},
             f"属性 {n} 等于该值（图层有此属性时）/ equality filter on {n}, where the collection has it")
      for n in SIMPLE_FILTERS),
]  # fmt: skip


@router.get("/conformance", responses=json_doc("符合的标准 / conformance classes") | OGC_ERRORS,
            dependencies=[strict_query()])  # fmt: skip
def conformance(request: Request) -> Response:
    """符合的标准 / the conformance classes this server implements."""
    doc = docs.conformance()
    if wanted_format(request) == "html":
        return html_page(request, "符合的标准 Conformance", doc, [{"conformsTo": c} for c in doc["conformsTo"]])
    return JSONResponse(doc)


@router.get("/collections", responses=json_doc("图层列表 / collections") | OGC_ERRORS, dependencies=[strict_query()])
def collections(request: Request, conn: ConnDep) -> Response:
    """图层列表 / the collections: one per category and geometry type, and the region levels."""
    doc = docs.collections_doc(listed_collections(conn), base_url(request), data_extent(conn))
    if wanted_format(request) == "html":
        rows = [{"id": c["id"], "title": c["title"], "description": c["description"]} for c in doc["collections"]]
        return html_page(request, "图层 Collections", doc, rows)
    return JSONResponse(doc)


@router.get("/collections/{collectionId}", responses=json_doc("图层说明 / one collection") | OGC_ERRORS,
            dependencies=[strict_query()])  # fmt: skip
def collection(request: Request, conn: ConnDep, collection_id: Annotated[str, Path(alias="collectionId")]) -> Response:
    """图层说明 / one collection: extent, CRSs, links to items, queryables and tiles."""
    doc = docs.collection_doc(find_collection(conn, collection_id), base_url(request), data_extent(conn))
    if wanted_format(request) == "html":
        return html_page(request, doc["title"], doc, [{"id": doc["id"], "description": doc["description"]}])
    return JSONResponse(doc)


@router.get("/collections/{collectionId}/queryables", dependencies=[strict_query()],
            responses=QUERYABLES_DOC)  # fmt: skip
def queryables(
    request: Request, conn: ConnDep, p: PrincipalDep, collection_id: Annotated[str, Path(alias="collectionId")]
) -> Response:
    """可查询属性 / the properties a filter (or a simple parameter) may name."""
    source = source_for(find_collection(conn, collection_id), p)
    doc = docs.queryables_doc(source, base_url(request))
    if wanted_format(request) == "html":
        rows = [{"name": k, **v} for k, v in doc["properties"].items()]
        return html_page(request, f"可查询属性 Queryables · {doc['title']}", doc, rows)
    return JSONResponse(doc, media_type="application/schema+json")


@router.get("/collections/{collectionId}/items", openapi_extra={"parameters": ITEMS_PARAMETERS},
            responses=ITEMS_DOC)  # fmt: skip
async def items(
    request: Request, settings: SettingsDep, claims: ClaimsDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
) -> Response:  # fmt: skip
    """要素 / features of a collection: bbox, datetime, CQL2 filter, simple filters, crs, offset paging.

    ``async`` with one worker-thread hop: the caller's lookup, the collection and the page run in
    one thread and one transaction (a generator dependency and a sync one would cost three more).
    """
    return await run_in_threadpool(_items, request, settings, claims, collection_id)


def _items(request: Request, settings: Settings, claims: Claims, collection_id: str) -> Response:
    with request_transaction(request) as conn:
        p = principal_for(conn, claims)
        fmt = wanted_format(request)
        source = source_for(find_collection(conn, collection_id), p)
        params = request.query_params.multi_items()
        q = items_query(params, source, (settings.default_limit, settings.max_limit), settings.max_vertices)
        page = items_page(conn, source, q)
    url = base_url(request) + request.url.path
    text = docs.feature_collection(page, docs.page_links(url, params, page, q.offset, q.limit))
    if fmt == "html":
        body = json.loads(text)
        rows = [{"id": f["id"], **f["properties"]} for f in body["features"]]
        return html_page(request, f"要素 Features · {source.collection.title}", body, rows)
    return Response(text, media_type="application/geo+json", headers={"Content-Crs": f"<{q.crs.uri}>"})


@router.get("/collections/{collectionId}/items/{featureId}", dependencies=[strict_query("crs")],
            responses=ITEM_DOC)  # fmt: skip
def item(
    request: Request, conn: ConnDep, p: PrincipalDep,
    collection_id: Annotated[str, Path(alias="collectionId")], feature_id: Annotated[str, Path(alias="featureId")],
    crs: str | None = None,
) -> Response:  # fmt: skip
    """一个要素 / one feature, in the caller's view, with self and collection links."""
    fmt = wanted_format(request)
    target = parse_ogc_crs("crs", crs)
    source = source_for(find_collection(conn, collection_id), p)
    text = docs.with_links(one_feature(conn, source, feature_id, target),
                           docs.feature_links(base_url(request), collection_id, feature_id))  # fmt: skip
    if fmt == "html":
        body = json.loads(text)
        return html_page(request, f"要素 {feature_id} · {source.collection.title}", body, [body["properties"]])
    return Response(text, media_type="application/geo+json", headers={"Content-Crs": f"<{target.uri}>"})
