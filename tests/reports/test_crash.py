"""After a crash (contract): a real ``tnld serve`` is killed with SIGKILL while filings and
amendments are in flight, started again, and every key is retried with its body: each gets its
stored response or is processed now, never 409, and each key made exactly one report or one
version."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.db import session_factory
from app.reports.models import Report, ReportVersion
from tests.conftest import TEST_DATABASE_URL, free_port
from tests.helpers import Org, report_body, wait_until_serving

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FILINGS = 24
AMENDMENTS = 12


@contextmanager
def served() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TNLD_DATABASE_URL": TEST_DATABASE_URL},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, base)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _requests(report_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, path, body): filings, and amendments of one report (each changes its summary)."""
    filings = [
        (f"file-{i}", "/api/v1/reports", report_body(summary=f"Sập giàn giáo, lần {i}."))
        for i in range(FILINGS)
    ]
    amendments = [
        (
            f"amend-{i}",
            f"/api/v1/reports/{report_id}/amendments",
            {"summary": f"Sập giàn giáo tầng 4, bổ sung lần {i}."},
        )
        for i in range(AMENDMENTS)
    ]
    # Interleaved, so that both kinds are in flight when the server dies.
    mixed = []
    for i in range(FILINGS):
        mixed.append(filings[i])
        if i < AMENDMENTS:
            mixed.append(amendments[i])
    return mixed


def test_after_sigkill_every_key_is_answered_without_409(enterprise: Org) -> None:
    with served() as (process, base):
        first = httpx.post(
            f"{base}/api/v1/reports",
            json=report_body(),
            headers={**enterprise.headers, "Idempotency-Key": "first"},
            timeout=60,
        )
        assert first.status_code == 201, first.text
        report_id = first.json()["id"]
        requests = _requests(report_id)
        answered: list[int] = []
        lock = threading.Lock()

        def send(part: list[tuple[str, str, dict[str, Any]]]) -> None:
            with httpx.Client(base_url=base, timeout=60) as client:
                for key, path, body in part:
                    try:
                        response = client.post(
                            path, json=body, headers={**enterprise.headers, "Idempotency-Key": key}
                        )
                    except httpx.TransportError:
                        return  # the server died
                    with lock:
                        answered.append(response.status_code)

        senders = [threading.Thread(target=send, args=(requests[i::6],)) for i in range(6)]
        for sender in senders:
            sender.start()
        # Killed while requests are in flight: some answered, most not yet.
        deadline = time.monotonic() + 60
        while len(answered) < 6 and time.monotonic() < deadline:
            time.sleep(0.005)
        process.kill()
        for sender in senders:
            sender.join()
    assert 0 < len(answered) < len(requests), "the kill did not happen with requests in flight"

    with served() as (_, base), httpx.Client(base_url=base, timeout=60) as client:
        for key, path, body in requests:
            response = client.post(
                path, json=body, headers={**enterprise.headers, "Idempotency-Key": key}
            )
            assert response.status_code == 201, (key, response.status_code, response.text)

    with session_factory()() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1 + FILINGS
        versions = session.scalar(
            select(func.count()).where(ReportVersion.report_id == uuid.UUID(report_id))
        )
        assert versions == 1 + AMENDMENTS
