"""``tnld serve`` runs the delivery worker as its own supervised child process: started with
it, restarted when it dies (even by SIGKILL), stopped with it; ``TNLD_EMBEDDED_WORKER=false``
turns it off. Real processes against the test database, real webhook receiver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_DATABASE_URL, free_port
from tests.helpers import Org, OrgFactory, post_report, wait_until_serving
from tests.notifications.conftest import (
    PROJECT_ROOT,
    Receiver,
    Recipients,
    deliveries,
    wait_until,
)


def worker_children(pid: int) -> list[int]:
    """The ``tnld worker`` processes ``pid`` started (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except FileNotFoundError:
                continue
            if b"worker" in command:
                found.append(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def serve(tmp_path: Path, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "TNLD_DATABASE_URL": TEST_DATABASE_URL,
        "TNLD_WORKER_POLL_SECONDS": "0.1",
        **{f"TNLD_{k.upper()}": v for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for child in worker_children(process.pid) if process.poll() is None else []:
            os.kill(child, signal.SIGKILL)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    yield from serve(tmp_path, embedded_worker="true")


@pytest.fixture
def hooked(orgs: OrgFactory, receiver: Receiver) -> Recipients:
    return Recipients(
        police=orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police")),
        inspectorate=orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate")),
    )


def delivered(count: int) -> bool:
    found = deliveries()
    return len(found) == count and all(d.status == "delivered" for d in found)


def test_serve_runs_the_worker_in_a_child_process_that_delivers(
    served: subprocess.Popen[bytes],
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
) -> None:
    wait_until(lambda: len(worker_children(served.pid)) == 1, what="the worker process")
    post_report(client, enterprise)
    wait_until(lambda: delivered(2), what="delivery by the worker process")
    # Below the API's CPU priority (TNLD_WORKER_NICE, default 19; it has delivered, so it
    # has set it): a request waiting for a CPU goes first.
    [worker] = worker_children(served.pid)
    serve_priority = os.getpriority(os.PRIO_PROCESS, served.pid)
    assert os.getpriority(os.PRIO_PROCESS, worker) == min(19, serve_priority + 19)


def test_a_killed_worker_is_restarted(
    served: subprocess.Popen[bytes],
    client: TestClient,
    enterprise: Org,
    hooked: Recipients,
) -> None:
    wait_until(lambda: len(worker_children(served.pid)) == 1, what="the worker process")
    [first] = worker_children(served.pid)

    os.kill(first, signal.SIGKILL)

    wait_until(
        lambda: [p for p in worker_children(served.pid) if p != first] != [],
        what="a new worker process",
    )
    assert len(worker_children(served.pid)) == 1
    post_report(client, enterprise)
    wait_until(lambda: delivered(2), what="delivery by the restarted worker")


def test_the_worker_stops_with_serve(served: subprocess.Popen[bytes]) -> None:
    wait_until(lambda: len(worker_children(served.pid)) == 1, what="the worker process")
    [worker] = worker_children(served.pid)

    served.send_signal(signal.SIGTERM)

    # Stopped in order: as uvicorn ends on SIGTERM, by the signal itself.
    assert served.wait(timeout=60) == -signal.SIGTERM
    wait_until(lambda: not alive(worker), what="the worker to stop")


def test_a_killed_serve_takes_its_worker_along(served: subprocess.Popen[bytes]) -> None:
    wait_until(lambda: len(worker_children(served.pid)) == 1, what="the worker process")
    [worker] = worker_children(served.pid)

    served.send_signal(signal.SIGKILL)
    served.wait(timeout=30)

    wait_until(lambda: not alive(worker), what="the orphaned worker to stop")


def test_no_worker_process_when_turned_off(tmp_path: Path) -> None:
    for process in serve(tmp_path, embedded_worker="false"):
        time.sleep(1.0)  # the time a worker would take to appear
        assert worker_children(process.pid) == []
