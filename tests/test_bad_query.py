"""Bad input is 422, never 500, in query parameters too: NUL and other control characters,
bytes that are not UTF-8, forged cursors (Security and privacy)."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem
from tests.helpers import Org

PATHS = [
    "/api/v1/reports?district_code={}",
    "/api/v1/reports?category={}",
    "/api/v1/audit-events?object_type={}",
    "/api/v1/audit-events?action={}",
    "/api/v1/investigations?district_code={}",
    "/api/v1/organisations?cursor={}",
    "/api/v1/reports?cursor={}",
]
VALUES = ["%00", "a%00b", "%01", "%7F", "%C2%85", "%FF", "%0A"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("value", VALUES)
def test_control_characters_in_a_query_parameter_are_422(
    client: TestClient, admin: Org, inspectorate: Org, path: str, value: str
) -> None:
    reader = admin if "organisations" in path else inspectorate
    response = client.get(path.format(value), headers=reader.headers)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["parameter"]


def _cursor(values: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


FORGED = [
    "not-a-cursor",
    "%2F%2F%2F",
    _cursor([]),
    _cursor(["2026-11-20T08:30:00+07:00"]),
    _cursor(["2026-11-20T08:30:00", "00000000-0000-0000-0000-000000000000"]),
    _cursor(["9999-12-31T23:59:59-23:59", "00000000-0000-0000-0000-000000000000"]),
    _cursor(["2026-11-20T08:30:00+07:00", "x\u0000y"]),
    _cursor([2**70, 1]),
    _cursor([{"a": 1}, [1]]),
    _cursor(["2026-11-20T08:30:00+07:00", "00000000-0000-0000-0000-000000000000", 1]),
]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize(
    "path", ["/api/v1/reports", "/api/v1/audit-events", "/api/v1/investigations"]
)
def test_forged_cursors_are_422(
    client: TestClient, inspectorate: Org, cursor: str, path: str
) -> None:
    response = client.get(f"{path}?cursor={cursor}", headers=inspectorate.headers)
    assert_problem(response, 422)
