"""One way to write a filing per database (SQLite: steps under the write lock; PostgreSQL: one
statement), and either way every row is written once, with its final reference: nothing is
numbered afterwards by rewriting rows."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.db import get_engine, session_factory
from app.investigations.models import Investigation
from app.notifications.models import NotificationEvent
from app.reports import numbering, single_statement
from app.reports.models import IdempotencyRecord, Report
from tests.helpers import Org, report_body

FILING_TABLES = ("reports", "investigations", "notification_events", "deliveries", "audit_events")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement the service sends through SQLAlchemy while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_every_row_of_a_filing_carries_its_final_reference(
    client: TestClient, enterprise: Org, statements: list[str]
) -> None:
    response = client.post(
        "/api/v1/reports",
        json=report_body(),
        headers={**enterprise.headers, "Idempotency-Key": "f-1"},
    )
    assert response.status_code == 201
    reference = response.json()["reference"]
    assert re.fullmatch(r"TNLD-\d{4}-\d{6}", reference)

    report_id = uuid.UUID(response.json()["id"])
    with session_factory()() as session:
        assert session.get_one(Report, report_id).reference == reference
        [investigation] = session.scalars(
            select(Investigation).where(Investigation.report_id == report_id)
        )
        assert investigation.reference == reference
        [notification] = session.scalars(
            select(NotificationEvent).where(NotificationEvent.report_id == report_id)
        )
        assert notification.payload["reference"] == reference
        record = session.get_one(IdempotencyRecord, (uuid.UUID(enterprise.id), "f-1"))
        assert record.response_body is not None
        assert json.loads(record.response_body)["reference"] == reference
        assert numbering.STAND_IN not in record.response_body

    # Written once: no statement goes back to a filing's rows to put the number in.
    rewrites = [
        s for s in statements if s.upper().startswith("UPDATE") and s.split()[1] in FILING_TABLES
    ]
    assert rewrites == []


def test_postgresql_files_in_its_one_statement_that_only_inserts_rows() -> None:
    sql = str(single_statement.FILE_REPORT)
    # The only updates: the year's sequence taking the next number, and the audit chain's head
    # (locked, then moved to the filing's last event: app.audit.chain).
    assert re.findall(r"\b(?:DO |FOR )?UPDATE\b(?: \w+)?", sql) == [
        "DO UPDATE SET",
        "FOR UPDATE",
        "UPDATE audit_chain",
    ]
    assert "ON CONFLICT (year) DO UPDATE SET last_value" in sql
    for table in (*FILING_TABLES, "idempotency_records"):
        assert f"INSERT INTO {table} " in sql


@pytest.mark.postgres_only
def test_postgresql_sends_no_filing_statement_but_the_one(
    client: TestClient, enterprise: Org, statements: list[str]
) -> None:
    response = client.post(
        "/api/v1/reports",
        json=report_body(),
        headers={**enterprise.headers, "Idempotency-Key": "f-2"},
    )
    assert response.status_code == 201
    # The filing's one statement goes to the driver directly; through SQLAlchemy, nothing else
    # touches a filing's tables (authentication and routing only read them, or none).
    tables = (*FILING_TABLES, "idempotency_records", "report_sequences")
    touching = [s for s in statements if any(f" {table} " in f" {s} " for table in tables)]
    assert [s for s in touching if not s.upper().startswith("SELECT")] == []
