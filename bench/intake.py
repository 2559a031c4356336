"""Intake benchmark: POST /api/v1/reports under concurrent clients, next to a baseline.

Runs on loopback and stops by itself:
1. creates a PostgreSQL database (default ``tnld_bench_intake``, dropped at the end),
2. serves ``bench/baseline_app.py`` (one JSON row inserted per POST, same driver, same uvicorn
   settings, same number of request threads) and measures it (with ``--also-default``, also
   with anyio's default 40 threads, for reference),
3. serves ``tnld serve`` on that database with ``TNLD_EMBEDDED_WORKER=false`` (the outbox rows
   are written in each report's transaction, nothing is sent), creates through the API an
   enterprise, the police of commune 24121 and the inspectorate, each with an e-mail address and
   a webhook (each report thus writes 4 deliveries), and measures the intake,
4. **as deployed**: on a second database, ``tnld serve`` with its default configuration (the
   delivery worker in its child process) sending to a real SMTP server (aiosmtpd) and a webhook
   receiver, each in its own process (bench/receivers.py); measures the intake while the
   deliveries flow, then how long after the load stops the last delivery is done,
5. does the worker-off run on a SQLite file, and counts "database is locked" errors (responses
   and the server's log).

Each phase: C clients (default 32), each on one keep-alive connection, posting valid fatal
reports (a fresh Idempotency-Key each) back to back for a warm-up, then for the measured time.
The client is a minimal HTTP/1.1 writer/reader on asyncio streams, so it costs the server's CPUs
as little as possible.

Usage: ``.venv/bin/python bench/intake.py [--clients 32] [--workers 1] [--threads 4]
[--also-default] [--seconds 20] [--sqlite-seconds 10]
[--database-url postgresql://postgres@127.0.0.1:5432/tnld_bench_intake]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, free_port, percentile, postgres_database

from app.config import Settings

BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_intake"
SECRET_KEY = "bench-intake-secret-key-0123456789-abcdefghijklmnopq"
TARGET_RATE = 300.0
TARGET_P95_MS = 100.0
TARGET_RATIO = 0.40
#: Deployed (worker on) against the same server with the worker off.
TARGET_DEPLOYED_RATIO = 0.70
TARGET_DRAINED_AFTER_S = 10.0
WARM_UP_SECONDS = 3.0
ANYIO_DEFAULT_THREADS = 40


# -- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(extra)
    return env


def _wait_until_up(base_url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(base_url + path, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not come up within 60 s")
        time.sleep(0.2)


@contextmanager
def serve(command: list[str], env: dict[str, str], cwd: Path, ready_path: str) -> Iterator[Server]:
    port = free_port()
    log = cwd / f"server-{port}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        server = Server(f"http://127.0.0.1:{port}", port, process, log)
        try:
            _wait_until_up(server.base_url, ready_path, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def tnld_env(
    database_url: str, *, threads: int, worker: bool = False, smtp_port: int | None = None
) -> dict[str, str]:
    """The service's settings; with ``worker``, as deployed by default (the delivery worker
    on), sending e-mail to the SMTP server on ``smtp_port``."""
    env = _env(
        TNLD_DATABASE_URL=database_url,
        TNLD_SECRET_KEY=SECRET_KEY,
        TNLD_REQUEST_THREADS=str(threads),
        # The receivers are on loopback (refused as webhook targets where that rule is in
        # force, unless allowed).
        TNLD_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        # The benchmark measures throughput, far above one client's allowance.
        TNLD_RATE_LIMIT_WRITES="0",
        TNLD_RATE_LIMIT_READS="0",
    )
    if not worker:
        env["TNLD_EMBEDDED_WORKER"] = "false"
    if smtp_port is not None:
        env.update(
            TNLD_SMTP_HOST="127.0.0.1",
            TNLD_SMTP_PORT=str(smtp_port),
            TNLD_SMTP_FROM="tnld@bench.test",
        )
    return env


@dataclass
class Receiver:
    """bench/receivers.py in its own process, counting what it receives."""

    process: subprocess.Popen[str]
    port: int
    received: int = 0


@contextmanager
def receiver(kind: str) -> Iterator[Receiver]:
    import threading

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receivers.py"), kind, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    running = Receiver(process, port)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "ready":
                ready.set()
            else:
                running.received += 1

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(30):
            raise RuntimeError(f"the {kind} receiver did not start")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)


def pending_deliveries(database_url: str) -> int:
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as conn:
        row = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'pending'").fetchone()
    return int(row[0]) if row else 0


def set_up_organisations(server: Server, env: dict[str, str], cwd: Path, *, hook_port: int) -> str:
    """An admin (bootstrap-admin), then through the API the enterprise whose key posts, the
    police of commune 24121 and the inspectorate, each with an e-mail address and a webhook to
    ``hook_port``. Returns the enterprise's key."""
    import httpx

    bootstrap = subprocess.run(
        [str(BIN / "tnld"), "bootstrap-admin", "--name", "bench admin"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    admin = {"Authorization": "Bearer " + bootstrap.stdout.strip().splitlines()[-1]}
    with httpx.Client(base_url=server.base_url, headers=admin) as http:
        for body in (
            {
                "name": "Công an phường Tân Lập",
                "kind": "police",
                "commune_code": "24121",
                "notify_emails": ["ca643@bench.test"],
                "webhook_url": f"http://127.0.0.1:{hook_port}/police",
            },
            {
                "name": "Thanh tra Sở",
                "kind": "inspectorate",
                "notify_emails": ["tt@bench.test"],
                "webhook_url": f"http://127.0.0.1:{hook_port}/inspectorate",
            },
        ):
            http.post("/api/v1/organisations", json=body).raise_for_status()
        enterprise = http.post(
            "/api/v1/organisations",
            json={"name": "Công ty Bench", "kind": "enterprise", "tax_code": "6000123456"},
        )
        enterprise.raise_for_status()
        key = http.post(f"/api/v1/organisations/{enterprise.json()['id']}/api-keys", json={})
        key.raise_for_status()
        return str(key.json()["key"])


# -- load --------------------------------------------------------------------------------------


def report_json() -> bytes:
    occurred = datetime.now(UTC) - timedelta(hours=1)
    return json.dumps(
        {
            "category": "labour_accident",
            "occurred_at": occurred.isoformat(),
            "commune_code": "24121",
            "commune": "Tổ dân phố 5",
            "address": "Công trường nhà ở, 12 Lê Duẩn",
            "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
            "initial_cause": "Giàn giáo không được neo giữ",
            "measures_taken": "Dừng thi công, phong tỏa hiện trường",
            "employer_name": "Công ty TNHH Xây dựng Tây Nguyên",
            "victims": [
                {
                    "full_name": "Nguyễn Văn A",
                    "gender": "male",
                    "birth_year": 1990,
                    "occupation": "Thợ xây",
                    "national_id": "066090001234",
                    "employment": "labour_contract",
                    "outcome": "dead",
                    "injury": "Chấn thương sọ não",
                }
            ],
            "reporter": {
                "full_name": "Trần Thị B",
                "position": "Cán bộ ATVSLĐ",
                "phone": "0912 345 678",
                "email": "b@example.vn",
            },
        },
        ensure_ascii=False,
    ).encode()


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    error_bodies: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


async def _client(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    until: float,
    measure_from: float,
    result: Result,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        while True:
            started = time.perf_counter()
            if started >= until:
                return
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{fixed}"
                f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            finished = time.perf_counter()
            if started >= measure_from:
                result.latencies_ms.append((finished - started) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status != 201 and len(result.error_bodies) < 5:
                    result.error_bodies.append(payload[:300].decode(errors="replace"))
    finally:
        writer.close()


def run_load(
    port: int, path: str, headers: dict[str, str], *, clients: int, seconds: float
) -> Result:
    body = report_json()
    result = Result()

    async def main() -> None:
        now = time.perf_counter()
        measure_from = now + WARM_UP_SECONDS
        until = measure_from + seconds
        await asyncio.gather(
            *(
                _client(port, path, headers, body, until, measure_from, result)
                for _ in range(clients)
            )
        )

    asyncio.run(main())
    result.seconds = seconds
    return result


# -- report ------------------------------------------------------------------------------------


def row(label: str, result: Result) -> str:
    lat = result.latencies_ms
    errors = sum(n for status, n in result.statuses.items() if status != 201)
    return (
        f"| {label} | {result.created} | {result.rate:.0f} | {percentile(lat, 50):.1f} | "
        f"{percentile(lat, 95):.1f} | {percentile(lat, 99):.1f} | {errors} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="tnld serve --workers (PostgreSQL)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sqlite-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--threads",
        type=int,
        default=Settings.model_fields["request_threads"].default,
        help="request threads of both servers (TNLD_REQUEST_THREADS; default: tnld's)",
    )
    parser.add_argument(
        "--also-default",
        action="store_true",
        help=f"also measure the baseline with anyio's default {ANYIO_DEFAULT_THREADS} threads",
    )
    args = parser.parse_args()

    header = (
        "| server | reports | reports/s | p50 ms | p95 ms | p99 ms | errors |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    workdir = Path(tempfile.mkdtemp(prefix="tnld-bench-intake-"))
    print(f"{args.clients} clients on loopback, {WARM_UP_SECONDS:.0f} s warm-up, then measured")
    with postgres_database(args.database_url):
        baseline_env = _env(BASELINE_DATABASE_URL=args.database_url)

        def measure_baseline(threads: int) -> Result:
            command = [
                sys.executable,
                str(ROOT / "bench" / "baseline_app.py"),
                "--database-url",
                args.database_url,
                "--threads",
                str(threads),
            ]
            with serve(command, baseline_env, workdir, "/openapi.json") as server:
                return run_load(
                    server.port, "/items", {}, clients=args.clients, seconds=args.seconds
                )

        baseline = measure_baseline(args.threads)
        baseline_default = measure_baseline(ANYIO_DEFAULT_THREADS) if args.also_default else None

        env = tnld_env(args.database_url, threads=args.threads)
        tnld_serve = [str(BIN / "tnld"), "serve", "--workers", str(args.workers)]
        with serve(tnld_serve, env, workdir, "/readyz") as server:
            key = set_up_organisations(server, env, workdir, hook_port=free_port())
            intake = run_load(
                server.port,
                "/api/v1/reports",
                {"Authorization": f"Bearer {key}"},
                clients=args.clients,
                seconds=args.seconds,
            )

    deployed_url = args.database_url + "_deployed"
    deployed_dir = workdir / "deployed"
    deployed_dir.mkdir()
    with (
        postgres_database(deployed_url),
        receiver("webhook") as hooks,
        receiver("smtp") as mails,
    ):
        env = tnld_env(deployed_url, threads=args.threads, worker=True, smtp_port=mails.port)
        with serve(tnld_serve, env, deployed_dir, "/readyz") as server:
            key = set_up_organisations(server, env, deployed_dir, hook_port=hooks.port)
            deployed = run_load(
                server.port,
                "/api/v1/reports",
                {"Authorization": f"Bearer {key}"},
                clients=args.clients,
                seconds=args.seconds,
            )
            load_stopped = time.monotonic()
            pending_at_stop = pending_deliveries(deployed_url)
            while pending_deliveries(deployed_url) and time.monotonic() - load_stopped < 120:
                time.sleep(0.1)
            drained_after = time.monotonic() - load_stopped
            pending_left = pending_deliveries(deployed_url)
            received = hooks.received + mails.received

    sqlite_dir = workdir / "sqlite"
    sqlite_dir.mkdir()
    env = tnld_env(f"sqlite:///{sqlite_dir / 'bench.db'}", threads=args.threads)
    with serve([str(BIN / "tnld"), "serve"], env, sqlite_dir, "/readyz") as server:
        key = set_up_organisations(server, env, sqlite_dir, hook_port=free_port())
        on_sqlite = run_load(
            server.port,
            "/api/v1/reports",
            {"Authorization": f"Bearer {key}"},
            clients=args.clients,
            seconds=args.sqlite_seconds,
        )
        sqlite_log = server.log
    locked_in_log = sqlite_log.read_text(errors="replace").count("database is locked")
    locked_in_responses = sum("database is locked" in b for b in on_sqlite.error_bodies)

    print(f"\nPostgreSQL, {args.seconds:.0f} s measured\n{header}")
    print(row(f"baseline (1 INSERT per POST), {args.threads} threads", baseline))
    if baseline_default is not None:
        print(row(f"baseline, {ANYIO_DEFAULT_THREADS} threads (anyio's default)", baseline_default))
    workers = f", {args.workers} processes" if args.workers > 1 else ""
    print(row(f"tnld POST /api/v1/reports, {args.threads} threads{workers}", intake))
    print(row(f"tnld as deployed (worker on, sending){workers}", deployed))
    ratio = intake.rate / baseline.rate if baseline.rate else 0.0
    deployed_ratio = deployed.rate / intake.rate if intake.rate else 0.0
    print(f"\ntnld / baseline: {ratio:.0%}; as deployed / worker off: {deployed_ratio:.0%}")
    print(
        f"as deployed: {pending_at_stop} deliveries pending when the load stopped, all done "
        f"{drained_after:.1f} s later ({pending_left} left); {received} received "
        f"({hooks.received} webhooks, {mails.received} e-mails)"
    )
    print(f"\nSQLite, {args.sqlite_seconds:.0f} s measured\n{header}")
    print(row("tnld POST /api/v1/reports", on_sqlite))
    print(
        f'"database is locked": {locked_in_log} in the server log, '
        f"{locked_in_responses} in responses"
    )
    for label, result in (
        ("baseline", baseline),
        ("tnld", intake),
        ("deployed", deployed),
        ("sqlite", on_sqlite),
    ):
        for body in result.error_bodies:
            print(f"  {label} error: {body}")

    p95 = percentile(intake.latencies_ms, 95)
    deployed_p95 = percentile(deployed.latencies_ms, 95)
    checks = [
        (
            f"as deployed >= {TARGET_DEPLOYED_RATIO:.0%} of worker off",
            deployed_ratio >= TARGET_DEPLOYED_RATIO,
        ),
        (f"as deployed p95 < {TARGET_P95_MS:.0f} ms", deployed_p95 < TARGET_P95_MS),
        (
            f"every delivery done within {TARGET_DRAINED_AFTER_S:.0f} s after the load",
            pending_left == 0 and drained_after <= TARGET_DRAINED_AFTER_S,
        ),
        (f"PostgreSQL rate >= {TARGET_RATE:.0f}/s", intake.rate >= TARGET_RATE),
        (f"PostgreSQL p95 < {TARGET_P95_MS:.0f} ms", p95 < TARGET_P95_MS),
        (f"rate >= {TARGET_RATIO:.0%} of baseline", ratio >= TARGET_RATIO),
        ('no "database is locked" on SQLite', locked_in_log == 0 and locked_in_responses == 0),
        (
            "no errors",
            all(set(r.statuses) <= {201} for r in (baseline, intake, deployed, on_sqlite)),
        ),
    ]
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {label}")


if __name__ == "__main__":
    main()
