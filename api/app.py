"""The application factory (应用工厂): ``create_app(settings)`` builds everything, nothing global."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from api import routes
from api.body_limit import JsonBodyLimit
from api.errors import add_exception_handlers
from api.openapi import use_openapi_30
from api.responses import STATIC_PREFIX
from gis.db import make_engine
from gis.photos import PhotoStore
from gis.settings import Settings
from maps.assets import static_dirs

#: Routers whose order matters come first (``/cases/{id}/photos`` before ``/cases/{id}/{action}``);
#: every other module in ``api/routes`` with a ``router`` follows in name order.
FIRST = ("home", "health", "auth", "areas", "cases", "photos")
LAST = ("case_write",)


def routers() -> list[APIRouter]:
    """The routers of ``api/routes``, in the order they must be matched."""
    names = sorted(m.name for m in pkgutil.iter_modules(routes.__path__))
    ordered = [*FIRST, *(n for n in names if n not in FIRST + LAST), *LAST]
    found = []
    for name in ordered:
        router = getattr(importlib.import_module(f"api.routes.{name}"), "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def _mount_assets(app: FastAPI) -> None:
    for name, directory in static_dirs().items():
        app.mount(f"{STATIC_PREFIX}/{name}", StaticFiles(directory=directory, check_dir=False), name=f"vendor-{name}")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the VillageMap app: engine, routes, error handlers and locally served map assets."""
    settings = settings or Settings()
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="VillageMap 乡村人居环境整治地图",
        version="0.1.0",
        description="农村人居环境整治：问题上图、派遣处置、现场销号。Cases, projects and facilities on a map.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.photo_store = PhotoStore(settings.photo_dir, max_bytes=settings.photo_max_bytes)
    add_exception_handlers(app)
    app.add_middleware(JsonBodyLimit, limit=settings.max_json_bytes)
    for router in routers():
        app.include_router(router)
    _mount_assets(app)
    use_openapi_30(app)
    return app
