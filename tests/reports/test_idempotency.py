"""Idempotency-Key on POST /api/v1/reports (contract, Reports)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app import clock
from app.db import get_engine, session_factory
from app.reports import idempotency, numbering
from app.reports.models import IdempotencyRecord, Report
from app.reports.schemas import ReportCreate
from tests.assertions import assert_problem, row_counts
from tests.helpers import Org, lose_connection_while_locked, report_body, victim


def _post(client: TestClient, org: Org, key: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(
        "/api/v1/reports",
        json=body if body is not None else report_body(),
        headers={**org.headers, "Idempotency-Key": key},
    )


def _post_live(live_server: str, org: Org, key: str) -> httpx.Response:
    """A valid report posted to the real server (for tests that need real concurrency)."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        return http.post(
            "/api/v1/reports", json=report_body(), headers={**org.headers, "Idempotency-Key": key}
        )


def _report_count() -> int:
    with session_factory()() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def _claim_in_flight(org: Org, key: str, body: dict[str, Any], *, age: timedelta) -> None:
    """A claim as a request still being processed leaves it (or one whose process died)."""
    digest = idempotency.request_hash(ReportCreate.model_validate(body).model_dump(mode="json"))
    with session_factory()() as session:
        session.add(
            IdempotencyRecord(
                organisation_id=uuid.UUID(org.id),
                key=key,
                request_hash=digest,
                state=idempotency.IN_FLIGHT,
                created_at=clock.now() - age,
            )
        )
        session.commit()


def test_replay_returns_the_stored_response(client: TestClient, enterprise: Org) -> None:
    first = _post(client, enterprise, "k-1")
    replay = _post(client, enterprise, "k-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers


def test_replay_creates_nothing(client: TestClient, enterprise: Org) -> None:
    _post(client, enterprise, "k-1")
    before = row_counts()
    _post(client, enterprise, "k-1")
    assert row_counts() == before


def test_replay_is_kept_for_24_hours(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    first = _post(client, enterprise, "k-1")
    frozen_clock.advance(timedelta(hours=24, minutes=1))
    replay = _post(client, enterprise, "k-1")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert _report_count() == 1


def test_same_key_with_a_different_body_is_422(client: TestClient, enterprise: Org) -> None:
    _post(client, enterprise, "k-1")
    other = report_body(summary="Một vụ khác")
    response = _post(client, enterprise, "k-1", other)
    assert_problem(response, 422, type_suffix="idempotency-key-reused")
    assert _report_count() == 1


def test_equivalent_body_after_normalisation_is_a_replay(
    client: TestClient, enterprise: Org
) -> None:
    first = _post(client, enterprise, "k-1")
    padded = report_body(summary="  " + report_body()["summary"] + "  ")
    replay = _post(client, enterprise, "k-1", padded)
    assert replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]


def test_request_while_the_first_is_in_flight_is_409(client: TestClient, enterprise: Org) -> None:
    _claim_in_flight(enterprise, "k-1", report_body(), age=timedelta(seconds=1))
    response = _post(client, enterprise, "k-1")
    assert_problem(response, 409)
    assert _report_count() == 0


def test_different_body_while_the_first_is_in_flight_is_422(
    client: TestClient, enterprise: Org
) -> None:
    _claim_in_flight(enterprise, "k-1", report_body(), age=timedelta(seconds=1))
    response = _post(client, enterprise, "k-1", report_body(summary="Khác"))
    assert_problem(response, 422, type_suffix="idempotency-key-reused")


def test_claim_left_by_a_dead_request_is_taken_over(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    _claim_in_flight(enterprise, "k-1", report_body(), age=timedelta(minutes=10))
    response = _post(client, enterprise, "k-1")
    assert response.status_code == 201, response.text
    assert _report_count() == 1


def test_missing_idempotency_key_is_400(client: TestClient, enterprise: Org) -> None:
    response = client.post("/api/v1/reports", json=report_body(), headers=enterprise.headers)
    assert_problem(response, 400)
    assert _report_count() == 0


@pytest.mark.parametrize("key", ["", "k" * 256, "ключ", "a\tb"])
def test_idempotency_key_that_is_not_1_to_255_printable_characters_is_400(
    client: TestClient, enterprise: Org, key: str
) -> None:
    # Sent as UTF-8 bytes: outside printable ASCII whatever the encoding.
    response = client.post(
        "/api/v1/reports",
        json=report_body(),
        headers={**enterprise.headers, "Idempotency-Key": key.encode()},
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "key", ["k", "k" * 255, "order 2026/11/20 #1", "~!@$%^&*()_+={}[]|:;'<>?,."]
)
def test_idempotency_key_of_printable_characters_is_accepted(
    client: TestClient, enterprise: Org, key: str
) -> None:
    assert _post(client, enterprise, key).status_code == 201


def test_keys_are_per_organisation(client: TestClient, orgs: Any) -> None:
    first = orgs.create("enterprise", tax_code="6000123456")
    second = orgs.create("enterprise", tax_code="6000654321-001")
    a = _post(client, first, "shared-key")
    b = _post(client, second, "shared-key")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers
    assert _report_count() == 2


def test_failed_validation_does_not_burn_the_key(client: TestClient, enterprise: Org) -> None:
    rejected = _post(client, enterprise, "k-1", report_body(district_code="999"))
    assert rejected.status_code == 422
    accepted = _post(client, enterprise, "k-1")
    assert accepted.status_code == 201, accepted.text
    assert "Idempotent-Replayed" not in accepted.headers


def test_not_notifiable_report_does_not_burn_the_key(client: TestClient, enterprise: Org) -> None:
    minor = report_body(victims=[victim(outcome="minor_injury")])
    assert _post(client, enterprise, "k-1", minor).status_code == 422
    assert _post(client, enterprise, "k-1").status_code == 201


def test_rejected_request_leaves_no_claim(client: TestClient, enterprise: Org) -> None:
    _post(client, enterprise, "k-1", report_body(district_code="999"))
    with session_factory()() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


@pytest.mark.parametrize("attempt", range(5))
def test_identical_posts_racing_file_exactly_one_report(
    live_server: str, enterprise: Org, attempt: int
) -> None:
    key = f"race-{attempt}"
    racers = 6
    start = threading.Barrier(racers)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def race() -> None:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            response = http.post(
                "/api/v1/reports",
                json=report_body(),
                headers={**enterprise.headers, "Idempotency-Key": key},
            )
            with lock:
                responses.append(response)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert len({r.json()["id"] for r in created}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
    assert _report_count() == 1
    replay = _post_live(live_server, enterprise, key)
    assert replay.status_code == 201
    assert replay.json()["id"] == created[0].json()["id"]


@pytest.mark.postgres_only
def test_identical_posts_racing_a_filing_in_flight_get_409_and_one_report_is_filed(
    live_server: str, enterprise: Org
) -> None:
    """The race made certain: the first filing is held inside its statement (the year's number
    is locked by another transaction) while the others arrive, so they meet it in flight."""
    first = _post_live(live_server, enterprise, "warm-up")
    year = int(first.json()["reference"].split("-")[1])
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def post() -> None:
        response = _post_live(live_server, enterprise, "race")
        with lock:
            responses.append(response)

    with get_engine().connect() as other:
        other.execute(
            text("SELECT last_value FROM report_sequences WHERE year = :y FOR UPDATE"), {"y": year}
        )
        holder = threading.Thread(target=post)
        holder.start()
        holder.join(timeout=1)  # now waiting for the year's number, holding the key's lock
        assert holder.is_alive()
        racers = [threading.Thread(target=post) for _ in range(4)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        with lock:
            in_flight = list(responses)
        other.commit()
    holder.join()

    assert [r.status_code for r in in_flight] == [409] * 4, [r.text for r in in_flight]
    for response in in_flight:
        assert_problem(response, 409, type_suffix="idempotent-request-in-flight")
    (filed,) = [r for r in responses if r.status_code == 201]
    assert "Idempotent-Replayed" not in filed.headers
    assert _report_count() == 2  # the warm-up and this one
    replay = _post_live(live_server, enterprise, "race")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == filed.json()["id"]


@pytest.mark.postgres_only
def test_request_while_the_key_is_locked_by_another_filing_is_409(
    client: TestClient, enterprise: Org
) -> None:
    # On PostgreSQL a filing holds an advisory lock on (organisation, key) for its statement
    # and commit: a duplicate arriving then is in flight by definition.
    lock_id = idempotency.lock_id(uuid.UUID(enterprise.id), "k-1")
    with get_engine().connect() as other:
        other.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        response = _post(client, enterprise, "k-1")
        assert_problem(response, 409)
    assert _report_count() == 0
    assert _post(client, enterprise, "k-1").status_code == 201


@pytest.mark.postgres_only
def test_stored_response_carries_the_reference_not_the_stand_in(
    client: TestClient, enterprise: Org
) -> None:
    first = _post(client, enterprise, "k-1")
    with session_factory()() as session:
        record = session.get_one(IdempotencyRecord, (uuid.UUID(enterprise.id), "k-1"))
    assert record.state == idempotency.COMPLETED
    assert record.response_status == 201
    assert record.location == first.headers["Location"]
    assert record.response_body is not None
    assert json.loads(record.response_body) == first.json()
    assert numbering.STAND_IN not in record.response_body


@pytest.mark.postgres_only
def test_key_stored_while_the_statement_waits_falls_back_to_the_stored_response(
    live_server: str, enterprise: Org
) -> None:
    # A duplicate that commits between the statement's snapshot and its insert of the key: the
    # primary key refuses it, nothing is written (no number taken), and the stored response is
    # replayed by the general path.
    first = _post_live(live_server, enterprise, "k-0")
    assert first.status_code == 201
    year = int(first.json()["reference"].split("-")[1])
    digest = idempotency.request_hash(
        ReportCreate.model_validate(report_body()).model_dump(mode="json")
    )
    responses: list[httpx.Response] = []

    def post() -> None:
        responses.append(_post_live(live_server, enterprise, "k-1"))

    with get_engine().connect() as other:
        # Holds the year's number while the duplicate's key is written.
        other.execute(
            text("SELECT last_value FROM report_sequences WHERE year = :y FOR UPDATE"), {"y": year}
        )
        other.execute(
            text(
                "INSERT INTO idempotency_records (organisation_id, key, request_hash, state, "
                "response_status, response_body, location, created_at, completed_at) VALUES "
                "(:org, 'k-1', :digest, 'completed', 201, :body, '/api/v1/reports/x', now(), now())"
            ),
            {"org": uuid.UUID(enterprise.id), "digest": digest, "body": json.dumps({"stored": 1})},
        )
        poster = threading.Thread(target=post)
        poster.start()
        poster.join(timeout=1)  # the statement now waits for the year's number
        other.commit()
    poster.join()

    (response,) = responses
    assert response.status_code == 201, response.text
    assert response.json() == {"stored": 1}
    assert response.headers["Idempotent-Replayed"] == "true"
    assert _report_count() == 1
    after = _post_live(live_server, enterprise, "k-2")
    # No number was used up by the refused statement.
    assert after.json()["reference"] == f"TNLD-{year}-000002"


@pytest.mark.postgres_only
def test_connection_lost_during_a_filing_is_503_outcome_unknown_and_the_retry_files_it(
    live_server: str, enterprise: Org
) -> None:
    """The database connection dies while the filing's statement and COMMIT are in flight (its
    backend is terminated while it waits for the year's number): the client is told the
    outcome is unknown and to retry with the key, never a bare 500; the retry files it."""
    first = _post_live(live_server, enterprise, "k-0")
    year = int(first.json()["reference"].split("-")[1])
    responses: list[httpx.Response] = []

    def post() -> None:
        responses.append(_post_live(live_server, enterprise, "k-1"))

    lose_connection_while_locked(
        "SELECT last_value FROM report_sequences WHERE year = :y FOR UPDATE",
        {"y": year},
        post,
        what="the filing",
    )

    (response,) = responses
    assert_problem(response, 503, type_suffix="outcome-unknown")
    assert response.headers["Retry-After"] == "1"
    retry = _post_live(live_server, enterprise, "k-1")
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers
    assert _report_count() == 2
