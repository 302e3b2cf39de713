"""The two HTTP servers under test (被测服务): VillageMap and tipg, each as many uvicorn workers on loopback.

Both are started by the runner as child processes, on free loopback ports, against the same bench
database, and stopped (by their own pid) when the block ends. tipg lives in its own virtual
environment (``.villagemap/venv-bench``), created here on first use with ``pip install tipg``, so
it never touches the project's dependencies. Both get the same number of worker processes:
``VILLAGEMAP_BENCH_WORKERS`` (``python -m bench --workers N``), 1 unless set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url

from gis.settings import PROJECT_ROOT, STATE_DIR

BENCH_VENV = STATE_DIR / "venv-bench"
TIPG_VERSION = "1.6.1"
WORKERS_ENV = "VILLAGEMAP_BENCH_WORKERS"


def workers() -> int:
    """Worker processes per server (the same for VillageMap and tipg)."""
    return max(1, int(os.environ.get(WORKERS_ENV, "1")))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_tipg(venv: Path = BENCH_VENV) -> Path:
    """The bench venv's python with tipg and uvicorn installed (created on first use)."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import tipg, uvicorn"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    print(f"==> 安装 tipg 到 {venv} / installing tipg {TIPG_VERSION} into {venv}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"]
    subprocess.run(pip, check=True)
    return python


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {seconds} s")


@contextmanager
def _serve(cmd: list[str], env: dict[str, str], ready_path: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers()), "--no-access-log",
         "--log-level", "warning"],
        env=env, cwd=PROJECT_ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + ready_path, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def villagemap(url: str, photo_dir: Path) -> Iterator[str]:
    """VillageMap (``api.app:create_app``) on the bench database; yields its base URL."""
    env = dict(os.environ, VILLAGEMAP_DATABASE_URL=url, VILLAGEMAP_PHOTO_DIR=str(photo_dir))
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    with _serve(cmd, env, "/healthz") as base:
        yield base


def tipg_env(url: str) -> dict[str, str]:
    """tipg's settings: the same database (asyncpg URL, passfile), only the ``cases`` table."""
    u = make_url(url)
    dsn = f"postgresql://{u.username}{':' + str(u.password) if u.password else ''}@{u.host}:{u.port}/{u.database}"
    env = dict(os.environ, DATABASE_URL=dsn, TIPG_DB_SCHEMAS='["public"]', TIPG_DB_TABLES='["public.cases"]')
    if "passfile" in u.query:
        env["PGPASSFILE"] = str(u.query["passfile"])
    return env


@contextmanager
def tipg(url: str, python: Path) -> Iterator[str]:
    """tipg (``tipg.main:app``, default settings) on the bench database; yields its base URL."""
    with _serve([str(python), "-m", "uvicorn", "tipg.main:app"], tipg_env(url), "/collections") as base:
        yield base
