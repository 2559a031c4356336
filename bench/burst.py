"""Burst benchmark: 200 requests sent at one instant over 200 open connections.

Runs on loopback and stops by itself:
1. creates a PostgreSQL database (default ``tnld_bench_burst``, dropped at the end),
2. serves ``bench/baseline_app.py`` (one JSON row inserted per POST, same driver, same uvicorn
   settings, same request threads) and sends it the burst as 200 POSTs (the floor of the
   stack),
3. serves ``tnld serve`` on that database in its **default configuration** (embedded delivery
   worker on, as deployed; default request threads, pool and admission limit), creates through
   the API an enterprise, the police of district 643 and the inspectorate, files one report,
   and sends the burst: a fifth each of filings (fresh keys), reads of the investigation list,
   reads of the report, amendments of that report, and replays of one Idempotency-Key,
4. does the same on a SQLite file.

Each burst: C connections (default 200) are opened and each used once for ``GET /healthz``;
then every connection sends its request at the same instant. Figures per burst: the time from
that instant until every request is answered, the share of 503s (admission control, with
``Retry-After``), the statuses, and how long ``/healthz`` takes right after. A request without an
answer within ``--timeout`` seconds counts as unanswered (the service hung). Rounds (default 3)
run one after another on the same server.

Usage: ``.venv/bin/python bench/burst.py [--connections 200] [--rounds 3] [--timeout 60]
[--database-url postgresql://postgres@127.0.0.1:5432/tnld_bench_burst]`` or
``make bench-burst``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from common import ROOT, percentile, postgres_database
from intake import (  # a script beside this one: on sys.path when run as a script
    BIN,
    SECRET_KEY,
    Server,
    _env,
    report_json,
    serve,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_burst"
API = "/api/v1"


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Burst:
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    busy_without_retry_after: int = 0
    #: How long /healthz took right after the burst ("-": not probed).
    healthz: str = "-"

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def share(self, status: int) -> float:
        total = self.answered + self.unanswered
        count = sum(n for label, n in self.statuses.items() if label.endswith(f" {status}"))
        return count / total if total else 0.0


# -- the burst ---------------------------------------------------------------------------------


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request
) -> tuple[int, dict[bytes, bytes]]:
    fixed = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head = (
        f"{request.method} {request.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{fixed}"
        f"Content-Length: {len(request.body)}\r\n\r\n"
    )
    writer.write(head.encode() + request.body)
    await writer.drain()
    raw = await reader.readuntil(b"\r\n\r\n")
    headers: dict[bytes, bytes] = {}
    for line in raw.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return int(raw[9:12]), headers


async def _burst(
    port: int, requests: list[Request], timeout: float, *, probe: str | None = "/healthz"
) -> Burst:
    result = Burst()
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
    healthz = Request("healthz", "GET", "/healthz", {}, b"")
    # A hung server does not answer this either: the request then counts as unanswered.
    warmed = await asyncio.gather(
        *(asyncio.wait_for(_exchange(r, w, healthz), timeout) for r, w in opened),
        return_exceptions=True,
    )
    start = asyncio.Event()

    async def one(
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], req: Request, ready: object
    ) -> None:
        await start.wait()
        if isinstance(ready, BaseException):
            result.unanswered += 1
            return
        sent = time.perf_counter()
        try:
            status, headers = await asyncio.wait_for(_exchange(*stream, req), timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            result.unanswered += 1
            return
        result.latencies_ms.append((time.perf_counter() - sent) * 1000)
        label = f"{req.kind} {status}"
        result.statuses[label] = result.statuses.get(label, 0) + 1
        if status in (429, 503) and not headers.get(b"retry-after", b"").isdigit():
            result.busy_without_retry_after += 1

    tasks = [
        asyncio.create_task(one(s, r, w)) for s, r, w in zip(opened, requests, warmed, strict=True)
    ]
    await asyncio.sleep(0)
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - began
    for _, writer in opened:
        writer.close()
    if probe is not None:
        try:
            checked = time.perf_counter()
            httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=timeout).raise_for_status()
            result.healthz = f"{(time.perf_counter() - checked) * 1000:.0f}"
        except httpx.HTTPError:
            result.healthz = "no answer"
    return result


def _tnld_burst(
    connections: int, *, round_: int, report_id: str, keys: dict[str, str]
) -> list[Request]:
    json_type = {"Content-Type": "application/json"}
    enterprise = {"Authorization": f"Bearer {keys['enterprise']}", **json_type}
    inspectorate = {"Authorization": f"Bearer {keys['inspectorate']}"}
    replay_key = f"bench-burst-replay-{round_}-{uuid.uuid4()}"
    replayed = report_json()  # one body for the key (another body would be 422)
    requests = []
    for i in range(connections):
        match i % 5:
            case 0:
                headers = {**enterprise, "Idempotency-Key": str(uuid.uuid4())}
                requests.append(Request("filing", "POST", f"{API}/reports", headers, report_json()))
            case 1:
                requests.append(Request("read", "GET", f"{API}/investigations", inspectorate, b""))
            case 2:
                path = f"{API}/reports/{report_id}"
                requests.append(Request("read", "GET", path, enterprise, b""))
            case 3:
                headers = {**enterprise, "Idempotency-Key": str(uuid.uuid4())}
                body = json.dumps({"summary": f"Bổ sung, đợt {round_}, lần {i}."}).encode()
                path = f"{API}/reports/{report_id}/amendments"
                requests.append(Request("amendment", "POST", path, headers, body))
            case _:
                headers = {**enterprise, "Idempotency-Key": replay_key}
                requests.append(Request("replay", "POST", f"{API}/reports", headers, replayed))
    return requests


# -- servers -----------------------------------------------------------------------------------


def _organisations(server: Server, env: dict[str, str], cwd: Path) -> tuple[dict[str, str], str]:
    """An admin, then through the API the enterprise, the police of 643 and the inspectorate,
    and one report filed by the enterprise. Returns the keys and the report's id."""
    bootstrap = subprocess.run(
        [str(BIN / "tnld"), "bootstrap-admin", "--name", "bench admin"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    admin = {"Authorization": "Bearer " + bootstrap.stdout.strip().splitlines()[-1]}
    keys: dict[str, str] = {}
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30) as http:
        for name, body in (
            (
                "police",
                {
                    "name": "Công an TP Buôn Ma Thuột",
                    "kind": "police",
                    "district_code": "643",
                    "notify_emails": ["ca643@bench.test"],
                },
            ),
            (
                "inspectorate",
                {
                    "name": "Thanh tra Sở",
                    "kind": "inspectorate",
                    "notify_emails": ["tt@bench.test"],
                },
            ),
            (
                "enterprise",
                {"name": "Công ty Bench", "kind": "enterprise", "tax_code": "6000123456"},
            ),
        ):
            created = http.post(f"{API}/organisations", json=body)
            created.raise_for_status()
            key = http.post(f"{API}/organisations/{created.json()['id']}/api-keys", json={})
            key.raise_for_status()
            keys[name] = str(key.json()["key"])
        filed = http.post(
            f"{API}/reports",
            content=report_json(),
            headers={
                "Authorization": f"Bearer {keys['enterprise']}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        filed.raise_for_status()
    return keys, str(filed.json()["id"])


def tnld_default_env(database_url: str, workdir: Path) -> dict[str, str]:
    """``tnld serve`` as deployed: only the database, the key and where e-mails go are set."""
    return _env(
        TNLD_DATABASE_URL=database_url,
        TNLD_SECRET_KEY=SECRET_KEY,
        TNLD_MAIL_DIR=str(workdir / "mail"),
        # Bursts measure admission, not one client's rate allowance.
        TNLD_RATE_LIMIT_WRITES="0",
        TNLD_RATE_LIMIT_READS="0",
    )


def measure_tnld(
    database_url: str, workdir: Path, *, connections: int, rounds: int, timeout: float
) -> list[Burst]:
    env = tnld_default_env(database_url, workdir)
    with serve([str(BIN / "tnld"), "serve"], env, workdir, "/readyz") as server:
        keys, report_id = _organisations(server, env, workdir)
        return [
            asyncio.run(
                _burst(
                    server.port,
                    _tnld_burst(connections, round_=r, report_id=report_id, keys=keys),
                    timeout,
                )
            )
            for r in range(rounds)
        ]


def measure_baseline(
    database_url: str, workdir: Path, *, connections: int, rounds: int, timeout: float
) -> list[Burst]:
    command = [
        sys.executable,
        str(ROOT / "bench" / "baseline_app.py"),
        "--database-url",
        database_url,
        "--threads",
        "4",
    ]
    env = _env(BASELINE_DATABASE_URL=database_url)
    headers = {"Content-Type": "application/json"}
    requests = [Request("insert", "POST", "/items", headers, report_json())] * connections
    with serve(command, env, workdir, "/openapi.json") as server:
        # The baseline has no /healthz (its connections are opened with a 404).
        return [
            asyncio.run(_burst(server.port, requests, timeout, probe=None)) for _ in range(rounds)
        ]


# -- report ------------------------------------------------------------------------------------


def row(label: str, round_: int, burst: Burst) -> str:
    lat = burst.latencies_ms
    return (
        f"| {label} | {round_} | {'never' if burst.unanswered else f'{burst.seconds:.2f}'} | "
        f"{percentile(lat, 50):.0f} | "
        f"{percentile(lat, 95):.0f} | {burst.share(503):.0%} | {burst.unanswered} | "
        f"{burst.healthz} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    sizes = {"connections": args.connections, "rounds": args.rounds, "timeout": args.timeout}

    workdir = Path(tempfile.mkdtemp(prefix="tnld-bench-burst-"))
    results: list[tuple[str, list[Burst]]] = []
    with postgres_database(args.database_url):
        if not args.skip_baseline:
            results.append(
                (
                    "baseline (1 INSERT per POST), PostgreSQL",
                    measure_baseline(args.database_url, workdir, **sizes),
                )
            )
        pg_dir = workdir / "postgresql"
        pg_dir.mkdir()
        results.append(("tnld, PostgreSQL", measure_tnld(args.database_url, pg_dir, **sizes)))
    sqlite_dir = workdir / "sqlite"
    sqlite_dir.mkdir()
    sqlite_url = f"sqlite:///{sqlite_dir / 'bench.db'}"
    results.append(("tnld, SQLite", measure_tnld(sqlite_url, sqlite_dir, **sizes)))

    print(
        f"\n{args.connections} requests at one instant over {args.connections} open "
        f"connections; default configuration (embedded worker on)\n"
    )
    print(
        "| server | round | all answered (s) | p50 ms | p95 ms | 503 | unanswered | "
        "/healthz after (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    for label, bursts in results:
        for number, burst in enumerate(bursts, start=1):
            print(row(label, number, burst))
    print()
    for label, bursts in results:
        for number, burst in enumerate(bursts, start=1):
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(burst.statuses.items()))
            print(f"{label}, round {number}: {statuses}")
            if burst.busy_without_retry_after:
                print(f"  {burst.busy_without_retry_after} 429/503 without Retry-After")
    hung = sum(b.unanswered for _, bursts in results for b in bursts)
    print(f"\n{'PASS' if hung == 0 else 'MISS'}  every request answered ({hung} unanswered)")


if __name__ == "__main__":
    main()
