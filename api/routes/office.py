"""Office pages and reports (内业): red-black list, contractor scores, monthly bulletins, dashboard.

JSON by default where the data is tabular, ``f=html`` for the page and ``f=xlsx`` for Excel. The
bulletin is addressed as a file: ``/bulletins/{area}/{yyyy-mm}.{html|xlsx|pdf}``. Pages show
aggregate figures to everyone; case lists only to staff whose areas hold the whole area.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import PrincipalDep
from api.deps import ConnDep, strict_query
from api.routes.docs import ERRORS, WRITE_ERRORS
from gis.bulletin import monthly_bulletin
from gis.bulletin_pdf import bulletin_pdf
from gis.campaigns import list_campaigns
from gis.errors import InvalidParameter, NotAuthenticated
from gis.office_xlsx import bulletin_xlsx, red_black_xlsx, scores_xlsx
from gis.periods import current_month, month_period, parse_period, previous_months
from gis.rankings import red_black
from gis.scores import check_may_see, contractor_unit, month_result, scheme, score_history, submit_score
from gis.xlsx import XLSX_MEDIA_TYPE, percent
from maps.charts import BarSeries, bar_chart_svg
from maps.svgmap import choropleth_svg

router = APIRouter(tags=["office 内业"])
templates = Jinja2Templates(directory=FilePath(__file__).resolve().parent.parent / "templates")
templates.env.globals["pct"] = percent
Format = Literal["json", "html", "xlsx"]
PDF = "application/pdf"
SERIES = (BarSeries("reported", "上报 reported", "#4e79a7"), BarSeries("closed", "结案 closed", "#59a14f"))


def media_doc(description: str, *media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """A success response documented with each media type it may have (JSON, HTML, XLSX, PDF …)."""
    schemas = {"application/json": {"type": "object"}, "text/html": {"type": "string"}}
    binary = {"type": "string", "format": "binary"}
    content = {t: {"schema": schemas.get(t, binary)} for t in media_types}
    return {status: {"description": description, "content": content}}


JSON_HTML_XLSX = ("application/json", "text/html", XLSX_MEDIA_TYPE)


def page(request: Request, name: str, title: str, **context: Any) -> HTMLResponse:
    """Render an office template (Chinese first, English beside)."""
    response: HTMLResponse = templates.TemplateResponse(request, f"office/{name}", {"page_title": title, **context})
    return response


def download(content: bytes, media_type: str, filename: str) -> Response:
    """A file response with a Chinese file name that every browser keeps (RFC 6266/5987)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/rankings/red-black",
    responses=media_doc("红黑榜 / the red-black list", *JSON_HTML_XLSX) | ERRORS,
    dependencies=[strict_query("area", "period", "red", "black")],
)
def get_red_black(
    request: Request,
    conn: ConnDep,
    area: Annotated[str, Query(description="乡镇（排各村）或区县（排各乡镇）代码 / township or county code")],
    period: Annotated[str, Query(description="月份 2022-01 或 ISO 周 2022-W03 / month or ISO week")],
    red: Annotated[str | None, Query(description="红榜个数（3）或比例（0.2、20%）/ red list size")] = None,
    black: Annotated[str | None, Query(description="黑榜个数或比例 / black list size")] = None,
    f: Annotated[Format, Query(description="json, html or xlsx")] = "json",
) -> Response:
    """红黑榜 / the red-black list of a township's villages (or a county's townships) for a period."""
    ranking = red_black(conn, area, parse_period(period), red=red, black=black)
    if f == "xlsx":
        return download(red_black_xlsx(ranking), XLSX_MEDIA_TYPE, f"红黑榜-{ranking['area']['name']}-{period}.xlsx")
    if f == "html":
        return page(request, "red_black.html", f"{ranking['area']['name']} 红黑榜", r=ranking)
    return JSONResponse(ranking)


def _month_or_none(month: str | None) -> Any:
    return month_period(month) if month else None


@router.get(
    "/contractors/{contractor}/scores",
    responses=media_doc("月度考核 / monthly scores", *JSON_HTML_XLSX) | WRITE_ERRORS,
    dependencies=[strict_query("month")],
)
def get_scores(
    request: Request,
    conn: ConnDep,
    p: PrincipalDep,
    contractor: Annotated[str, Path(description="单位 id 或代码，如 640221202-erquan / unit id or code")],
    month: Annotated[str | None, Query(description="月份 2022-01；省略为全部历史 / one month, or all")] = None,
    f: Annotated[Format, Query(description="json, html or xlsx")] = "json",
) -> Response:
    """第三方考核 / a contractor's monthly scores (60 % township + 40 % villages) with objective figures."""
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in to see contractor scores.")
    unit = contractor_unit(conn, contractor)
    check_may_see(p, unit)
    show = p.role in ("admin", "inspector", "viewer")
    period = _month_or_none(month)
    history = (
        [month_result(conn, unit.id, period, show_scorers=show)]
        if period
        else score_history(conn, unit.id, show_scorers=show)
    )
    info = {"id": unit.id, "code": unit.code, "name": unit.name, "area_code": unit.area_code}
    if f == "xlsx":
        return download(scores_xlsx(info, history), XLSX_MEDIA_TYPE, f"考核-{unit.name}.xlsx")
    if f == "html":
        weights = scheme(conn, unit.id, current_month().start)
        weights = {"township": weights["township_weight"], "village": weights["village_weight"]}
        villages = max((m["villages_scored"] for m in history), default=0)
        return page(
            request, "scores.html", f"{unit.name} 月度考核", history=history, weights=weights, villages=villages
        )
    return JSONResponse({"contractor": info, "months": history})


@router.post(
    "/contractors/{contractor}/scores",
    status_code=201,
    responses=media_doc("该月考核结果 / the month's result", "application/json", status=201) | WRITE_ERRORS,
)
def post_score(
    conn: ConnDep,
    p: PrincipalDep,
    contractor: Annotated[str, Path(description="单位 id 或代码")],
    body: Annotated[dict[str, Any], Body(examples=[{"month": "2022-01", "items": {"collection": 27}}])],
) -> JSONResponse:
    """提交评分 / submit one scorer's item scores for a month (inspector: township; village official: village)."""
    if p.anonymous:
        raise NotAuthenticated("请先登录。", "Sign in to submit scores.")
    unknown = sorted(set(body) - {"month", "items", "area", "note"})
    if unknown or not isinstance(body.get("items"), dict) or not isinstance(body.get("month"), str):
        raise InvalidParameter(
            "body",
            '请提交 {month: "2022-01", items: {…}, area?, note?}。',
            "Send {month: '2022-01', items: {...}, area?, note?}.",
            unknown=unknown,
        )
    result = submit_score(
        conn, p, contractor, body["month"], body["items"], area=body.get("area"), note=body.get("note")
    )
    return JSONResponse(result, status_code=201)


def _pictures(b: dict[str, Any]) -> dict[str, str]:
    chart = bar_chart_svg(b["series"], SERIES, x_key="month", title="上报与结案 Reported and closed")
    legend = "结案率 Closure rate"
    svg = choropleth_svg(b["map"], title=f"{b['area']['name']} {legend}", legend_title=legend)
    return {"chart_svg": chart, "map_svg": svg}


def _bulletin_page(request: Request, b: dict[str, Any], template: str, title: str, **extra: Any) -> HTMLResponse:
    return page(request, template, title, b=b, **_pictures(b), **extra)


def bulletin_html(b: dict[str, Any]) -> str:
    """The bulletin as one self-contained HTML document (styles and pictures inline), e.g. for the CLI."""
    title = f"{b['area']['name']} {b['period']['label_zh']} 月度通报"
    return templates.env.get_template("office/bulletin.html").render(page_title=title, b=b, **_pictures(b))


@router.get(
    "/bulletins/{area}/{month}.{fmt}",
    responses=media_doc("月度通报 / the bulletin", "text/html", XLSX_MEDIA_TYPE, PDF) | ERRORS,
)
def get_bulletin(
    request: Request,
    conn: ConnDep,
    p: PrincipalDep,
    area: Annotated[str, Path(description="区县或乡镇代码")],
    month: Annotated[str, Path(description="月份 yyyy-mm")],
    fmt: Annotated[str, Path(description="html, xlsx or pdf")],
) -> Response:
    """月度通报 / the monthly bulletin of a county or township as HTML, XLSX or PDF."""
    if fmt not in ("html", "xlsx", "pdf"):
        raise InvalidParameter(
            "fmt", "格式须为 html、xlsx 或 pdf。", "The format must be html, xlsx or pdf.", value=fmt
        )
    b = monthly_bulletin(conn, area, month_period(month), p)
    name = f"{b['area']['name']}-{month}-月度通报"
    if fmt == "xlsx":
        return download(bulletin_xlsx(b), XLSX_MEDIA_TYPE, f"{name}.xlsx")
    if fmt == "pdf":
        return download(bulletin_pdf(b), PDF, f"{name}.pdf")
    return _bulletin_page(request, b, "bulletin.html", f"{b['area']['name']} {b['period']['label_zh']} 月度通报")


@router.get("/dashboard", response_class=HTMLResponse, responses=ERRORS, dependencies=[strict_query("area")])
def dashboard(
    request: Request,
    conn: ConnDep,
    p: PrincipalDep,
    area: Annotated[str, Query(description="区县或乡镇代码 / county or township code")],
) -> HTMLResponse:
    """领导驾驶舱 / the leaders' dashboard: this month's figures, charts, map, lists and downloads."""
    month = current_month()
    b = monthly_bulletin(conn, area, month, p)
    last = previous_months(month, 2)[0].label
    campaigns = list_campaigns(conn, area)[:5]
    has_overview = any(getattr(r, "path", "") == "/maps/overview" for r in request.app.routes)
    overview = f"/maps/overview?area={area}" if has_overview else None
    return _bulletin_page(
        request,
        b,
        "dashboard.html",
        f"{b['area']['name']} 人居环境整治驾驶舱",
        last_month=last,
        campaigns=campaigns,
        overview_url=overview,
    )
