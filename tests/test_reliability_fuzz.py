"""Schemathesis against ``/openapi.json`` (接口模糊测试), as every role and anonymously.

Every operation the app describes gets bounded, derandomized examples (valid ones, and invalid ones
where the operation takes input); each example is sent as every demo account and as the public.
No 5xx, and every status code and media type that comes back is documented. Requests run in a
transaction that is rolled back (``reliability.fuzz.rolled_back_app``), on the scratch database.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as run_settings
from schemathesis import GenerationMode

from data.load import LoadReport
from gis.settings import Settings
from reliability.fuzz import (
    CHECKS,
    MAX_EXAMPLES,
    NEGATIVE_EXEMPT,
    Headers,
    load_schema,
    operation_labels,
    rolled_back_app,
    sign_in_all,
)

LABELS = operation_labels()


@pytest.fixture(scope="module")
def fuzzed(settings: Settings, sample: LoadReport) -> tuple[Any, dict[str | None, Headers]]:
    """The schema on the rolled-back app, and bearer headers for every role."""
    del sample
    app = rolled_back_app(settings)
    return load_schema(app), sign_in_all(app, settings.demo_password)


def _operation(schema: Any, label: str) -> Any:
    method, path = label.split(" ", 1)
    return schema[path][method]


def _modes(operation: Any, label: str) -> list[GenerationMode]:
    takes_input = bool(operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"))
    negative = takes_input and label not in NEGATIVE_EXEMPT
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negative else [GenerationMode.POSITIVE]


@pytest.mark.parametrize("label", LABELS)
def test_operation_conforms(fuzzed: tuple[Any, dict[str | None, Headers]], label: str) -> None:
    schema, roles = fuzzed
    operation = _operation(schema, label)
    for mode in _modes(operation, label):

        @given(case=operation.as_strategy(generation_mode=mode))
        @run_settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        def every_role(case: Any) -> None:
            for headers in roles.values():
                case.call_and_validate(headers=headers, checks=CHECKS)

        every_role()


def test_every_operation_is_fuzzed() -> None:
    assert len(LABELS) >= 70 and len(set(LABELS)) == len(LABELS)
    assert {"POST /cases", "GET /collections/{collectionId}/items", "POST /imports"} <= set(LABELS)
    assert set(LABELS) >= NEGATIVE_EXEMPT, "an exemption names an operation that no longer exists"
