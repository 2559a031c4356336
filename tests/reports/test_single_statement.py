"""The rows of a PostgreSQL filing as JSON (app.reports.single_statement)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Table

from app.audit.models import AuditEvent
from app.reports.idempotency import lock_id
from app.reports.models import Report
from app.reports.single_statement import (
    _AUDIT,
    _DELIVERIES,
    _EVENTS,
    _IDEMPOTENCY,
    _INVESTIGATIONS,
    _REPORTS,
    row_json,
)


def test_python_side_defaults_are_applied_and_serial_keys_left_out() -> None:
    document = json.loads(
        row_json(
            AuditEvent.__table__,  # type: ignore[arg-type]
            [
                {
                    "occurred_at": datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC),
                    "action": "report.filed",
                    "object_type": "report",
                    "object_id": "x",
                }
            ],
        )
    )
    assert document == [
        {
            "occurred_at": "2026-11-28T01:02:03+00:00",
            "action": "report.filed",
            "object_type": "report",
            "object_id": "x",
            "changes": {},
        }
    ]


def test_a_value_that_is_not_a_column_is_refused() -> None:
    with pytest.raises(ValueError, match="not columns of reports"):
        row_json(Report.__table__, {"id": uuid.uuid4(), "colour": "red"})  # type: ignore[arg-type]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        row_json(Report.__table__, {"received_at": datetime(2026, 11, 28)})  # type: ignore[arg-type]


def test_lock_ids_are_per_organisation_and_key() -> None:
    org = uuid.uuid4()
    assert lock_id(org, "k") == lock_id(org, "k")
    assert lock_id(org, "k") != lock_id(org, "k2")
    assert lock_id(org, "k") != lock_id(uuid.uuid4(), "k")
    assert -(2**63) <= lock_id(org, "k") < 2**63


@pytest.mark.parametrize(
    "table",
    [_REPORTS, _INVESTIGATIONS, _EVENTS, _DELIVERIES, _AUDIT, _IDEMPOTENCY],
    ids=lambda t: t.name,
)
def test_no_written_column_relies_on_a_server_default(table: Table) -> None:
    # jsonb_populate_record gives NULL for a column the row leaves out, and the statement
    # writes every column: a server-side default would be overridden. A column that needs one
    # must get a Python-side default (applied by row_json) or be set where the rows are built.
    assert [c.name for c in table.columns if c.server_default is not None] == []
