"""Open311 GeoReport v2: JSON Schemas, the georeport client (XML and JSON), POST into the lifecycle.

The schemas below restate, field for field, the constraints of the open311/schema-validation
GeoReport v2 JSON Schemas (which carry no licence, so they are not copied): service_request_id a
string, status open|closed, lat/long numbers, RFC 3339 date-times (checked with rfc3339-validator).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from georeport import GeoReport  # type: ignore[import-untyped]
from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from gis.apikeys import create_api_key
from tests.lifecycle import GRID, grid_point, jpeg, login

V2 = "/open311/v2"
NULLABLE_STRING = {"type": ["string", "null"]}
SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": NULLABLE_STRING,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": NULLABLE_STRING,
        "group": NULLABLE_STRING,
    },
}
DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "required": {"type": "boolean"},
                    "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
                    "order": {"type": ["integer", "null"]},
                    "description": NULLABLE_STRING,
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
DATE_TIME = {"type": "string", "format": "date-time"}
REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"enum": ["open", "closed"]},
        "status_notes": NULLABLE_STRING,
        "service_name": NULLABLE_STRING,
        "service_code": {"type": "string"},
        "description": {"type": ["string", "null"], "maxLength": 4000},
        "requested_datetime": DATE_TIME,
        "updated_datetime": {"anyOf": [DATE_TIME, {"type": "null"}]},
        "expected_datetime": {"anyOf": [DATE_TIME, {"type": "null"}]},
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": {"type": ["string", "null"], "format": "uri"},
    },
}
PERSONAL = ("reporter", "phone", "13800000000", "email", "first_name", "last_name", "张三")


def valid(schema: dict[str, Any], doc: Any) -> None:
    errors = list(Draft4Validator(schema, format_checker=FormatChecker()).iter_errors(doc))
    assert not errors, [e.message for e in errors[:5]]


def test_discovery_services_and_definitions_follow_the_schemas(client: TestClient) -> None:
    discovery = client.get(f"{V2}/discovery.json").json()
    assert {e["type"] for e in discovery["endpoints"]} == {"production", "test"}
    services = client.get(f"{V2}/services.json").json()
    for service in services:
        valid(SERVICE, service)
    garbage = next(s for s in services if s["service_code"] == "garbage_point")
    assert "草堆" in garbage["keywords"] and garbage["group"]
    definition = client.get(f"{V2}/services/garbage_point.json").json()
    valid(DEFINITION, definition)
    codes = {a["code"]: a for a in definition["attributes"]}
    assert [v["key"] for v in codes["subtype"]["values"]] == ["粪堆", "草堆", "柴堆", "土堆", "煤堆", "垃圾堆"]
    assert [v["key"] for v in codes["edge"]["values"]] == ["路边", "地边", "沟边", "村边", "田边", "林边"]
    xml = client.get(f"{V2}/services.xml")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8" and b"xmlns" not in xml.content
    assert xml.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')


def test_requests_validate_and_carry_no_personal_data(client: TestClient, conn: Connection) -> None:
    requests = client.get(f"{V2}/requests.json").json()
    recent = conn.execute(
        text("SELECT count(*) FROM cases WHERE reported_at >= now() - interval '90 days'")
    ).scalar_one()
    assert len(requests) == min(recent, 1000) > 0
    for item in requests:
        valid(REQUEST, item)
        assert item["requested_datetime"].endswith("+08:00")
    body = client.get(f"{V2}/requests.json?status=closed&service_code=dilapidated_house").text
    assert not any(word in body for word in PERSONAL)
    houses = client.get(f"{V2}/requests.json?service_code=dilapidated_house").json()
    assert all(h["description"] is None and h["media_url"] is None for h in houses)
    closed = client.get(f"{V2}/requests.json?status=closed").json()
    assert closed and {r["status"] for r in closed} == {"closed"}
    assert {r["status_notes"].split()[0] for r in closed} <= {"已结案销号", "不予立案"}


def test_georeport_client_reads_xml_and_json(live_url: str) -> None:
    for fmt in ("json", "xml"):
        client = GeoReport(f"{live_url}{V2}", jurisdiction="640221", output_format=fmt)
        services = client.get_service_list()
        assert "garbage_point" in [s["service_code"] for s in services]
        definition = client.get_service_definition("garbage_point")
        attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
        assert "edge" in [a["code"] for a in attributes]
        requests = client.get_service_requests(status="open", service_code="garbage_point")
        assert requests and {r["status"] for r in requests} == {"open"}
        one = client.get_service_request(requests[0]["service_request_id"])
        assert one["service_request_id"] == requests[0]["service_request_id"]


def test_post_creates_a_case_in_the_lifecycle(client: TestClient, conn: Connection) -> None:
    key = create_api_key(conn, "测试 App", "demo-grid-manager")
    lon, lat = grid_point(conn, GRID)
    form = {
        "api_key": key,
        "service_code": "garbage_point",
        "lat": str(lat),
        "long": str(lon),
        "attribute[subtype]": "草堆",
        "attribute[edge]": "路边",
        "description": "路边有草堆",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800000000",
        "email": "z@example.com",
        "media_url": "http://169.254.169.254/latest/meta-data/",
    }
    response = client.post(f"{V2}/requests.json", data=form)
    assert response.status_code == 201, response.text
    case_id = int(response.json()[0]["service_request_id"])
    staff = client.get(f"/cases/{case_id}", headers=login(client, "demo-grid-manager")).json()["properties"]
    assert staff["status"] == "reported" and staff["grid_code"] == GRID and staff["subtype"] == "草堆"
    assert staff["attributes"] == {"edge": "路边"} and staff["reporter"]["phone"] == "13800000000"
    events = client.get(f"/cases/{case_id}/events", headers=login(client, "demo-grid-manager")).json()
    assert events and "open311" in str(events)
    source = conn.execute(text("SELECT source, created_by IS NOT NULL FROM cases WHERE id = :i"), {"i": case_id}).one()
    assert tuple(source) == ("open311", True)
    public = client.get(f"{V2}/requests/{case_id}.json").json()[0]
    valid(REQUEST, public)
    assert public["media_url"] == form["media_url"]  # stored, shown, never fetched by the server
    assert not any(word in str(public) for word in PERSONAL)


def test_post_with_an_anonymous_key_and_a_photo(client: TestClient, conn: Connection) -> None:
    key = create_api_key(conn, "村民 App")
    lon, lat = grid_point(conn, GRID)
    files = {"media": ("p.jpg", jpeg(), "image/jpeg")}
    data = {
        "api_key": key,
        "service_code": "agri_waste",
        "lat": str(lat),
        "long": str(lon),
        "attribute[subtype]": "农膜",
    }
    response = client.post(f"{V2}/requests.xml", data=data, files=files)
    assert response.status_code == 201, response.text
    assert b"<service_request_id>" in response.content
    row = conn.execute(text("SELECT created_by, source FROM cases ORDER BY id DESC LIMIT 1")).one()
    assert row.created_by is None and row.source == "open311"


def test_a_refused_request_stores_no_photo(client: TestClient, conn: Connection, settings: Any) -> None:
    """A request refused after its media were read (outside every grid) leaves no photo file behind."""
    key = create_api_key(conn, "照片测试")
    photo = jpeg(size=(71, 53), seed=311)  # bytes no other test uploads
    files = {"media": ("p.jpg", photo, "image/jpeg")}
    before = sorted(p.name for p in settings.photo_dir.rglob("*") if p.is_file())
    data = {"api_key": key, "service_code": "garbage_point", "lat": "10", "long": "10"}
    response = client.post(f"{V2}/requests.json", data=data, files=files)
    assert response.status_code == 400 and "grid" in response.json()[0]["description"]
    assert sorted(p.name for p in settings.photo_dir.rglob("*") if p.is_file()) == before
    lon, lat = grid_point(conn, GRID)
    accepted = client.post(f"{V2}/requests.json", data=data | {"lat": str(lat), "long": str(lon)}, files=files)
    assert accepted.status_code == 201, accepted.text
    stored = [p for p in settings.photo_dir.rglob("*") if p.is_file() and p.name not in before]
    assert stored and any(p.stat().st_size == len(photo) for p in stored)


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"service_code": "garbage_point", "lat": "38.9", "long": "106.6"}, 400, "api_key"),
        (
            {"api_key": "vm_00000000_nope", "service_code": "garbage_point", "lat": "38.9", "long": "106.6"},
            403,
            "api_key",
        ),
        ({"api_key": "KEY", "service_code": "nope", "lat": "38.9", "long": "106.6"}, 404, "service_code"),
        ({"api_key": "KEY", "service_code": "garbage_point", "lat": "106.6", "long": "38.9"}, 400, "lat"),
        ({"api_key": "KEY", "service_code": "garbage_point", "address_string": "金桥村"}, 400, "lat and long"),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage_point",
                "lat": "38.9",
                "long": "106.6",
                "description": "x" * 4001,
            },
            400,
            "4000",
        ),
        (
            {
                "api_key": "KEY",
                "service_code": "garbage_point",
                "lat": "38.9",
                "long": "106.6",
                "media_url": "file:///etc/passwd",
            },
            400,
            "media_url",
        ),
        ({"api_key": "KEY", "service_code": "garbage_point", "lat": "10", "long": "10"}, 400, "grid"),
    ],
)
def test_post_errors_in_the_spec_shape(
    client: TestClient, conn: Connection, form: dict[str, str], status: int, words: str
) -> None:
    key = create_api_key(conn, "错误测试")
    data = {k: (key if v == "KEY" else v) for k, v in form.items()}
    response = client.post(f"{V2}/requests.json", data=data)
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status and words in error["description"]
    xml = client.post(f"{V2}/requests.xml", data=data)
    assert xml.status_code == status and b"<errors><error><code>" in xml.content


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"{V2}/services/nope.json", 404),
        (f"{V2}/requests/99999999.xml", 404),
        (f"{V2}/requests.json?status=pending", 400),
        (f"{V2}/requests.json?start_date=yesterday", 400),
        (f"{V2}/services.json?jurisdiction_id=110000", 404),
        (f"{V2}/requests.pdf", 400),
        (f"{V2}/requests.json?service_code=nope", 404),
    ],
)
def test_get_errors_in_the_spec_shape(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    if url.endswith(".xml") or ".xml?" in url:
        assert b"<errors>" in response.content
    elif ".json" in url:
        assert response.json()[0]["code"] == status


def test_api_key_cli_shows_the_key_once(settings: Any, sample: Any) -> None:
    del sample
    from typer.testing import CliRunner

    from api.cli import app as cli

    env = {"VILLAGEMAP_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(cli, ["api-key", "create", "--name", "cli-test", "--user", "demo-inspector"], env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("vm_")
    prefix = key.split("_")[1]
    bad = CliRunner().invoke(cli, ["api-key", "create", "--name", "x", "--user", "nobody"], env=env)
    assert bad.exit_code == 1 and "nobody" in bad.output
    revoked = CliRunner().invoke(cli, ["api-key", "revoke", prefix], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
