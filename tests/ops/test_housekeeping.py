"""Idempotency records are kept TNLD_IDEMPOTENCY_TTL (at least 24 hours), then purged by the
worker in small batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from app import clock
from app.config import Settings
from app.db import get_engine, session_factory
from app.notifications.worker import Worker
from app.ops.housekeeping import purge_idempotency_records
from app.reports.models import IdempotencyRecord
from tests.helpers import Org, post_report, report_body


def _records() -> int:
    with session_factory()() as session:
        return int(session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0)


def test_a_ttl_under_24_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 24h"):
        Settings(idempotency_ttl="23h")
    assert Settings(idempotency_ttl="24h").idempotency_keep == timedelta(hours=24)
    assert Settings().idempotency_keep == timedelta(days=7)


def test_records_older_than_the_ttl_are_purged_and_newer_kept(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    for _ in range(3):
        assert post_report(client, enterprise).status_code == 201
    clock.freeze(clock.now() + timedelta(days=6))
    assert post_report(client, enterprise).status_code == 201
    assert _records() == 4

    clock.freeze(clock.now() + timedelta(days=1, seconds=1))  # the first three are 7 days old
    assert Worker().purge() == 3
    assert _records() == 1


def test_purge_goes_in_batches(client: TestClient, enterprise: Org, frozen_clock: Any) -> None:
    for _ in range(5):
        assert post_report(client, enterprise).status_code == 201
    clock.freeze(clock.now() + timedelta(days=8))
    with get_engine().connect() as connection:
        purged = purge_idempotency_records(
            connection, now=clock.now(), keep=timedelta(days=7), batch=2
        )
    assert purged == 5
    assert _records() == 0


def test_a_key_is_honoured_until_its_ttl(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    headers = {**enterprise.headers, "Idempotency-Key": "same-key-1"}
    first = client.post("/api/v1/reports", json=report_body(), headers=headers)
    clock.freeze(clock.now() + timedelta(days=6, hours=23))
    Worker().purge()
    again = client.post("/api/v1/reports", json=report_body(), headers=headers)
    assert again.json()["id"] == first.json()["id"]
