"""Notification benchmark: latency from a report's 201 to receipt, and backlog drain rate.

Runs everything on loopback and stops by itself:
- creates a PostgreSQL database (default ``tnld_bench_notify``; dropped at the end),
- starts a webhook receiver (HTTP server in a thread) and an SMTP server (aiosmtpd),
- starts ``tnld serve`` as a subprocess (embedded worker on) and posts N reports, each notified
  to the commune police and the inspectorate on e-mail and webhook (4 deliveries per report);
  prints the latency from the 201 response to the receipt of each webhook and e-mail,
- restarts ``tnld serve`` with ``TNLD_EMBEDDED_WORKER=false``, builds a backlog of 1,000
  deliveries (250 reports), then starts ``tnld worker`` and times the drain.

Usage: ``.venv/bin/python bench/notify.py [--reports 200] [--database-url postgresql://...]``
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_notify"
TARGET_P99_WEBHOOK_S = 1.0
TARGET_DRAIN_S = 30.0
BACKLOG_REPORTS = 250  # x 4 deliveries = 1,000
REFERENCE = re.compile(r"TNLD-\d{4}-\d{6}")
#: No phase may take longer than this: the benchmark always ends.
PHASE_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- Receivers ---------------------------------------------------------------------------------


@dataclass
class Receipts:
    """When each notification arrived: key (channel, recipient, reference) → perf_counter."""

    times: dict[tuple[str, str, str], float] = field(default_factory=dict)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: tuple[str, str, str]) -> None:
        now = time.perf_counter()
        with self.lock:
            if key in self.times:
                self.duplicates += 1
            else:
                self.times[key] = now

    def count(self) -> int:
        with self.lock:
            return len(self.times)


def start_webhook_receiver(receipts: Receipts) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            reference = json.loads(body)["data"]["reference"]
            receipts.add(("webhook", self.path.strip("/"), reference))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 512
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    return server, server.server_address[1]


class MailHandler:
    def __init__(self, receipts: Receipts) -> None:
        self.receipts = receipts

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        match = REFERENCE.search(str(message["Subject"]))
        for recipient in envelope.rcpt_tos:
            self.receipts.add(("email", recipient.split("@")[0], match[0] if match else "?"))
        return "250 OK"


# -- The service under test --------------------------------------------------------------------


@contextmanager
def database(url: str) -> Iterator[str]:
    parsed = make_url(url)
    name = parsed.database
    assert name, "the database URL must name a database"
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Service:
    env: dict[str, str]
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: list[str], log_name: str, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / log_name).open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            cwd=self.workdir,
            env={**self.env, **extra, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def run(self, args: list[str]) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=self.workdir,
            env={**self.env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def serve(self, port: int, **extra: str) -> subprocess.Popen[bytes]:
        process = self.start(
            ["serve", "--port", str(port)], f"serve-{len(self.processes)}.log", **extra
        )
        wait_for(lambda: ready(port, process), "tnld serve to be ready", timeout=60)
        return process

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


def ready(port: int, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"tnld exited with {process.returncode}; see the logs")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Callable[[], bool], what: str, timeout: float = PHASE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


REPORT: dict[str, Any] = {
    "category": "labour_accident",
    "occurred_at": "2026-11-20T08:30:00+07:00",
    "commune_code": "24121",
    "address": "Công trường nhà ở, 12 Lê Duẩn",
    "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
    "victims": [
        {"full_name": "Nguyễn Văn A", "gender": "male", "birth_year": 1990, "outcome": "dead"}
    ],
    "reporter": {"full_name": "Trần Thị B", "phone": "0912345678"},
}


def set_up_organisations(api: httpx.Client, admin_key: str, hook_port: int) -> str:
    admin = {"Authorization": f"Bearer {admin_key}"}

    def create(body: dict[str, Any]) -> str:
        organisation = api.post("/api/v1/organisations", json=body, headers=admin)
        organisation.raise_for_status()
        key = api.post(
            f"/api/v1/organisations/{organisation.json()['id']}/api-keys", json={}, headers=admin
        )
        key.raise_for_status()
        return str(key.json()["key"])

    create(
        {
            "name": "Công an phường Tân Lập",
            "kind": "police",
            "commune_code": "24121",
            "notify_emails": ["police@bench.test"],
            "webhook_url": f"http://127.0.0.1:{hook_port}/police",
        }
    )
    create(
        {
            "name": "Thanh tra Sở",
            "kind": "inspectorate",
            "notify_emails": ["inspectorate@bench.test"],
            "webhook_url": f"http://127.0.0.1:{hook_port}/inspectorate",
        }
    )
    return create({"name": "Công ty A", "kind": "enterprise", "tax_code": "6000123456"})


def post_report(api: httpx.Client, key: str, index: int) -> tuple[str, float]:
    response = api.post(
        "/api/v1/reports",
        json=REPORT,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{index}"},
    )
    received = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"POST /reports: {response.status_code} {response.text[:300]}")
    return str(response.json()["reference"]), received


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarise(name: str, values: list[float], target: float | None) -> str:
    p50, p95, p99 = (percentile(values, q) * 1000 for q in (50, 95, 99))
    goal = f"{target * 1000:.0f}" if target else "-"
    top = max(values) * 1000
    return f"{name:<22}{len(values):>6}{p50:>10.1f}{p95:>10.1f}{p99:>10.1f}{top:>10.1f}{goal:>12}"


# -- The benchmark -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200, help="reports for the latency run")
    parser.add_argument("--rate", type=float, default=20.0, help="reports per second (latency)")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    receipts = Receipts()
    hook_server, hook_port = start_webhook_receiver(receipts)
    smtp_port = free_port()
    smtp = Controller(MailHandler(receipts), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    workdir = Path(tempfile.mkdtemp(prefix="tnld-bench-notify-"))
    with database(args.database_url) as url:
        service = Service(
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("TNLD_")},
                "TNLD_DATABASE_URL": url,
                "TNLD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "TNLD_SMTP_HOST": "127.0.0.1",
                "TNLD_SMTP_PORT": str(smtp_port),
                "TNLD_SMTP_FROM": "tnld@bench.test",
            },
            workdir=workdir,
        )
        try:
            run(args, service, receipts, hook_port)
        finally:
            service.stop_all()
            smtp.stop()
            hook_server.shutdown()
    print(f"(logs in {workdir})")


def run(args: argparse.Namespace, service: Service, receipts: Receipts, hook_port: int) -> None:
    port = free_port()
    serve = service.serve(port)
    admin_key = service.run(["bootstrap-admin", "--name", "Bench"]).strip().splitlines()[-1]
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    key = set_up_organisations(api, admin_key, hook_port)

    # 1. Latency, embedded worker on (tnld serve as deployed by default).
    posted: dict[str, float] = {}
    interval = 1 / args.rate
    started = time.perf_counter()
    for index in range(args.reports):
        reference, at = post_report(api, key, index)
        posted[reference] = at
        pause = started + (index + 1) * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    expected = 4 * args.reports
    wait_for(lambda: receipts.count() >= expected, f"{expected} notifications")
    latencies: dict[str, list[float]] = {"webhook": [], "email": []}
    early = 0
    for (channel, _recipient, reference), at in receipts.times.items():
        delay = at - posted[reference]
        early += delay < 0
        latencies[channel].append(max(0.0, delay))
    service.stop(serve)

    # 2. Drain of a 1,000-delivery backlog: build it with the worker off, then start one.
    before = receipts.count()
    serve = service.serve(port, TNLD_EMBEDDED_WORKER="false")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: post_report(api, key, 100_000 + i), range(BACKLOG_REPORTS)))
    backlog = 4 * BACKLOG_REPORTS
    time.sleep(1)
    assert receipts.count() == before, "something was delivered with the worker off"
    worker_started = time.perf_counter()
    worker = service.start(["worker"], "worker.log")
    wait_for(lambda: receipts.count() > before, "the first delivery of the backlog")
    first = time.perf_counter()
    wait_for(lambda: receipts.count() >= before + backlog, f"{backlog} backlog deliveries")
    drained = time.perf_counter()
    service.stop(worker)
    service.stop(serve)
    api.close()

    print()
    print(
        f"tnld notification benchmark: {args.reports} reports at {args.rate:g}/s, 4 deliveries each"
    )
    print(f"PostgreSQL, loopback receivers; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print()
    print(
        f"{'201 → receipt (ms)':<22}{'n':>6}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>10}"
        f"{'target p99':>12}"
    )
    print(summarise("webhook", latencies["webhook"], TARGET_P99_WEBHOOK_S))
    print(summarise("e-mail", latencies["email"], None))
    print(
        f"(received before the 201 was read, counted as 0: {early}; "
        f"duplicates: {receipts.duplicates})"
    )
    print()
    total = drained - worker_started
    print(f"backlog of {backlog} deliveries (500 webhooks, 500 e-mails), one `tnld worker`:")
    print(
        f"  drained in {total:.2f} s from process start ({backlog / total:.0f}/s), "
        f"target < {TARGET_DRAIN_S:.0f} s"
    )
    print(
        f"  {drained - first:.2f} s from the first delivery ({backlog / (drained - first):.0f}/s)"
    )
    ok = percentile(latencies["webhook"], 99) < TARGET_P99_WEBHOOK_S and total < TARGET_DRAIN_S
    print(f"targets met: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
