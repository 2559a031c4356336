"""Metrics benchmark: ``GET /metrics`` over 1,000,000 reports (PostgreSQL).

Runs on loopback and stops by itself:
- creates a PostgreSQL database (default ``tnld_ops_bench_metrics``; dropped at the end unless
  ``--keep``) and bulk-loads N reports with their investigations (bench/queries.py's loader),
  then for each report one ``report.created`` event and three deliveries (police e-mail,
  inspectorate e-mail and webhook), delivered, except the last 100 reports' (pending);
- starts ``tnld serve`` (worker off) with a metrics token and times ``GET /metrics``: the first
  scrape (each server process tallies the settled reports and deliveries once, a full count)
  and then the steady scrapes (indexed counts of the last minutes only);
- next to it, the baseline of the same run: ``GET /healthz`` (the HTTP floor) and the bare
  ``GROUP BY`` over the whole tables that a naive exporter would run per scrape.

Usage: ``.venv/bin/python bench/metrics.py [--reports 1000000] [--scrapes 100] [--keep]
[--database-url postgresql://postgres@127.0.0.1:5432/tnld_ops_bench_metrics]``
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import queries
from common import ROOT, free_port, percentile, run_in_process

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_ops_bench_metrics"
TOKEN = "bench-metrics-token-0123456789"
TARGET_MS = 50.0

LOAD_EVENTS = """
INSERT INTO notification_events (id, report_id, type, payload, created_at)
SELECT gen_random_uuid(), r.id, 'report.created', '{}'::jsonb, r.received_at FROM reports r
"""
LOAD_DELIVERIES = """
INSERT INTO deliveries (id, event_id, report_id, recipient_id, recipient_name, recipient_kind,
    channel, status, attempts, schedule_start, next_attempt_at, created_at, delivered_at)
SELECT gen_random_uuid(), e.id, e.report_id, NULL, c.name, c.kind, c.channel,
    CASE WHEN e.created_at > :pending_after THEN 'pending' ELSE 'delivered' END,
    1, 0,
    CASE WHEN e.created_at > :pending_after THEN e.created_at ELSE NULL END,
    e.created_at, e.created_at
FROM notification_events e CROSS JOIN (VALUES
    ('Công an', 'police', 'email'), ('Thanh tra', 'inspectorate', 'email'),
    ('Thanh tra', 'inspectorate', 'webhook')) AS c(name, kind, channel)
"""
NAIVE = [
    "SELECT category, severity, count(*) FROM reports GROUP BY 1, 2",
    "SELECT channel, status, count(*) FROM deliveries GROUP BY 1, 2",
]


def load(url: str, count: int) -> None:
    from sqlalchemy import text

    from app.db import get_engine

    queries.load(url, count=count)
    started = time.perf_counter()
    with get_engine().begin() as conn:
        conn.execute(text(LOAD_EVENTS))
        pending_after = conn.execute(
            text("SELECT received_at FROM reports ORDER BY received_at DESC OFFSET 100 LIMIT 1")
        ).scalar()
        conn.execute(text(LOAD_DELIVERIES), {"pending_after": pending_after})
    with get_engine().connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"loaded events and deliveries in {time.perf_counter() - started:.1f} s", flush=True)


@contextmanager
def serve(url: str) -> Iterator[str]:
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "TNLD_DATABASE_URL": url,
        "TNLD_SECRET_KEY": queries.SECRET_KEY,
        "TNLD_EMBEDDED_WORKER": "false",
        "TNLD_METRICS_TOKEN": TOKEN,
    }
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("tnld serve did not come up")
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def timed(client: object, path: str, repeat: int, **headers: str) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times


def run(args: argparse.Namespace) -> int:
    import httpx
    from sqlalchemy import text

    from app.db import get_engine

    load(args.database_url, args.reports)
    naive = []
    with get_engine().connect() as conn:
        for statement in NAIVE:
            started = time.perf_counter()
            conn.execute(text(statement)).all()
            naive.append((time.perf_counter() - started) * 1000)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serve(args.database_url) as base, httpx.Client(base_url=base, timeout=120) as client:
        first = timed(client, "/metrics", 1, **auth)[0]
        scrapes = timed(client, "/metrics", args.scrapes, **auth)
        floor = timed(client, "/healthz", args.scrapes)
        body = client.get("/metrics", headers=auth).text
    reports = sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("tnld_reports_total{")
    )
    p50, p95 = percentile(scrapes, 50), percentile(scrapes, 95)
    print(f"\n/metrics over {int(reports):,} reports ({args.scrapes} scrapes)")
    print(f"  {'first scrape (tallies the settled rows once)':<48} {first:9.1f} ms")
    print(f"  {'steady scrape p50':<48} {p50:9.1f} ms")
    print(f"  {'steady scrape p95 (target < 50 ms)':<48} {p95:9.1f} ms")
    print(f"  baseline: {'GET /healthz p95 (HTTP floor)':<38} {percentile(floor, 95):9.1f} ms")
    print(f"  baseline: {'naive GROUP BY reports':<38} {naive[0]:9.1f} ms")
    print(f"  baseline: {'naive GROUP BY deliveries':<38} {naive[1]:9.1f} ms")
    return 0 if p95 < TARGET_MS else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=100)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    run_in_process(
        lambda: run(args),
        database_url=args.database_url,
        secret_key=queries.SECRET_KEY,
        keep=args.keep,
    )


if __name__ == "__main__":
    main()
