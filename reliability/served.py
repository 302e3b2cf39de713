"""A private PostgreSQL cluster with the sample, served by uvicorn (私有服务): what crash and load tests run on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from data.load import load_sample
from gis import migrate
from gis.db import make_engine
from gis.settings import Settings
from reliability.pgcluster import ApiProcess, PrivateCluster
from reliability.workload import GRID


@dataclass
class Served:
    """The running pieces: the cluster, the settings pointing at it, the API process, a spot in the demo grid."""

    cluster: PrivateCluster
    settings: Settings
    api: ApiProcess
    spot: tuple[float, float]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prepare(settings: Settings, cases: int) -> tuple[float, float]:
    """Migrate, load a small sample; returns a point well inside the demo grid."""
    engine = make_engine(settings, pool_size=1)
    migrate.upgrade(engine)
    load_sample(engine, cases=cases)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM region WHERE code = %(g)s) s",
            {"g": GRID},
        ).one()
    engine.dispose()
    return float(row[0]), float(row[1])


@contextmanager
def served_sample(port: int, cases: int) -> Iterator[Served]:
    """A private cluster on ``port`` with ``cases`` sample cases and the API on a free port; removed afterwards."""
    cluster = PrivateCluster(port)
    api: ApiProcess | None = None
    try:
        settings = Settings(database_url=cluster.init(), photo_dir=cluster.root / "photos")
        spot = prepare(settings, cases)
        env = {"VILLAGEMAP_DATABASE_URL": settings.database_url, "VILLAGEMAP_PHOTO_DIR": str(settings.photo_dir)}
        api = ApiProcess(free_port(), env)
        api.start()
        yield Served(cluster, settings, api, spot)
    finally:
        if api is not None:
            api.stop()
        cluster.remove()
