"""GET /readyz: the database, the worker's heartbeat and the outbox's oldest delivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app import clock
from app.notifications.worker import Worker
from tests.helpers import Org, file_report


def test_ready_body_without_worker_or_backlog(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "worker_heartbeat_age_seconds": None,
        "oldest_pending_delivery_seconds": 0.0,
    }


def test_a_stuck_worker_shows_in_both_ages(
    client: TestClient, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    Worker().heartbeat()
    file_report(client, enterprise)
    clock.freeze(clock.now() + timedelta(minutes=10))
    body = client.get("/readyz").json()
    assert body["worker_heartbeat_age_seconds"] == 600
    assert body["oldest_pending_delivery_seconds"] == 600


def test_a_worker_that_beats_and_sends_shows_fresh(
    client: TestClient, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    clock.freeze(clock.now() + timedelta(minutes=1))
    worker = Worker()
    while worker.process_due():
        pass
    worker.heartbeat()
    body = client.get("/readyz").json()
    assert body["worker_heartbeat_age_seconds"] == 0
    assert body["oldest_pending_delivery_seconds"] == 0
