"""A private PostgreSQL cluster (私有测试集群) for the crash test, and the API served in a subprocess.

Nothing here touches the project's shared cluster (``villagemap db up``, port 55433): the cluster is
initdb'd into its own temporary folder under /var/tmp, listens on 127.0.0.1 at its own port and is
removed at the end. As root the server runs as the ``postgres`` system user (PostgreSQL refuses
root), like :mod:`gis.localdb`. ``kill9`` sends SIGKILL to the postmaster and every process it
started, the way a crash or the OOM killer would; ``start`` again then runs crash recovery.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from psycopg import sql

from gis.localdb import pg_bin
from gis.settings import PROJECT_ROOT


def _os_user() -> str:
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class PrivateCluster:
    """initdb, start, SIGKILL and remove a throwaway cluster on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.user = _os_user()
        self.root = Path(tempfile.mkdtemp(prefix="villagemap-crash-", dir="/var/tmp"))
        self.data, self.run, self.log = self.root / "pgdata", self.root / "run", self.root / "postgresql.log"
        self.password = secrets.token_urlsafe(18)

    def _as_user(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        cmd = args if os.geteuid() != 0 else ["runuser", "-u", self.user, "--", *args]
        return subprocess.run(cmd, check=False, capture_output=True, text=True)

    def init(self) -> str:
        """initdb, start, and create the app role and a database with PostGIS; returns its URL."""
        entry = pwd.getpwnam(self.user)
        self.root.chmod(0o755)
        for path in (self.data, self.run):
            path.mkdir(mode=0o700)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.log.touch()
        os.chown(self.log, entry.pw_uid, entry.pw_gid)
        done = self._as_user([str(pg_bin("initdb")), "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                              "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"])  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        self.start()
        with psycopg.connect(host=str(self.run), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(sql.SQL("CREATE ROLE crash LOGIN PASSWORD {}").format(sql.Literal(self.password)))
            conn.execute("CREATE DATABASE villagemap OWNER crash")
        with psycopg.connect(host=str(self.run), port=self.port, user="postgres", dbname="villagemap",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute("CREATE EXTENSION postgis")
            conn.execute("CREATE EXTENSION pgrouting")
        return f"postgresql+psycopg://crash:{self.password}@127.0.0.1:{self.port}/villagemap"

    def start(self) -> None:
        """Start (after a crash this runs WAL recovery); fsync and full_page_writes stay on.

        A postmaster killed with SIGKILL leaves postmaster.pid behind; while its process is still a zombie
        (not yet reaped by init) PostgreSQL takes the lock as held, so a stale file of a dead pid is removed.
        """
        lock = self.data / "postmaster.pid"
        if lock.exists() and not _alive(int(lock.read_text().split()[0])):
            lock.unlink()
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.run} -c jit=off"
        done = self._as_user([str(pg_bin("pg_ctl")), "start", "-w", "-t", "120", "-D", str(self.data),
                              "-l", str(self.log), "-o", options])  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{self.log.read_text()[-2000:]}")

    def postmaster_pid(self) -> int:
        """The running postmaster's pid (first line of postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def kill9(self) -> int:
        """SIGKILL the postmaster and its children; returns how many processes were killed."""
        postmaster = self.postmaster_pid()
        victims, killed = [postmaster, *_children(postmaster)], 0
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:  # a backend that had just exited on its own
                continue
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in victims) and time.monotonic() < deadline:
            time.sleep(0.1)
        return killed

    def remove(self) -> None:
        """Stop (immediately) and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            self._as_user([str(pg_bin("pg_ctl")), "stop", "-m", "immediate", "-D", str(self.data)])
        shutil.rmtree(self.root, ignore_errors=True)


class ApiProcess:
    """``uvicorn api.app:create_app --factory`` in a subprocess, configured by environment."""

    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port, self.env = port, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        """Start and wait until /healthz answers 200."""
        cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(self.port), "--log-level", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env={**os.environ, **self.env})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the API did not start")

    def kill9(self) -> None:
        """SIGKILL the server process (no shutdown, no flush)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM) if still running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
