"""Schemathesis over the whole API, in-process: every operation that is mounted (the list grows
with the features), called with generated valid and invalid data under the keys of several
roles. No 500, no undocumented status, no response that contradicts its schema."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from app.main import create_app
from tests.helpers import Org, OrgFactory

# Imported for their names: checks.py exposes the built-in checks lazily.
from schemathesis.checks import not_a_server_error  # isort: skip
from schemathesis.specs.openapi.checks import (  # isort: skip
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Not negative_data_rejection: unknown query parameters are ignored, as HTTP APIs commonly do
# (the contract rejects unknown *body* fields), and the Authorization header is always ours.


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def callers(orgs: OrgFactory) -> list[Org]:
    """Keys of the roles that between them may use every endpoint: the generated calls reach
    the handlers (not only the 401/403 in front of them)."""
    return [
        orgs.admin,
        orgs.create("enterprise", tax_code="6000123456"),
        orgs.create("inspectorate", notify_emails=["tt@tnld.test"]),
    ]


# Loaded at import (the settings are in place: conftest ran first); the lazy loader
# (schemathesis.pytest.from_fixture) does not work with pytest 9.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, callers: list[Org]) -> None:
    for caller in callers:
        case.call_and_validate(headers=caller.headers, checks=CHECKS)


def test_every_operation_documents_its_problem_statuses(app: FastAPI) -> None:
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            if path.startswith("/api/v1/") and path != "/api/v1/divisions":
                assert {"401", "422"} <= statuses, (method, path, statuses)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "503":
                    assert "application/problem+json" in response.get("content", {}), (
                        method,
                        path,
                        status,
                    )


def test_every_operation_has_a_clean_unique_operation_id_and_a_tag(app: FastAPI) -> None:
    """Generated clients name their functions after operationIds (``file_report``, not
    ``file_report_api_v1_reports_post``) and group them by tag."""
    operations = [op for ops in app.openapi()["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids
    assert all(len(op["tags"]) == 1 for op in operations)
    assert {"file_report", "amend_report", "list_investigations", "get_statistics"} <= set(ids)
