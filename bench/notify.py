"""Notification benchmark: latency from a report's 201 to receipt, the drain of a backlog, and
what the API answers meanwhile.

Runs everything on loopback and stops by itself:
- creates a PostgreSQL database (default ``tnld_bench_notify``; dropped at the end),
- starts a webhook receiver and an SMTP server (aiosmtpd), each in its own process
  (bench/receivers.py),
- **latency**: starts ``tnld serve`` as deployed by default (its delivery worker in a child
  process) and posts N reports, each notified to the commune police and the inspectorate on
  e-mail and webhook (4 deliveries per report); prints the latency from the 201 response to the
  receipt of each webhook and e-mail,
- **drain**: restarts ``tnld serve`` with ``TNLD_EMBEDDED_WORKER=false``, builds a backlog of
  10,000 deliveries (2,500 reports: 5,000 e-mails, 5,000 webhooks), measures the p95 of
  ``GET /api/v1/investigations`` idle, then starts one ``tnld worker`` and times the drain while
  a client keeps reading ``GET /api/v1/investigations``,
- **each channel alone**: the recipients keep one channel, a backlog of 5,000 webhooks, then of
  5,000 e-mails, each drained by one ``tnld worker`` (the issue's rates per channel).

Usage: ``.venv/bin/python bench/notify.py [--reports 200] [--rate 20] [--backlog-reports 2500]
[--drain-workers 1] [--database-url postgresql://...]``
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, free_port, percentile, postgres_database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_notify"
TARGET_P99_WEBHOOK_S = 0.250
TARGET_DRAIN_S = 15.0
TARGET_WEBHOOKS_PER_S = 1000.0
TARGET_EMAILS_PER_S = 500.0
#: The read endpoint's p95 while the backlog drains, at most this many times its idle p95.
TARGET_READ_SLOWDOWN = 2.0
BACKLOG_REPORTS = 2500  # x 4 deliveries = 10,000
IDLE_READS = 200
READS_PER_SECOND = 50.0
REFERENCE = re.compile(r"TNLD-\d{4}-\d{6}")
#: No phase may take longer than this: the benchmark always ends.
PHASE_TIMEOUT_S = 180.0


# -- Receivers ---------------------------------------------------------------------------------


@dataclass
class Receipts:
    """When each notification arrived: key (channel, recipient, reference) → unix time."""

    times: dict[tuple[str, str, str], float] = field(default_factory=dict)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: tuple[str, str, str], now: float) -> None:
        with self.lock:
            if key in self.times:
                self.duplicates += 1
            else:
                self.times[key] = now

    def count(self, channel: str | None = None) -> int:
        with self.lock:
            if channel is None:
                return len(self.times)
            return sum(1 for key in self.times if key[0] == channel)

    def last(self, channel: str) -> float:
        with self.lock:
            return max(at for key, at in self.times.items() if key[0] == channel)


def start_receiver(kind: str, receipts: Receipts) -> tuple[subprocess.Popen[str], int]:
    """A receiver in its own process (bench/receivers.py); its receipts are read from its
    output by a thread."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receivers.py"), kind, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    started = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            parts = line.split()
            if parts == ["ready"]:
                started.set()
            elif len(parts) == 4 and REFERENCE.fullmatch(parts[2]):
                receipts.add((parts[0], parts[1], parts[2]), float(parts[3]))
            # Anything else is not a report's notification (the e-mail that tells an
            # organisation of its new API key, which the set-up causes): not counted.

    threading.Thread(target=read, daemon=True).start()
    if not started.wait(30):
        raise RuntimeError(f"the {kind} receiver did not start")
    return process, port


# -- The service under test --------------------------------------------------------------------


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


@dataclass
class Organisations:
    enterprise_key: str
    inspectorate_key: str
    #: Each recipient's id and its channels' settings as created.
    recipients: dict[str, dict[str, Any]]


def set_up_organisations(api: httpx.Client, admin_key: str, hook_port: int) -> Organisations:
    """The police of commune 24121 and the inspectorate (e-mail and webhook each), and an
    enterprise."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    recipients: dict[str, dict[str, Any]] = {}

    def create(body: dict[str, Any]) -> str:
        organisation = api.post("/api/v1/organisations", json=body, headers=admin)
        organisation.raise_for_status()
        if body["kind"] != "enterprise":
            recipients[organisation.json()["id"]] = {
                "notify_emails": body["notify_emails"],
                "webhook_url": body["webhook_url"],
            }
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
    inspectorate = create(
        {
            "name": "Thanh tra Sở",
            "kind": "inspectorate",
            "notify_emails": ["inspectorate@bench.test"],
            "webhook_url": f"http://127.0.0.1:{hook_port}/inspectorate",
        }
    )
    enterprise = create({"name": "Công ty A", "kind": "enterprise", "tax_code": "6000123456"})
    return Organisations(enterprise, inspectorate, recipients)


def only_channel(api: httpx.Client, admin_key: str, orgs: Organisations, channel: str) -> None:
    """Leave each recipient with one channel (its other one removed) for a channel's drain."""
    for org_id, created in orgs.recipients.items():
        body = (
            {"notify_emails": [], "webhook_url": created["webhook_url"]}
            if channel == "webhook"
            else {"notify_emails": created["notify_emails"], "webhook_url": None}
        )
        response = api.patch(
            f"/api/v1/organisations/{org_id}",
            json=body,
            headers={"Authorization": f"Bearer {admin_key}"},
        )
        response.raise_for_status()


def post_report(api: httpx.Client, key: str, index: int) -> tuple[str, float]:
    response = api.post(
        "/api/v1/reports",
        json=REPORT,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{index}"},
    )
    received = time.time()
    if response.status_code != 201:
        raise RuntimeError(f"POST /reports: {response.status_code} {response.text[:300]}")
    return str(response.json()["reference"]), received


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
    parser.add_argument("--backlog-reports", type=int, default=BACKLOG_REPORTS)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--drain-workers",
        type=int,
        default=1,
        help="`tnld worker` processes draining the backlog together (the target is for one)",
    )
    args = parser.parse_args()

    receipts = Receipts()
    hook_receiver, hook_port = start_receiver("webhook", receipts)
    smtp_receiver, smtp_port = start_receiver("smtp", receipts)
    workdir = Path(tempfile.mkdtemp(prefix="tnld-bench-notify-"))
    url = args.database_url
    with postgres_database(url):
        service = Service(
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("TNLD_")},
                "TNLD_DATABASE_URL": url,
                "TNLD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "TNLD_SMTP_HOST": "127.0.0.1",
                "TNLD_SMTP_PORT": str(smtp_port),
                "TNLD_SMTP_FROM": "tnld@bench.test",
                # The receivers are on loopback (refused as webhook targets where that rule is
                # in force, unless allowed).
                "TNLD_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                "TNLD_RATE_LIMIT_WRITES": "0",
                "TNLD_RATE_LIMIT_READS": "0",
            },
            workdir=workdir,
        )
        try:
            run(args, service, receipts, hook_port)
        finally:
            service.stop_all()
            for receiver in (hook_receiver, smtp_receiver):
                receiver.terminate()
                receiver.wait(timeout=10)
    print(f"(logs in {workdir})")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_latencies(port: int, key: str, until: Callable[[], bool], minimum: int) -> list[float]:
    """``GET /api/v1/investigations``, ``READS_PER_SECOND`` a second (an inspector's screen,
    not a load test: one keep-alive client) until ``until()`` holds and at least ``minimum``
    were timed; seconds per request."""
    times: list[float] = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ) as reader:
        next_at = time.perf_counter()
        while len(times) < minimum or not until():
            pause = next_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            next_at += 1 / READS_PER_SECOND
            started = time.perf_counter()
            reader.get("/api/v1/investigations").raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def file_backlog(api: httpx.Client, key: str, *, first_index: int, reports: int) -> None:
    """File ``reports`` reports, 8 at a time, with Idempotency-Keys numbered from ``first_index``
    (each backlog its own numbers)."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: post_report(api, key, first_index + i), range(reports)))


def drain_alone(
    service: Service,
    api: httpx.Client,
    receipts: Receipts,
    channel: str,
    *,
    reports: int,
    first_index: int,
    admin_key: str,
    orgs: Organisations,
) -> tuple[int, float, float]:
    """File ``reports`` reports (the recipients having ``channel`` only) with the worker off,
    drain them with one ``tnld worker``; returns the count and the seconds from its start and
    from the first delivery to the last."""
    only_channel(api, admin_key, orgs, channel)
    key = orgs.enterprise_key
    start = receipts.count()
    file_backlog(api, key, first_index=first_index, reports=reports)
    count = 2 * reports
    started_at = time.time()
    worker = service.start(["worker"], f"worker-{channel}.log")
    wait_for(lambda: receipts.count() > start, f"the first {channel} of its backlog")
    first_at = time.time()
    wait_for(lambda: receipts.count() >= start + count, f"{count} {channel} deliveries")
    ended_at = receipts.last(channel)
    service.stop(worker)
    return count, ended_at - started_at, ended_at - first_at


def run(args: argparse.Namespace, service: Service, receipts: Receipts, hook_port: int) -> None:
    port = free_port()
    serve = service.serve(port)
    admin_key = service.run(["bootstrap-admin", "--name", "Bench"]).strip().splitlines()[-1]
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    orgs = set_up_organisations(api, admin_key, hook_port)
    key, inspectorate_key = orgs.enterprise_key, orgs.inspectorate_key

    # 1. Latency, tnld serve as deployed by default (its worker in a child process).
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

    # 2. Drain of a backlog: build it with the worker off, then start one `tnld worker`.
    before = {channel: receipts.count(channel) for channel in ("webhook", "email")}
    serve = service.serve(port, TNLD_EMBEDDED_WORKER="false")
    file_backlog(api, key, first_index=100_000, reports=args.backlog_reports)
    backlog = 4 * int(args.backlog_reports)
    idle = read_latencies(port, inspectorate_key, lambda: True, IDLE_READS)
    assert receipts.count() == sum(before.values()), "something was delivered with the worker off"

    def drained() -> bool:
        return receipts.count() >= sum(before.values()) + backlog

    worker_started = time.time()
    workers = [service.start(["worker"], f"worker-{n}.log") for n in range(args.drain_workers)]
    wait_for(lambda: receipts.count() > sum(before.values()), "the first delivery of the backlog")
    first = time.time()
    during = read_latencies(port, inspectorate_key, drained, 20)
    wait_for(drained, f"{backlog} backlog deliveries")
    done = time.time()
    last = {channel: receipts.last(channel) for channel in ("webhook", "email")}
    worker_cpu = sum(cpu_seconds(worker.pid) for worker in workers)
    for worker in workers:
        service.stop(worker)

    # 3. Each channel's own rate: a backlog of one channel only (half the mixed backlog's
    # deliveries: 5,000 webhooks, then 5,000 e-mails), drained by one `tnld worker`.
    alone = {
        channel: drain_alone(
            service,
            api,
            receipts,
            channel,
            reports=args.backlog_reports,
            first_index=100_000 + number * args.backlog_reports,
            admin_key=admin_key,
            orgs=orgs,
        )
        for number, channel in enumerate(("webhook", "email"), start=1)
    }
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
    total = done - worker_started
    half = backlog // 2
    hook_rate = half / (last["webhook"] - worker_started)
    mail_rate = half / (last["email"] - worker_started)
    print(
        f"backlog of {backlog} deliveries ({half} webhooks, {half} e-mails), "
        f"{args.drain_workers} `tnld worker` process(es):"
    )
    print(
        f"  drained in {total:.2f} s from process start ({backlog / total:.0f}/s), "
        f"target < {TARGET_DRAIN_S:.0f} s"
    )
    print(f"  {done - first:.2f} s from the first delivery ({backlog / (done - first):.0f}/s)")
    print(
        f"  the workers' CPU time: {worker_cpu:.1f} s "
        f"({worker_cpu / backlog * 1000:.2f} ms per delivery, start-up included)"
    )
    print(
        f"  webhooks {hook_rate:.0f}/s, e-mails {mail_rate:.0f}/s, from process start "
        "(sent side by side)"
    )
    for channel, (count, from_start, from_first) in alone.items():
        print(
            f"backlog of {count} {channel}s alone, 1 `tnld worker`: {from_start:.2f} s from "
            f"process start ({count / from_start:.0f}/s), {from_first:.2f} s from the first "
            f"({count / from_first:.0f}/s)"
        )
    hook_rate = alone["webhook"][0] / alone["webhook"][1]
    mail_rate = alone["email"][0] / alone["email"][1]
    idle_p95, during_p95 = percentile(idle, 95) * 1000, percentile(during, 95) * 1000
    print(
        f"GET /api/v1/investigations p95: idle {idle_p95:.1f} ms ({len(idle)} requests), "
        f"while draining {during_p95:.1f} ms ({len(during)} requests): "
        f"{during_p95 / idle_p95:.1f}x (target < {TARGET_READ_SLOWDOWN:.0f}x)"
    )
    checks = [
        (
            f"webhook p99 < {TARGET_P99_WEBHOOK_S * 1000:.0f} ms",
            percentile(latencies["webhook"], 99) < TARGET_P99_WEBHOOK_S,
        ),
        (f"drain < {TARGET_DRAIN_S:.0f} s", total < TARGET_DRAIN_S),
        (
            f"webhooks alone >= {TARGET_WEBHOOKS_PER_S:.0f}/s from process start",
            hook_rate >= TARGET_WEBHOOKS_PER_S,
        ),
        (
            f"e-mails alone >= {TARGET_EMAILS_PER_S:.0f}/s from process start",
            mail_rate >= TARGET_EMAILS_PER_S,
        ),
        (
            f"read p95 while draining < {TARGET_READ_SLOWDOWN:.0f}x idle",
            during_p95 < TARGET_READ_SLOWDOWN * idle_p95,
        ),
        ("no duplicates", receipts.duplicates == 0),
    ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")


if __name__ == "__main__":
    main()
