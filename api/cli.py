"""The ``villagemap`` command (命令行): local database, migrations, sample data, serving, maps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from api.cli_office import register_office_commands
from api.cli_ops import register_ops_commands
from api.map_build import MapView, patrol_map_for
from data.load import DEFAULT_SEED, load_sample
from gis import localdb, migrate
from gis.access import ANONYMOUS
from gis.apikeys import create_api_key, revoke_api_key
from gis.db import make_engine, transaction
from gis.errors import DomainError
from gis.patrol_route import RouteRequest
from gis.photos import PhotoStore
from gis.settings import Settings
from gis.users import demo_accounts, operator_principal
from maps.assets import inline
from maps.patrol import render_patrol_map
from maps.printlist import stop_list_page

app = typer.Typer(help="VillageMap 乡村人居环境整治地图", no_args_is_help=True, add_completion=False)
db = typer.Typer(help="数据库 / the database (local PostGIS cluster and migrations)", no_args_is_help=True)
app.add_typer(db, name="db")


def say(message: str) -> None:
    """Print a progress line (Chinese first)."""
    typer.echo(message)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@db.command("up")
def db_up() -> None:
    """创建并启动本地 PostGIS 集群 / create (first time) and start the local PostGIS cluster."""
    settings = Settings()
    if not settings.uses_local_cluster:
        say("已设置 DATABASE_URL，跳过本地集群 / DATABASE_URL is set: local cluster not used.")
        return
    try:
        cluster = localdb.up(settings)
    except localdb.LocalDbError as exc:
        _fail(str(exc))
        return
    say(f"本地数据库已就绪 / local database ready: {cluster.info()}")


@db.command("down")
def db_down() -> None:
    """停止本地集群 / stop the local cluster."""
    stopped = localdb.down(Settings())
    say("已停止 / stopped." if stopped else "未在运行 / was not running.")


@db.command("status")
def db_status() -> None:
    """本地集群与迁移状态 / local cluster and migration status."""
    settings = Settings()
    if settings.uses_local_cluster:
        cluster = localdb.cluster(settings)
        running = localdb.is_running(cluster)
        say(f"本地集群 / local cluster: {'运行中 running' if running else '未运行 stopped'} ({cluster.info()})")
        if running:
            for name, version in localdb.versions(cluster).items():
                say(f"  {name} {version}")
    engine = make_engine(settings, pool_size=1)
    say(f"迁移版本 / schema revision: {migrate.current_revision(engine)} (head {migrate.head_revision()})")
    engine.dispose()


@db.command("upgrade")
def db_upgrade() -> None:
    """执行数据库迁移 / apply the migrations (alembic upgrade head)."""
    engine = make_engine(Settings(), pool_size=1)
    migrate.upgrade(engine)
    say(f"迁移完成 / schema at {migrate.current_revision(engine)}")
    engine.dispose()


@app.command("load-sample")
def load_sample_cmd(
    seed: Annotated[int, typer.Option(help="随机种子 / generator seed")] = DEFAULT_SEED,
    cases: Annotated[int, typer.Option(help="近一年案件数 / cases of the last year")] = 3000,
) -> None:
    """载入样例数据（利通区、平罗县）/ load the sample data; skipped when already loaded."""
    settings = Settings()
    engine = make_engine(settings, pool_size=1)
    report = load_sample(engine, seed=seed, cases=cases, demo_password=settings.demo_password)
    engine.dispose()
    if report.skipped:
        say("样例数据已存在，跳过 / sample data already loaded: skipped.")
        return
    counts = ", ".join(f"{k}={v}" for k, v in report.counts.items())
    say(f"样例数据已载入 / sample loaded in {report.seconds:.1f}s: {counts}")


def _refuse_unsafe_production(settings: Settings) -> None:
    problems = settings.production_problems()
    engine = make_engine(settings, pool_size=1)
    with engine.connect() as conn:
        demos = demo_accounts(conn)
    engine.dispose()
    if demos:
        problems.append(f"存在演示账号 / demo accounts exist: {', '.join(demos)}")
    if problems:
        _fail("生产模式拒绝启动 / refusing to serve in production:\n- " + "\n- ".join(problems))


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址 / bind address")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port")] = None,
) -> None:
    """启动服务 / serve VillageMap over HTTP (default http://127.0.0.1:8000)."""
    settings = Settings()
    if settings.environment == "production":
        _refuse_unsafe_production(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    say(f"VillageMap: http://{bind_host}:{bind_port}/")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


@app.command("render-map")
def render_map(
    grid_code: Annotated[str, typer.Argument(help="15 位网格代码 / grid code")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 HTML 文件 / output file")],
    user: Annotated[str | None, typer.Option(help="以该用户的视图生成 / in this user's view (default: public)")] = None,
    route: Annotated[bool, typer.Option(help="绘制巡查路线 / draw the patrol route")] = True,
    overdue_first: Annotated[bool, typer.Option(help="先巡查逾期问题 / overdue cases first")] = False,
    stop_list: Annotated[Path | None, typer.Option(help="另存巡查清单 HTML / also write the stop list")] = None,
) -> None:
    """生成网格巡查图（离线单文件）/ write a grid's patrol map as one self-contained HTML file."""
    settings = Settings()
    engine = make_engine(settings, pool_size=1)
    try:
        with transaction(engine) as conn:
            p = operator_principal(conn, user) if user else ANONYMOUS
            if p is None:
                _fail(f"没有账号 {user} / no such active user: {user}")
                return
            view = MapView(RouteRequest(grid_code, overdue_first=overdue_first) if route else None, inline=True)
            data = patrol_map_for(conn, p, grid_code, view, PhotoStore(settings.photo_dir))
    except DomainError as exc:
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
        return
    finally:
        engine.dispose()
    output.write_text(render_patrol_map(data, assets=inline()), encoding="utf-8")
    say(f"已生成 / written: {output} ({output.stat().st_size // 1024} KB)")
    if stop_list is not None and data.route is not None:
        stop_list.write_text(stop_list_page(data.title, data.route), encoding="utf-8")
        say(f"巡查清单 / stop list: {stop_list}")


api_keys = typer.Typer(help="接口密钥 / API keys for machine clients (Open311)", no_args_is_help=True)
app.add_typer(api_keys, name="api-key")


@api_keys.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="密钥名称（如某个 App）/ what the key is for")],
    user: Annotated[str | None, typer.Option(help="以该用户身份上报 / report as this user (else anonymous)")] = None,
) -> None:
    """创建接口密钥（只显示一次）/ create an API key; it is shown once and stored only as a hash."""
    engine = make_engine(Settings(), pool_size=1)
    try:
        with transaction(engine) as conn:
            key = create_api_key(conn, name, user)
    except DomainError as exc:
        _fail(f"{exc.detail_zh}\n{exc.detail_en}")
        return
    finally:
        engine.dispose()
    say("接口密钥（只显示这一次，请妥善保存）/ API key (shown once, keep it safe):")
    say(key)


@api_keys.command("revoke")
def api_key_revoke(prefix: Annotated[str, typer.Argument(help="密钥前缀（vm_ 后 8 位）/ the key's prefix")]) -> None:
    """吊销接口密钥 / revoke an API key by its prefix."""
    engine = make_engine(Settings(), pool_size=1)
    with transaction(engine) as conn:
        done = revoke_api_key(conn, prefix)
    engine.dispose()
    say("已吊销 / revoked." if done else "没有该前缀的有效密钥 / no active key with that prefix.")


register_office_commands(app)
register_ops_commands(app)
