"""Metrics in the Prometheus text format (CONTRACT.md, Operations).

Request counts and latencies are counted in the process that served the request (with
``tnld serve --workers N`` the processes share them through files, prometheus_client's
multiprocess mode). Everything else is read from the database at scrape time, so every server
process reports the same values, and kept cheap at a million reports:

- reports by category and severity, and deliveries by channel, are tallied incrementally: rows
  received (created) before a horizon ``SETTLED`` in the past are counted once per process and
  kept; each scrape counts only the rows since, through the ``received_at`` (``created_at``)
  index. Reports and deliveries are never deleted, so a settled count never changes, except
  that an amendment can change a report's severity (it is then counted under its new severity
  by processes that tallied it after the amendment: a known, documented approximation);
- pending, failed and unroutable deliveries are counted through the index on ``status``
  (few, in a healthy service); delivered is the total less those;
- running and overdue investigations through the partial index of running investigations;
- the worker's heartbeat and the oldest pending delivery by one indexed ``max``/``min`` each.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, multiprocess
from prometheus_client import Counter as PromCounter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from app import clock
from app.db import get_engine
from app.investigations.models import ACTIVE_PREDICATE, Investigation
from app.notifications.models import Delivery
from app.ops.models import WorkerHeartbeat
from app.ops.readiness import OLDEST_PENDING
from app.reports.models import Report

#: Rows received longer ago than this are settled: no transaction still writing them is open.
SETTLED = timedelta(minutes=10)
#: Settle the tally at most this often (each step counts the rows of one step).
SETTLE_STEP = timedelta(minutes=1)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_REPORTS = (Report.received_at, (Report.category, Report.severity))
_DELIVERIES = (Delivery.created_at, (Delivery.channel,))
_NOT_DELIVERED = (
    select(Delivery.channel, Delivery.status, func.count())
    .where(Delivery.status.in_(["pending", "failed", "unroutable"]))
    .group_by(Delivery.channel, Delivery.status)
)
_OLDEST_PENDING = OLDEST_PENDING
_LAST_HEARTBEAT = select(func.max(WorkerHeartbeat.beat_at))
#: The literal IN list of the partial indexes' predicate (app.investigations.models).
_RUNNING = select(func.count()).select_from(Investigation).where(ACTIVE_PREDICATE)


class _Tally:
    """Counts of rows by some columns, settled up to a horizon and fresh after it."""

    def __init__(self, spec: tuple[Any, tuple[Any, ...]]) -> None:
        self.time, self.by = spec
        self.settled: Counter[tuple[str, ...]] = Counter()
        self.settled_until: datetime | None = None
        self.lock = threading.Lock()

    def _count(
        self, connection: Connection, since: datetime | None, until: datetime | None
    ) -> Counter[tuple[str, ...]]:
        query = select(*self.by, func.count()).group_by(*self.by)
        if since is not None:
            query = query.where(self.time >= since)
        if until is not None:
            query = query.where(self.time < until)
        rows = connection.execute(query)
        return Counter({tuple(_label(v) for v in row[:-1]): int(row[-1]) for row in rows})

    def counts(self, connection: Connection, now: datetime) -> Counter[tuple[str, ...]]:
        horizon = now - SETTLED
        with self.lock:
            if self.settled_until is None:
                self.settled = self._count(connection, None, horizon)
                self.settled_until = horizon
            elif horizon - self.settled_until >= SETTLE_STEP:
                self.settled += self._count(connection, self.settled_until, horizon)
                self.settled_until = horizon
            settled, since = Counter(self.settled), self.settled_until
        return settled + self._count(connection, since, None)


def _label(value: object) -> str:
    if value is None:
        return "none"
    return str(getattr(value, "value", value))


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    return max(0.0, (now - then).total_seconds())


class DatabaseCollector(Collector):
    """The metrics read from the database at each scrape."""

    def __init__(self) -> None:
        self.reports = _Tally(_REPORTS)
        self.deliveries = _Tally(_DELIVERIES)

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        with get_engine().connect() as connection:
            reports = self.reports.counts(connection, now)
            created = self.deliveries.counts(connection, now)
            not_delivered = {
                (_label(channel), _label(status)): int(count)
                for channel, status, count in connection.execute(_NOT_DELIVERED)
            }
            oldest = connection.execute(_OLDEST_PENDING).scalar()
            heartbeat = connection.execute(_LAST_HEARTBEAT).scalar()
            running = connection.execute(_RUNNING).scalar() or 0
            overdue = connection.execute(_RUNNING.where(Investigation.due_at < now)).scalar() or 0

        filed = CounterMetricFamily(
            "tnld_reports",
            "Reports filed, by category and severity",
            labels=["category", "severity"],
        )
        for (category, severity), count in sorted(reports.items()):
            filed.add_metric([category, severity], count)
        yield filed

        deliveries = GaugeMetricFamily(
            "tnld_deliveries",
            "Deliveries by channel (none: unroutable) and status",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(_by_status(created, not_delivered).items()):
            deliveries.add_metric([channel, status], count)
        yield deliveries
        for status in ("failed", "unroutable"):
            yield GaugeMetricFamily(
                f"tnld_deliveries_{status}",
                f"Deliveries {status}, all channels",
                value=sum(n for (_, s), n in not_delivered.items() if s == status),
            )
        yield GaugeMetricFamily(
            "tnld_outbox_pending",
            "Deliveries waiting to be sent (the outbox depth)",
            value=sum(n for (_, s), n in not_delivered.items() if s == "pending"),
        )
        yield GaugeMetricFamily(
            "tnld_outbox_oldest_pending_seconds",
            "Age of the oldest pending delivery (0 when none is pending)",
            value=_age(now, oldest),
        )
        yield GaugeMetricFamily(
            "tnld_investigations_running", "Investigations open or in progress", value=running
        )
        yield GaugeMetricFamily(
            "tnld_investigations_overdue",
            "Running investigations past their statutory deadline",
            value=overdue,
        )
        yield GaugeMetricFamily(
            "tnld_worker_heartbeat_age_seconds",
            "Seconds since a delivery worker last reported alive (NaN: never)",
            value=_age(now, heartbeat) if heartbeat is not None else float("nan"),
        )
        pool = get_engine().pool
        in_use = GaugeMetricFamily(
            "tnld_db_pool_connections",
            "This process's database connection pool",
            labels=["state", "pid"],
        )
        size = getattr(pool, "size", None)
        checked_out = getattr(pool, "checkedout", None)
        pid = str(os.getpid())
        if callable(size) and callable(checked_out):
            in_use.add_metric(["in_use", pid], checked_out())
            in_use.add_metric(["size", pid], size())
        yield in_use


def _by_status(
    created: Counter[tuple[str, ...]], not_delivered: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    values: dict[tuple[str, str], int] = dict(not_delivered)
    for (channel,), total in created.items():
        others = sum(n for (c, _), n in not_delivered.items() if c == channel)
        values[(channel, "delivered")] = max(0, total - others)
    return values


class Metrics:
    """One application's metrics: its request counters and the database collector."""

    def __init__(self) -> None:
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        # In multiprocess mode the values live in files, read back at scrape time.
        own = None if self.multiprocess_dir else CollectorRegistry()
        self.requests = PromCounter(
            "tnld_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=own,
        )
        self.duration = Histogram(
            "tnld_http_request_duration_seconds",
            "HTTP request duration by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.registry = own or CollectorRegistry()
        if self.multiprocess_dir:
            multiprocess.MultiProcessCollector(self.registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        self.registry.register(DatabaseCollector())

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(seconds)


def families(metrics: Metrics) -> Iterable[Metric]:
    return metrics.registry.collect()
