"""The worker as it runs in production: real processes, killed and stopped; the embedded
worker; two workers sharing one queue."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from app.notifications.worker import RECIPIENT_CONCURRENCY, start_embedded_worker
from tests.helpers import Configure, Org, OrgFactory, post_report
from tests.notifications.conftest import (
    PROJECT_ROOT,
    Receiver,
    Recipients,
    attempts,
    deliveries,
    start_worker_process,
    wait_until,
)


@pytest.fixture
def hooked(orgs: OrgFactory, receiver: Receiver) -> Recipients:
    """Police of 643 and the inspectorate, on webhooks only."""
    return Recipients(
        police=orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police")),
        inspectorate=orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate")),
    )


def all_delivered(expected: int) -> bool:
    found = deliveries()
    return len(found) == expected and all(d.status == "delivered" for d in found)


def test_worker_killed_mid_batch_loses_nothing(
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
    receiver: Receiver,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    for _ in range(5):
        post_report(client, enterprise)
    receiver.answering.clear()  # the receiver takes the requests but does not answer yet
    first = start_worker_process(lease_seconds="2", worker_poll_seconds="0.1")
    processes.append(first)
    wait_until(lambda: len(receiver.hooks) == 10, what="the worker to send its batch")

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    claimed = deliveries()
    assert all(d.status == "pending" and d.lease_owner is not None for d in claimed)
    receiver.answering.set()
    second = start_worker_process(worker_poll_seconds="0.1")
    processes.append(second)
    wait_until(lambda: all_delivered(10), what="the claimed deliveries to be sent again")
    assert {h.headers["webhook-id"] for h in receiver.hooks} == {str(d.id) for d in claimed}
    for delivery in deliveries():
        [attempt] = attempts(delivery.id)  # the killed worker's sends were never recorded
        assert attempt.worker != claimed[0].lease_owner


def test_sigterm_finishes_the_sends_in_flight_and_exits(
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
    receiver: Receiver,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    post_report(client, enterprise)
    receiver.answering.clear()
    worker = start_worker_process(webhook_timeout_seconds="1", worker_poll_seconds="0.1")
    processes.append(worker)
    wait_until(lambda: len(receiver.hooks) == 2, what="the worker to start sending")

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=30) == 0
    for delivery in deliveries():
        # The sends in flight ran out their timeout and were recorded; nothing stays leased.
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.lease_owner is None


def test_embedded_worker_delivers_and_stops(
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
    receiver: Receiver,
    configure: Configure,
) -> None:
    configure(worker_poll_seconds="0.05")
    stop = start_embedded_worker()
    try:
        post_report(client, enterprise)
        wait_until(lambda: all_delivered(2), what="delivery by the embedded worker")
    finally:
        stop()
    assert len(receiver.hooks) == 2


@pytest.mark.postgres_only
def test_notify_wakes_the_worker_before_the_next_poll(
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
    receiver: Receiver,
    configure: Configure,
) -> None:
    configure(worker_poll_seconds="600")
    stop = start_embedded_worker()
    try:
        post_report(client, enterprise)
        # Far sooner than the 10-minute poll: only the NOTIFY on commit can have woken it.
        wait_until(lambda: all_delivered(2), timeout=30, what="the NOTIFY wake-up")
    finally:
        stop()


@pytest.mark.postgres_only
def test_two_workers_deliver_each_delivery_exactly_once(
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
    receiver: Receiver,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    for _ in range(100):
        assert post_report(client, enterprise).status_code == 201
    receiver.answering.clear()  # hold the first batches until both workers have claimed some
    for _ in range(2):
        processes.append(start_worker_process(worker_poll_seconds="0.1"))
    # One worker holds at most RECIPIENT_CONCURRENCY sends per recipient (two recipients here):
    # twice that many held means both workers claimed a full share.
    held = 2 * 2 * RECIPIENT_CONCURRENCY
    wait_until(lambda: len(receiver.hooks) == held, what="both workers to claim a full batch")

    receiver.answering.set()
    wait_until(lambda: all_delivered(200), timeout=120, what="200 deliveries")

    received = Counter(h.headers["webhook-id"] for h in receiver.hooks)
    assert len(received) == 200
    assert set(received.values()) == {1}
    retried = [attempts(d.id)[0].error for d in deliveries() if d.attempts != 1]
    assert retried == []
    workers = Counter(attempts(d.id)[0].worker for d in deliveries())
    assert len(workers) == 2
    for process in processes:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_the_worker_starts_without_the_web_framework() -> None:
    """The delivery worker's process imports no FastAPI or Starlette (app.errors holds the
    problem classes, app.problem_handlers the web side): a start-up that drains a backlog
    sooner, and a worker that cannot depend on the request machinery by accident."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app.cli, app.notifications.worker; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette'}))",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
