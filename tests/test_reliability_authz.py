"""The authorization matrix (权限矩阵): every role × every operation × own/other area, 0 violations.

Each operation of the app's ``/openapi.json`` must have an entry in ``reliability.authz.MATRIX``;
each (operation, role, own/other) is sent once, in a transaction that is rolled back, and every
status that differs from the matrix is a violation. The case-returning reads of roles that may not
see reporters must not contain any reporter name or phone of the sample.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, text

from data.load import LoadReport
from gis.settings import Settings
from reliability.authz import ANON, MATRIX, PRIVATE_READS, ROLES, SEES_REPORTER, Probe, violation
from reliability.authz_probes import REQUESTS, find_sample, probes, readable_text, request_kwargs
from reliability.fuzz import operation_labels, rolled_back_app, sign_in_all
from tests.lifecycle import login

LABELS = operation_labels()
REPORTERS_SQL = text("SELECT name, phone FROM case_reporter WHERE name IS NOT NULL AND phone IS NOT NULL")

Answered = list[tuple[Probe, int, str]]


@pytest.fixture(scope="module")
def answered(settings: Settings, engine: Engine, sample: LoadReport) -> Iterator[Answered]:
    """Every probe of the matrix sent once (rolled back), with its status and body text."""
    del sample
    with engine.connect() as conn:
        places = find_sample(conn)
    app = rolled_back_app(settings)
    headers = sign_in_all(app, settings.demo_password)
    out: Answered = []
    with TestClient(app) as client:
        for probe in probes(places):
            who = headers[None if probe.role == ANON else probe.role]
            response = client.request(
                probe.method, probe.url, headers=who, **request_kwargs(probe, settings.demo_password)
            )
            out.append((probe, response.status_code, readable_text(response.content)))
    yield out


def test_every_operation_has_a_matrix_entry() -> None:
    missing = sorted(set(LABELS) - set(MATRIX))
    assert not missing, f"operations without an entry in reliability.authz.MATRIX: {missing}"
    assert set(MATRIX) == set(REQUESTS), "MATRIX and REQUESTS must name the same operations"
    assert not set(MATRIX) - set(LABELS), f"entries for operations that no longer exist: {set(MATRIX) - set(LABELS)}"


def test_every_role_and_operation_is_probed(answered: Answered) -> None:
    seen = {(probe.label, probe.role) for probe, _status, _text in answered}
    assert seen == {(label, role) for label in MATRIX for role in ROLES}
    wheres = {probe.where for probe, _status, _text in answered}
    assert wheres == {"own", "other", "any"}


def test_no_authorization_violations(answered: Answered) -> None:
    found = [f"{v}: {body[:160]}" for probe, status, body in answered if (v := violation(probe, status))]
    assert not found, f"{len(found)} authorization violations:\n" + "\n".join(found)


def _reporter_pattern(engine: Engine) -> re.Pattern[str]:
    with engine.connect() as conn:
        values = {str(v) for row in conn.execute(REPORTERS_SQL) for v in row}
    assert len(values) >= 20, "the sample should have reporters with name and phone"
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def test_reporters_never_reach_roles_that_may_not_see_them(answered: Answered, engine: Engine) -> None:
    pattern = _reporter_pattern(engine)
    leaks: list[str] = []
    shown: list[Any] = []
    for probe, status, body in answered:
        if probe.label not in PRIVATE_READS or status >= 300:
            continue
        hit = pattern.search(body)
        if probe.role in SEES_REPORTER:
            shown.append(hit)
        elif hit:
            leaks.append(f"{probe.label} as {probe.role} ({probe.where}) {probe.url}: {hit.group(0)!r}")
    assert not leaks, "reporter name or phone shown to a role that may not see it:\n" + "\n".join(leaks)
    assert any(shown), "the search must find reporters where they may be shown (else it cannot fail)"


OTHER_REPORTER_SQL = text("SELECT name, phone FROM case_reporter WHERE case_id = :id AND phone IS NOT NULL")


def test_a_case_outside_scope_never_shows_its_reporter(answered: Answered, engine: Engine) -> None:
    """Roles that see reporters see them only in scope: the "other" case's reporter never appears."""
    checked, leaks = 0, []
    with engine.connect() as conn:
        for probe, status, body in answered:
            if probe.where != "other" or probe.label not in PRIVATE_READS or status >= 300:
                continue
            if probe.role not in SEES_REPORTER or "{case}" not in REQUESTS[probe.label][0]:
                continue
            reporter = conn.execute(OTHER_REPORTER_SQL, {"id": probe.values["case"]}).one_or_none()
            if reporter is None:
                continue
            checked += 1
            leaks += [f"{probe.label} as {probe.role}: {v!r}" for v in reporter if v and str(v) in body]
    assert checked >= 10, "the other cases should have reporters (CASE_SQL prefers them)"
    assert not leaks, "reporter of a case outside the caller's scope shown:\n" + "\n".join(leaks)


@pytest.mark.parametrize(
    ("label", "role", "where", "status", "wrong"),
    [
        ("GET /cases", ANON, "any", 200, False),
        ("GET /cases", "demo-viewer", "any", 403, True),  # a public read refused
        ("POST /users", ANON, "any", 401, False),
        ("POST /users", ANON, "any", 403, True),  # the public must be asked to sign in
        ("POST /users", "demo-viewer", "any", 422, True),  # validated before refused
        ("POST /users", "demo-admin", "any", 422, False),  # allowed, body refused: passed authorization
        ("POST /cases/{case_id}/{action}", "demo-inspector", "other", 404, False),
        ("POST /cases/{case_id}/{action}", "demo-inspector", "other", 409, True),  # outside scope, yet acted on
        ("POST /cases/{case_id}/{action}", "demo-grid-manager", "own", 404, True),  # never allowed: 403
        ("GET /healthz", ANON, "any", 500, True),
    ],
)
def test_the_judge(label: str, role: str, where: str, status: int, wrong: bool) -> None:
    probe = Probe(label, role, where, label.split()[0], "/x", "", {})
    assert (violation(probe, status) is not None) == wrong


def test_a_refused_photo_attachment_stores_no_file(client: TestClient, settings: Settings, engine: Engine) -> None:
    """The caller is checked before the upload is stored: a refused attachment leaves no file behind."""
    with engine.connect() as conn:
        case_id = find_sample(conn).places[("demo-viewer", "own")]["case"]
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (17, 99, 201)).save(image, "JPEG")
    before = sorted(settings.photo_dir.rglob("*"))
    viewer = login(client, "demo-viewer")
    for headers, status in (({}, 401), (viewer, 403)):
        upload = {"file": ("refused.jpg", image.getvalue(), "image/jpeg")}
        assert client.post(f"/cases/{case_id}/photos", files=upload, headers=headers).status_code == status
    assert sorted(settings.photo_dir.rglob("*")) == before
