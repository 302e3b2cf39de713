"""Request dependencies (依赖注入): one transaction per request, settings, paging links."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, params
from sqlalchemy import Connection

from gis.errors import InvalidParameter
from gis.filters import BBox, clamp_limit, parse_bbox
from gis.geojson import PageLinks
from gis.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with (``async``: no I/O, so no worker-thread hop per request)."""
    settings: Settings = request.app.state.settings
    return settings


def get_conn(request: Request) -> Iterator[Connection]:
    """One transaction per request: committed when the handler returns, rolled back on error.

    Its scope is ``function``: the commit happens *before* the response is sent, so a 2xx means the
    write is durable (with the default ``request`` scope FastAPI commits after sending, and a client
    could be told "created" for a write that a crash then loses, or not see its own write at once).
    """
    with request.app.state.engine.begin() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]


def request_transaction(request: Request) -> AbstractContextManager[Connection]:
    """The request's one transaction for an ``async`` endpoint that opens it in its single worker thread.

    The same transaction ``ConnDep`` gives (committed when the block ends, before the response is
    sent; rolled back when it raises), without the two worker-thread hops of a generator dependency.
    An override of ``get_conn`` (the tests' shared rolled-back connection) is honoured.
    """
    override = request.app.dependency_overrides.get(get_conn)
    if override is not None:
        return contextmanager(override)()
    transaction: AbstractContextManager[Connection] = request.app.state.engine.begin()
    return transaction


def bbox_param(
    bbox: Annotated[
        str | None,
        Query(description="西,南,东,北 经纬度范围 / west,south,east,north in degrees (EPSG:4326)"),
    ] = None,
) -> BBox | None:
    """Parse the ``bbox`` query parameter."""
    return parse_bbox(bbox) if bbox is not None else None


BBoxDep = Annotated[BBox | None, Depends(bbox_param)]


def limit_param(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(description="每页条数 / page size (larger values are clamped to the maximum)"),
    ] = None,
) -> int:
    """The page size: default from settings, larger requests clamped to the maximum."""
    return clamp_limit(settings.default_limit if limit is None else limit, settings.max_limit)


LimitDep = Annotated[int, Depends(limit_param)]


def after_param(
    after: Annotated[
        int | None,
        Query(description="上一页最后一条的 id / id of the last item of the previous page"),
    ] = None,
) -> int | None:
    """The keyset cursor: return items with an id greater than this."""
    if after is not None and after < 0:
        raise InvalidParameter("after", "参数 after 不能为负数。", "after must not be negative.", value=after)
    return after


AfterDep = Annotated[int | None, Depends(after_param)]


def page_links(request: Request, settings: SettingsDep) -> PageLinks:
    """``self`` is this URL; ``next`` repeats every parameter but ``after``, which SQL fills in."""
    base = (settings.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")) + request.url.path
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    query = urlencode(kept)
    self_href = base + (f"?{request.url.query}" if request.url.query else "")
    return PageLinks(self_href=self_href, next_prefix=base + "?" + (query + "&" if query else "") + "after=")


LinksDep = Annotated[PageLinks, Depends(page_links)]


def strict_query(*allowed: str) -> params.Depends:
    """A dependency refusing query parameters the endpoint does not know (typos never pass silently)."""
    known = frozenset(allowed) | {"f"}

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise InvalidParameter(
                unknown[0],
                f"未知的查询参数：{', '.join(unknown)}。可用参数：{', '.join(sorted(known))}。",
                f"Unknown query parameter(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.",
                unknown=unknown,
            )

    return params.Depends(check)
