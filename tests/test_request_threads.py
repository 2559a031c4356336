"""Few request threads (TNLD_REQUEST_THREADS) must never deadlock: a request that waits for a
thread must not hold a lock that requests occupying the threads wait for (SQLite's write lock,
PostgreSQL row locks). The timeouts below detect a hang; they do not measure speed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from tests.helpers import Org, file_report, report_body

API = "/api/v1"


@pytest.fixture
def one_request_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TNLD_REQUEST_THREADS", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("TNLD_REQUEST_THREADS")
    get_settings.cache_clear()


def test_reads_writes_and_refusals_interleave_on_one_request_thread(
    one_request_thread: None,
    live_server: str,
    client: TestClient,
    enterprise: Org,
    inspectorate: Org,
) -> None:
    report = file_report(client, enterprise)
    investigation = f"{API}/investigations/{report['investigation_id']}"
    failures: list[str] = []
    lock = threading.Lock()

    def run(calls: list[tuple[str, str, Org, dict[str, Any] | None, set[int]]]) -> None:
        with httpx.Client(base_url=live_server, timeout=20) as http:
            for method, url, org, body, expected in calls:
                headers = dict(org.headers)
                if method == "POST":
                    headers["Idempotency-Key"] = uuid.uuid4().hex
                try:
                    response = http.request(method, url, json=body, headers=headers)
                except httpx.TimeoutException:
                    with lock:
                        failures.append(f"{method} {url}: no answer (hang)")
                    continue
                if response.status_code not in expected:
                    with lock:
                        failures.append(f"{method} {url}: {response.status_code} {response.text}")

    reader = [
        ("GET", f"{API}/reports", enterprise, None, {200}),
        ("GET", f"{API}/reports/{report['id']}", enterprise, None, {200}),
        ("GET", investigation, inspectorate, None, {200}),
    ]
    writer = [("POST", f"{API}/reports", enterprise, report_body(), {201})]
    # Locks the investigation's row, then is refused (open cannot jump to closed): the request
    # ends with its transaction, and the row lock, still open.
    refused = [("PATCH", investigation, inspectorate, {"status": "closed"}, {409})]
    mixes = [reader * 4, writer * 4, refused * 4, reader * 2 + writer * 2, refused * 2 + reader]
    threads = [threading.Thread(target=run, args=(mixes[i % len(mixes)],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
