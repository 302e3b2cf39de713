"""The authorization matrix (权限矩阵): every role × every operation × own/other area.

``MATRIX`` has one entry per operation of the app's ``/openapi.json``: which roles may call it
(``None``: everyone, the public included) and how a refusal looks. ``reliability.authz_probes`` sends
each once for an object inside the caller's scope ("own") and once for one outside it ("other"),
or once ("any") when the operation names no case, grid or area. ``expected`` says what each
(operation, role, own/other) must get:

- a public operation, or an allowed role on its own object: it *passes authorization*, i.e. any
  status but 401/403/404 and no 5xx (a 400/409/422 from validation or state is fine: the minimal
  bodies are not always valid, and the check is who may, not what);
- an allowed role on another area's object: 404 (hidden) or 403;
- the anonymous public on a signed-in operation: 401;
- a role that may never call it: 403 (404 too on an object outside its areas: hiding it is fine).

Refusals must come before validation: a refused caller gets 401/403/404 even with a body that
would fail validation (the bodies of ``authz_probes.REQUESTS`` are minimal), so a 422 or 409 to a refused role is a
violation — it would tell an outsider what the object's state or the body's rules are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from data.demo import DEMO_ACCOUNTS

ANON: Final = "anonymous"
ROLES: Final[tuple[str, ...]] = (*(account[0] for account in DEMO_ACCOUNTS), ANON)
AREAS: Final[dict[str, list[str]]] = {account[0]: account[3] for account in DEMO_ACCOUNTS}

GM, INSP, VILLAGE, WATER, ROADS, CONTRACTOR, VIEWER, ADMIN = ROLES[:8]
STAFF: Final = frozenset(ROLES[:8])
EXPORTERS: Final = STAFF - {CONTRACTOR}
#: Report a garbage point (water staff report only 黑臭水体: 403, tests/test_access.py).
REPORTERS: Final = frozenset({GM, VILLAGE, INSP, ADMIN})


@dataclass(frozen=True)
class Rule:
    """Who may call one operation (``roles``; ``None`` = public) and what a refusal looks like."""

    roles: frozenset[str] | None
    scoped: bool = False  # an allowed role is refused (404/403) on another area's object
    missing_ok: bool = False  # the sample has no such object (photos): 404 is fine for allowed roles
    anonymous: int = 401  # what the public gets when it is not allowed
    hidden_from_refused: bool = False  # the object lies outside refused roles' areas: 404 is fine too


PUBLIC: Final = Rule(None)


def signed_in() -> Rule:
    """Any signed-in account; the public gets 401."""
    return Rule(STAFF)


def only(*roles: str, scoped: bool = False) -> Rule:
    """Only ``roles``; other roles 403, the public 401."""
    return Rule(frozenset(roles), scoped)


#: Operation (``METHOD /path`` as in /openapi.json) → rule. A new route without an entry fails the test.
MATRIX: Final[dict[str, Rule]] = {
    "GET /": PUBLIC,
    "GET /healthz": PUBLIC,
    "POST /auth/token": PUBLIC,
    "GET /auth/me": signed_in(),
    "POST /auth/password": signed_in(),
    "POST /users": only(ADMIN),
    "POST /users/{username}/password": only(ADMIN),
    "POST /grids/{grid_code}/manager": only(ADMIN),
    "GET /grids/{grid_code}/managers": signed_in(),
    "GET /areas/{code}": PUBLIC,
    "GET /cases": PUBLIC,
    "POST /cases": Rule(REPORTERS | {ANON}),
    "GET /cases/{case_id}": PUBLIC,
    "POST /photos": Rule(STAFF | {ANON}),
    "GET /cases/{case_id}/photos": PUBLIC,
    "POST /cases/{case_id}/photos": only(GM, INSP, VILLAGE, WATER, CONTRACTOR, ADMIN, scoped=True),
    "GET /cases/{case_id}/photos/{photo_id}": Rule(None, missing_ok=True),
    "GET /cases/{case_id}/photos/{photo_id}/thumb": Rule(None, missing_ok=True),
    "GET /campaigns": PUBLIC,
    "GET /campaigns/{campaign_id}": PUBLIC,
    "GET /campaigns/{campaign_id}/attainment": PUBLIC,
    "GET /categories": PUBLIC,
    "GET /categories/{code}": PUBLIC,
    "GET /categories/{code}/nearby": PUBLIC,
    "GET /exports/ledger.xlsx": Rule(EXPORTERS),
    "GET /exports/cases.{fmt}": Rule(EXPORTERS),
    "POST /imports": only(INSP, ADMIN),
    "GET /grids/{grid_code}/patrol-map": PUBLIC,
    "GET /grids/{grid_code}/patrol-list": PUBLIC,
    "GET /maps/projects": PUBLIC,
    "GET /maps/closures": Rule(EXPORTERS),
    "GET /maps/overview": PUBLIC,
    "GET /m/": PUBLIC,
    "GET /m/report": PUBLIC,
    "GET /m/worklist": PUBLIC,
    "GET /m/cases/{case_id}": PUBLIC,
    "GET /m/patrol/{grid_code}": PUBLIC,
    "GET /m/api/challenge": PUBLIC,
    "POST /m/api/reports": Rule(REPORTERS | {ANON}),
    "GET /m/api/cases/{case_id}/actions": PUBLIC,
    "GET /m/api/features": PUBLIC,
    "GET /rankings/red-black": PUBLIC,
    "GET /contractors/{contractor}/scores": only(INSP, ADMIN, VIEWER, VILLAGE, CONTRACTOR),
    "POST /contractors/{contractor}/scores": only(INSP, ADMIN, VILLAGE),
    "GET /bulletins/{area}/{month}.{fmt}": PUBLIC,
    "GET /dashboard": PUBLIC,
    "GET /conformance": PUBLIC,
    "GET /collections": PUBLIC,
    "GET /collections/{collectionId}": PUBLIC,
    "GET /collections/{collectionId}/queryables": PUBLIC,
    "GET /collections/{collectionId}/items": PUBLIC,
    "GET /collections/{collectionId}/items/{featureId}": PUBLIC,
    "GET /open311/v2/discovery.{fmt}": PUBLIC,
    "GET /open311/v2/services.{fmt}": PUBLIC,
    "GET /open311/v2/services/{service_code}.{fmt}": PUBLIC,
    "GET /open311/v2/requests.{fmt}": PUBLIC,
    "POST /open311/v2/requests.{fmt}": Rule(frozenset(), anonymous=403),  # api_key, not a role
    "GET /open311/v2/requests/{service_request_id}.{fmt}": PUBLIC,
    "GET /grids/{grid_code}/patrol-route": PUBLIC,
    "GET /patrols": Rule(EXPORTERS),
    "POST /patrols": only(GM, ADMIN, scoped=True),
    "GET /patrols/unpatrolled": Rule(EXPORTERS),
    "POST /projects/{project_id}/progress": Rule(frozenset({ROADS, ADMIN}), hidden_from_refused=True),
    "POST /facilities/{facility_id}/status": Rule(frozenset({WATER, ADMIN}), hidden_from_refused=True),
    "GET /tiles": PUBLIC,
    "GET /tiles/WebMercatorQuad": PUBLIC,
    "GET /tiles/WebMercatorQuad/{z}/{x}/{y}": PUBLIC,
    "GET /collections/{collectionId}/tiles": PUBLIC,
    "GET /collections/{collectionId}/tiles/WebMercatorQuad": PUBLIC,
    "GET /collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}": PUBLIC,
    "GET /maps/tiles": PUBLIC,
    "GET /projects": PUBLIC,
    "GET /projects/{project_id}": PUBLIC,
    "GET /facilities": PUBLIC,
    "GET /facilities/{facility_id}": PUBLIC,
    "GET /cases/{case_id}/events": PUBLIC,
    "POST /cases/{case_id}/erase-reporter": only(INSP, ADMIN, scoped=True),
    "POST /cases/{case_id}/{action}": only(INSP, ADMIN, scoped=True),
}


@dataclass(frozen=True)
class Probe:
    """One request of the matrix: who, on which object (own/other/any), and what it must get."""

    label: str
    role: str
    where: str
    method: str
    url: str
    body: str
    values: Mapping[str, Any]


def expected(probe: Probe) -> frozenset[int] | None:
    """The statuses ``probe`` may get; ``None``: it must pass authorization (see the module text)."""
    rule = MATRIX[probe.label]
    if rule.roles is None:
        return None
    if probe.role == ANON and ANON not in rule.roles:
        return frozenset({rule.anonymous})
    if probe.role not in rule.roles:
        hidden = probe.where == "other" or rule.hidden_from_refused
        return frozenset({403, 404}) if hidden else frozenset({403})
    if probe.where == "other" and rule.scoped:
        return frozenset({403, 404})
    return None


def violation(probe: Probe, status: int) -> str | None:
    """Why ``status`` is wrong for ``probe``, or ``None`` when it is what the matrix says."""
    allowed = expected(probe)
    if status >= 500:
        problem = "server error"
    elif allowed is None:
        refused = {401, 403} | ({404} if not MATRIX[probe.label].missing_ok else set())
        problem = "refused an allowed caller" if status in refused else ""
    else:
        problem = "" if status in allowed else f"expected {sorted(allowed)}"
    return (
        f"{probe.label} as {probe.role} ({probe.where}): {probe.method} {probe.url} → {status}, {problem}"
        if problem
        else None
    )


#: Roles that may see reporters' names and phones (in scope): ``gis.access.SEES_REPORTER``.
SEES_REPORTER: Final = frozenset({GM, INSP, VILLAGE, ADMIN})
#: Reads whose answers are searched for reporters' names and phones: every GET of the matrix
#: (cases, OGC items, Open311 requests, exports, mobile APIs, tiles, maps, bulletins …).
PRIVATE_READS: Final = frozenset(label for label in MATRIX if label.startswith("GET "))
