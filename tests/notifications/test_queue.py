"""The queue's guarantees, driven directly: claims are fenced by their token (a stale claim
records nothing), and a batch's results are recorded attempt by attempt in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app import clock
from app.db import get_engine
from app.notifications import queue
from app.notifications.jobs import Job, Outcome, SendResult
from tests.helpers import Org, post_report
from tests.notifications.conftest import Recipients, attempts, deliveries

LEASE = timedelta(seconds=60)
DELAYS = [timedelta(seconds=5), timedelta(minutes=5)]


def claim(token: str, limit: int = 10, **kwargs: Any) -> list[Job]:
    with get_engine().connect() as connection:
        return queue.claim_batch(
            connection,
            token=token,
            limit=limit,
            now=clock.now(),
            lease=LEASE,
            per_recipient=kwargs.pop("per_recipient", 8),
            **kwargs,
        )


def record(*finished: queue.Finished) -> list[Any]:
    with get_engine().connect() as connection:
        return queue.record_batch(connection, finished, worker="w", delays=DELAYS)


def done(job: Job, result: SendResult) -> queue.Finished:
    return queue.Finished(job, result, 5, clock.now())


def test_a_stale_claim_records_nothing(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    post_report(client, enterprise)
    first = claim("w/1", limit=1)
    # While its lease runs, no other claim takes it.
    assert all(j.delivery_id != first[0].delivery_id for j in claim("w/2"))
    with get_engine().connect() as connection:  # the second claim gives its deliveries back
        queue.release_leases(connection, tokens=["w/2"])
    clock.advance(LEASE + timedelta(seconds=1))  # the first claim's lease runs out
    again = [j for j in claim("w/4") if j.delivery_id == first[0].delivery_id]
    assert len(again) == 1

    stale = record(done(first[0], SendResult(Outcome.delivered, response="HTTP 204")))
    assert stale == [None]
    assert attempts(first[0].delivery_id) == []

    current = record(done(again[0], SendResult(Outcome.retry, error="HTTP 500")))
    assert current == ["pending"]
    [attempt] = attempts(first[0].delivery_id)
    assert attempt.outcome == "retry"


def test_a_batch_with_mixed_outcomes_is_recorded_attempt_by_attempt(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    post_report(client, enterprise)
    jobs = claim("w/1")
    assert len(jobs) == 4
    outcomes = [
        SendResult(Outcome.delivered, response="HTTP 204 No Content"),
        SendResult(Outcome.retry, response="HTTP 503", error="HTTP 503: busy"),
        SendResult(Outcome.failed, response="HTTP 410 Gone", error="HTTP 410 Gone"),
        SendResult(Outcome.retry, error="timeout: no answer in time (15 s)"),
    ]

    statuses = record(*(done(job, result) for job, result in zip(jobs, outcomes, strict=True)))

    assert statuses == ["delivered", "pending", "failed", "pending"]
    by_id = {d.id: d for d in deliveries()}
    for job, result in zip(jobs, outcomes, strict=True):
        [attempt] = attempts(job.delivery_id)
        assert (attempt.outcome, attempt.response, attempt.error, attempt.duration_ms) == (
            result.outcome,
            result.response,
            result.error,
            5,
        )
        delivery = by_id[job.delivery_id]
        assert delivery.attempts == 1
        assert delivery.lease_owner is None
    assert by_id[jobs[1].delivery_id].next_attempt_at == clock.now() + DELAYS[0]
    assert by_id[jobs[2].delivery_id].next_attempt_at is None


def test_one_recipient_gets_at_most_its_share_of_a_claim(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    for _ in range(5):
        post_report(client, enterprise)
    jobs = claim("w/1", per_recipient=2)
    someone = jobs[0].recipient_id
    per_key: dict[Any, int] = {}
    for job in jobs:
        per_key[(job.recipient_id, job.channel)] = (
            per_key.get((job.recipient_id, job.channel), 0) + 1
        )
    assert set(per_key.values()) == {2}
    assert len(per_key) == 4
    # Someone's senders are all busy: the next claim passes over them.
    busy = {key: 2 for key in per_key if key[0] == someone}
    assert all(j.recipient_id != someone for j in claim("w/2", per_recipient=2, busy=busy))
