"""What the service derives for a report: severity, counts, late, received_at and reference."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import clock
from tests.helpers import Org, idem, post_report, report_body, victim

# -- severity and counts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "severity"),
    [
        (["dead"], "fatal"),
        (["minor_injury", "seriously_injured", "dead"], "fatal"),
        (["seriously_injured", "seriously_injured"], "serious"),
        (["seriously_injured", "seriously_injured", "minor_injury"], "serious"),
    ],
)
def test_severity_of_a_labour_accident(
    client: TestClient, enterprise: Org, outcomes: list[str], severity: str
) -> None:
    body = report_body(victims=[victim(outcome=o) for o in outcomes])
    assert post_report(client, enterprise, body).json()["severity"] == severity


@pytest.mark.parametrize(
    ("outcomes", "severity"),
    [
        ([], "none"),
        (["minor_injury"], "minor"),
        (["seriously_injured"], "serious"),
        (["dead"], "fatal"),
    ],
)
def test_severity_of_a_technical_incident(
    client: TestClient, enterprise: Org, outcomes: list[str], severity: str
) -> None:
    body = report_body(category="technical_incident", victims=[victim(outcome=o) for o in outcomes])
    assert post_report(client, enterprise, body).json()["severity"] == severity


def test_counts_are_derived_from_the_victims(client: TestClient, enterprise: Org) -> None:
    outcomes = ["dead", "dead", "seriously_injured", "minor_injury", "minor_injury", "minor_injury"]
    body = report_body(victims=[victim(outcome=o) for o in outcomes])
    report = post_report(client, enterprise, body).json()
    assert (
        report["dead_count"],
        report["seriously_injured_count"],
        report["minor_injury_count"],
    ) == (2, 1, 3)


def test_response_echoes_every_submitted_field(client: TestClient, enterprise: Org) -> None:
    body = report_body()
    report = post_report(client, enterprise, body).json()
    for field in ("category", "commune_code", "commune", "address", "summary", "initial_cause"):
        assert report[field] == body[field]
    assert report["measures_taken"] == body["measures_taken"]
    assert report["employer_name"] == body["employer_name"]
    assert report["victims"] == body["victims"]
    assert report["reporter"] == body["reporter"]


# -- received_at and late ----------------------------------------------------------------------


def test_received_at_is_the_server_time_in_vietnam_time(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    report = post_report(client, enterprise).json()
    assert report["received_at"] == "2026-11-20T10:00:00+07:00"


def test_report_received_more_than_24_hours_after_the_accident_is_late(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    body = report_body(occurred_at="2026-11-19T09:59:59+07:00")
    assert post_report(client, enterprise, body).json()["late"] is True


def test_report_received_exactly_24_hours_after_the_accident_is_not_late(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    body = report_body(occurred_at="2026-11-19T10:00:00+07:00")
    assert post_report(client, enterprise, body).json()["late"] is False


def test_report_received_the_same_morning_is_not_late(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    assert post_report(client, enterprise).json()["late"] is False


def test_late_is_judged_across_offsets(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    # 2026-11-19T02:59:59Z is 09:59:59 Vietnam time: 24 h and 1 s before receipt.
    body = report_body(occurred_at="2026-11-19T02:59:59Z")
    assert post_report(client, enterprise, body).json()["late"] is True


# -- reference ---------------------------------------------------------------------------------

REFERENCE = re.compile(r"^TNLD-(\d{4})-(\d{6})$")


def test_reference_format(client: TestClient, enterprise: Org, frozen_clock: Any) -> None:
    assert post_report(client, enterprise).json()["reference"] == "TNLD-2026-000001"


def test_reference_year_is_the_vietnam_year_of_receipt(client: TestClient, enterprise: Org) -> None:
    # 2026-12-31 17:30 UTC is already 2027-01-01 00:30 in Vietnam.
    clock.freeze(datetime.fromisoformat("2026-12-31T17:30:00+00:00"))
    body = report_body(occurred_at="2026-12-31T23:00:00+07:00")
    assert post_report(client, enterprise, body).json()["reference"] == "TNLD-2027-000001"


def test_references_run_without_gaps_within_a_year(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    references = [post_report(client, enterprise).json()["reference"] for _ in range(5)]
    assert references == [f"TNLD-2026-{n:06d}" for n in range(1, 6)]


def test_a_rejected_report_uses_no_reference(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    first = post_report(client, enterprise).json()["reference"]
    rejected = post_report(client, enterprise, report_body(district_code="999"))
    assert rejected.status_code == 422
    second = post_report(client, enterprise).json()["reference"]
    assert (first, second) == ("TNLD-2026-000001", "TNLD-2026-000002")


def test_sequence_starts_again_each_year(client: TestClient, enterprise: Org) -> None:
    clock.freeze(datetime.fromisoformat("2026-12-31T16:00:00+00:00"))  # 23:00 in Vietnam
    body = report_body(occurred_at="2026-12-31T22:00:00+07:00")
    assert post_report(client, enterprise, body).json()["reference"] == "TNLD-2026-000001"
    assert post_report(client, enterprise, body).json()["reference"] == "TNLD-2026-000002"
    clock.freeze(datetime.fromisoformat("2026-12-31T17:00:00+00:00"))  # midnight in Vietnam
    assert post_report(client, enterprise, body).json()["reference"] == "TNLD-2027-000001"


def test_reporters_share_one_sequence(
    client: TestClient, enterprise: Org, committee: Org, frozen_clock: Any
) -> None:
    first = post_report(client, enterprise).json()["reference"]
    body = report_body(commune_code="24280", victims=[victim(employment="no_labour_contract")])
    second = post_report(client, committee, body).json()["reference"]
    assert (first, second) == ("TNLD-2026-000001", "TNLD-2026-000002")


def _post_concurrently(base_url: str, org: Org, *, total: int, threads: int) -> list[Any]:
    responses: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(count: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            start.wait()
            for _ in range(count):
                response = http.post(
                    "/api/v1/reports", json=report_body(), headers={**org.headers, **idem()}
                )
                with lock:
                    responses.append(response)

    pool = [threading.Thread(target=worker, args=(total // threads,)) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return responses


def test_concurrent_posts_get_consecutive_unique_references(
    live_server: str, enterprise: Org
) -> None:
    responses = _post_concurrently(live_server, enterprise, total=40, threads=8)

    assert [r.status_code for r in responses] == [201] * 40, [r.text for r in responses]
    parsed = [REFERENCE.match(r.json()["reference"]) for r in responses]
    assert all(parsed)
    years = {m[1] for m in parsed if m}
    assert len(years) == 1
    assert sorted(int(m[2]) for m in parsed if m) == list(range(1, 41))
