"""The project-local PostGIS cluster (本地数据库集群) behind ``villagemap db up|down|status``.

Debian keeps ``initdb`` and ``pg_ctl`` in ``/usr/lib/postgresql/15/bin``; PostgreSQL refuses to run
as root, so when we are root the server runs as the ``postgres`` system user. The cluster listens on
127.0.0.1 only, on a non-default port, and its socket lives in a private directory. The app role
``villagemap`` logs in with a generated password kept in a git-ignored passfile.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from gis.settings import PASSFILE, PROJECT_ROOT, STATE_DIR, Settings

PG_MAJOR = 15
APP_ROLE = "villagemap"
APP_DB = "villagemap"
TEMPLATE_DB = "villagemap_template"
EXTENSIONS = ("postgis", "pgrouting")
APT_PACKAGES = f"postgresql-{PG_MAJOR} postgresql-{PG_MAJOR}-postgis-3 postgresql-{PG_MAJOR}-pgrouting"


class LocalDbError(RuntimeError):
    """The local cluster cannot be set up; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    """Where the local cluster lives and who runs it."""

    data_dir: Path
    socket_dir: Path
    log_file: Path
    port: int
    os_user: str

    def info(self) -> str:
        """One line for people: where it is and how to reach it."""
        return f"data={self.data_dir} port={self.port} user={self.os_user} log={self.log_file}"


def pg_bin(name: str) -> Path:
    """Path of a PostgreSQL server program (Debian keeps them off PATH)."""
    path = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin") / name
    if path.exists():
        return path
    found = shutil.which(name)
    if found:
        return Path(found)
    raise LocalDbError(
        f"未找到 PostgreSQL {PG_MAJOR} 的 {name}。请以 root 运行 scripts/bootstrap.sh，或执行 "
        f"apt-get install {APT_PACKAGES}；也可设置 DATABASE_URL 指向已有的 PostGIS ≥ 3.3。\n"
        f"PostgreSQL {PG_MAJOR} '{name}' not found. Run scripts/bootstrap.sh as root, or "
        f"apt-get install {APT_PACKAGES}; or set DATABASE_URL to an existing PostGIS >= 3.3."
    )


def _cluster_user() -> str:
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _user_can_reach(user: str, path: Path) -> bool:
    if os.geteuid() != 0 or user == "root":
        return True
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)], check=False, capture_output=True)
    return probe.returncode == 0


def cluster(settings: Settings) -> Cluster:
    """The cluster layout: under ``.villagemap/`` or, if its OS user cannot reach it, /var/tmp."""
    user = _cluster_user()
    base = settings.local_db_dir or STATE_DIR
    if settings.local_db_dir is None and not _user_can_reach(user, PROJECT_ROOT):
        digest = hashlib.sha256(str(PROJECT_ROOT).encode()).hexdigest()[:10]
        base = Path("/var/tmp") / f"villagemap-{digest}"
    return Cluster(
        data_dir=base / "pgdata",
        socket_dir=base / "run",
        log_file=base / "postgresql.log",
        port=settings.local_db_port,
        os_user=user,
    )


def _as_cluster_user(c: Cluster, args: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = args if os.geteuid() != 0 else ["runuser", "-u", c.os_user, "--", *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True)


def _owned_dir(c: Cluster, path: Path, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    entry = pwd.getpwnam(c.os_user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)


def _initdb(c: Cluster) -> None:
    c.data_dir.parent.mkdir(parents=True, exist_ok=True)
    c.data_dir.parent.chmod(0o755)
    _owned_dir(c, c.data_dir, 0o700)
    _owned_dir(c, c.socket_dir, 0o700)
    done = _as_cluster_user(
        c,
        [str(pg_bin("initdb")), "-D", str(c.data_dir), "-U", "postgres", "-E", "UTF8",
         "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"],
    )  # fmt: skip
    if done.returncode != 0:
        raise LocalDbError(f"initdb 失败 / initdb failed:\n{done.stderr}")


def is_running(c: Cluster) -> bool:
    """True when pg_ctl reports the local server running."""
    if not (c.data_dir / "PG_VERSION").exists():
        return False
    return _as_cluster_user(c, [str(pg_bin("pg_ctl")), "status", "-D", str(c.data_dir)]).returncode == 0


def _start(c: Cluster) -> None:
    if not c.log_file.exists():
        c.log_file.touch()
    entry = pwd.getpwnam(c.os_user)
    os.chown(c.log_file, entry.pw_uid, entry.pw_gid)
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={c.port} -c unix_socket_directories={c.socket_dir}"
        " -c shared_buffers=256MB -c jit=off -c random_page_cost=1.1"
        " -c password_encryption=scram-sha-256"
    )
    done = _as_cluster_user(
        c,
        [str(pg_bin("pg_ctl")), "start", "-w", "-t", "60", "-D", str(c.data_dir),
         "-l", str(c.log_file), "-o", options],
    )  # fmt: skip
    if done.returncode != 0:
        tail = c.log_file.read_text(errors="replace")[-2000:]
        raise LocalDbError(f"PostgreSQL 启动失败 / failed to start:\n{done.stderr}\n{tail}")


@contextmanager
def superuser(c: Cluster, dbname: str = "postgres") -> Iterator[psycopg.Connection]:
    """A superuser connection through the private socket (trust, reachable by its owner only)."""
    with psycopg.connect(host=str(c.socket_dir), port=c.port, user="postgres", dbname=dbname, autocommit=True) as conn:
        yield conn


def _password() -> str:
    if PASSFILE.exists():
        return PASSFILE.read_text().strip().rsplit(":", 1)[-1]
    return secrets.token_urlsafe(24)


def _write_passfile(port: int, password: str) -> None:
    PASSFILE.parent.mkdir(parents=True, exist_ok=True)
    line = f"127.0.0.1:{port}:*:{APP_ROLE}:{password}\n"
    PASSFILE.write_text(line)
    PASSFILE.chmod(0o600)


def _ensure_role_and_dbs(c: Cluster) -> None:
    password = _password()
    with superuser(c) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                verb, sql.Identifier(APP_ROLE), sql.Literal(password)
            )
        )
        _ensure_template(c, conn)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [APP_DB]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE {}").format(
                    sql.Identifier(APP_DB), sql.Identifier(APP_ROLE), sql.Identifier(TEMPLATE_DB)
                )
            )
    _write_passfile(c.port, password)


def _ensure_template(c: Cluster, conn: psycopg.Connection) -> None:
    """A template with the extensions, so the app role can create databases (tests) without superuser."""
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DB]).fetchone():
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(TEMPLATE_DB), sql.Identifier(APP_ROLE))
        )
    with superuser(c, TEMPLATE_DB) as tconn:
        for ext in EXTENSIONS:
            available = tconn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [ext]).fetchone()
            if not available:
                raise LocalDbError(
                    f"扩展 {ext} 不可用，请安装 {APT_PACKAGES}。\n"
                    f"Extension {ext} is not available: install {APT_PACKAGES}."
                )
            tconn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
    conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(TEMPLATE_DB)))


def up(settings: Settings) -> Cluster:
    """Create (first time) and start the local cluster, its role, template and database."""
    c = cluster(settings)
    if not (c.data_dir / "PG_VERSION").exists():
        _initdb(c)
    if not is_running(c):
        _owned_dir(c, c.socket_dir, 0o700)
        _start(c)
    _wait_ready(c)
    _ensure_role_and_dbs(c)
    return c


def _wait_ready(c: Cluster, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with superuser(c) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def down(settings: Settings) -> bool:
    """Stop the local cluster; False when it was not running."""
    c = cluster(settings)
    if not is_running(c):
        return False
    done = _as_cluster_user(c, [str(pg_bin("pg_ctl")), "stop", "-m", "fast", "-D", str(c.data_dir)])
    if done.returncode != 0:
        raise LocalDbError(f"停止失败 / stop failed:\n{done.stderr}")
    return True


def versions(c: Cluster) -> dict[str, str]:
    """Versions of PostgreSQL and of the installed extensions in the app database."""
    with superuser(c, APP_DB) as conn:
        rows = conn.execute(
            "SELECT 'postgresql', current_setting('server_version') "
            "UNION ALL SELECT extname, extversion FROM pg_extension ORDER BY 1"
        ).fetchall()
    return {str(name): str(version) for name, version in rows}
