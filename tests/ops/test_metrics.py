"""GET /metrics: Prometheus text, only for the token (or loopback when none is set), values
checked against the database."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app import clock
from app.db import session_factory
from app.notifications.models import Delivery
from app.notifications.worker import Worker
from app.reports.models import Report
from tests.helpers import Org, OrgFactory, file_report, serious_victims


def scrape(client: TestClient, token: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    matching = [
        v for got, v in samples.get(name, []) if all(got.get(k) == w for k, w in labels.items())
    ]
    assert matching, f"no sample {name} {labels}"
    return float(sum(matching))


def test_metrics_need_the_token(client: TestClient, metrics_token: str) -> None:
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 404
    assert (
        client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).status_code
        == 200
    )


def test_metrics_are_not_in_the_public_api(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_without_a_token_only_loopback_may_scrape(client: TestClient, live_server: str) -> None:
    # TestClient's peer is "testclient", not a loopback address.
    assert client.get("/metrics").status_code == 404
    response = httpx.get(live_server + "/metrics")
    assert response.status_code == 200
    assert "tnld_reports_total" in response.text


def test_reports_deliveries_and_investigations_match_the_database(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    metrics_token: str,
    frozen_clock: Any,
) -> None:
    file_report(client, enterprise)
    file_report(client, enterprise)
    file_report(client, enterprise, victims=serious_victims(2))
    file_report(client, enterprise, commune_code="24280")  # no police there: unroutable

    samples = scrape(client, metrics_token)
    with session_factory()() as session:
        by_kind = Counter(
            {
                (str(c), str(s)): n
                for c, s, n in session.execute(
                    select(Report.category, Report.severity, func.count()).group_by(
                        Report.category, Report.severity
                    )
                )
            }
        )
        by_status = Counter(
            {
                (str(c) if c else "none", str(s)): n
                for c, s, n in session.execute(
                    select(Delivery.channel, Delivery.status, func.count()).group_by(
                        Delivery.channel, Delivery.status
                    )
                )
            }
        )
    assert sum(by_kind.values()) == 4
    for (category, severity), count in by_kind.items():
        assert value(samples, "tnld_reports_total", category=category, severity=severity) == count
    for (channel, status), count in by_status.items():
        assert value(samples, "tnld_deliveries", channel=channel, status=status) == count
    assert value(samples, "tnld_deliveries_unroutable") == by_status[("none", "unroutable")] > 0
    assert value(samples, "tnld_outbox_pending") == sum(
        n for (_, s), n in by_status.items() if s == "pending"
    )
    assert value(samples, "tnld_investigations_running") == 4
    assert value(samples, "tnld_investigations_overdue") == 0
    assert value(samples, "tnld_outbox_oldest_pending_seconds") == 0

    clock.freeze(clock.now() + timedelta(days=90))
    later = scrape(client, metrics_token)
    assert value(later, "tnld_investigations_overdue") == 4
    assert value(later, "tnld_outbox_oldest_pending_seconds") == 90 * 86400
    # Settled now (older than the horizon): counted once, the same.
    for (category, severity), count in by_kind.items():
        assert value(later, "tnld_reports_total", category=category, severity=severity) == count


def test_deliveries_move_from_pending_to_delivered(
    client: TestClient, enterprise: Org, police: Org, inspectorate: Org, metrics_token: str
) -> None:
    file_report(client, enterprise)
    before = scrape(client, metrics_token)
    pending = value(before, "tnld_deliveries", status="pending")
    assert pending > 0
    worker = Worker()
    while worker.process_due():
        pass
    after = scrape(client, metrics_token)
    assert value(after, "tnld_deliveries", status="delivered") == pending
    assert value(after, "tnld_outbox_pending") == 0


def test_requests_are_counted_by_route_template(
    client: TestClient, enterprise: Org, metrics_token: str
) -> None:
    report = file_report(client, enterprise)
    client.get(f"/api/v1/reports/{report['id']}", headers=enterprise.headers)
    client.get("/no/such/path")
    samples = scrape(client, metrics_token)
    assert (
        value(
            samples,
            "tnld_http_requests_total",
            route="/api/v1/reports/{report_id}",
            method="GET",
            status="200",
        )
        == 1
    )
    assert value(samples, "tnld_http_requests_total", route="/api/v1/reports", status="201") == 1
    assert value(samples, "tnld_http_requests_total", route="unmatched", status="404") == 1
    routes = {labels["route"] for labels, _ in samples["tnld_http_requests_total"]}
    assert not any(report["id"] in route for route in routes)
    assert value(samples, "tnld_http_request_duration_seconds_count", route="/api/v1/reports") == 1


def test_worker_heartbeat_age(client: TestClient, metrics_token: str, frozen_clock: Any) -> None:
    samples = scrape(client, metrics_token)
    never = next(v for _, v in samples["tnld_worker_heartbeat_age_seconds"])
    assert math.isnan(never)
    Worker().heartbeat()
    clock.freeze(clock.now() + timedelta(seconds=42))
    assert value(scrape(client, metrics_token), "tnld_worker_heartbeat_age_seconds") == 42


def test_database_pool_use_is_reported(client: TestClient, metrics_token: str) -> None:
    samples = scrape(client, metrics_token)
    assert "tnld_db_pool_connections" in samples
