"""Retries: per TNLD_RETRY_SCHEDULE, then failed; permanent refusals fail at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from tests.conftest import free_port
from tests.helpers import Configure, Org, OrgFactory, post_report
from tests.notifications.conftest import Mailbox, Receiver, Reply, attempts, deliveries, drain

MAILBOX = "congan643@tnld.test"


@pytest.fixture
def hooked(orgs: OrgFactory, receiver: Receiver) -> Org:
    """Police of district 643 with a webhook only (and an inspectorate on another path)."""
    orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate"))
    return orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))


@pytest.fixture
def mailed(orgs: OrgFactory, receiver: Receiver, smtp: Mailbox) -> Org:
    """Police of district 643 with e-mail only (the inspectorate on a webhook)."""
    orgs.create("inspectorate", webhook_url=receiver.url("/inspectorate"))
    return orgs.create("police", commune_code="24121", notify_emails=[MAILBOX])


def police_delivery(report: dict[str, Any], police: Org) -> Any:
    [delivery] = [d for d in deliveries(report["id"]) if str(d.recipient_id) == police.id]
    return delivery


@pytest.fixture
def quick_retries(configure: Configure) -> None:
    configure(retry_schedule="0s,0s")


@pytest.mark.usefixtures("quick_retries")
def test_webhook_answered_500_is_retried_then_delivered(
    client: TestClient, enterprise: Org, hooked: Org, receiver: Receiver
) -> None:
    receiver.reply("/police", Reply(500))
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, hooked)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [a.outcome for a in attempts(delivery.id)] == ["retry", "delivered"]
    assert attempts(delivery.id)[0].response == "HTTP 500 Internal Server Error"


@pytest.mark.usefixtures("quick_retries")
def test_webhook_id_is_stable_across_retries(
    client: TestClient, enterprise: Org, hooked: Org, receiver: Receiver
) -> None:
    receiver.reply("/police", Reply(503))
    post_report(client, enterprise)

    drain()

    first, second = receiver.at("/police")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    secret = hooked.data["webhook_secret"]
    Webhook(secret).verify(second.body, second.headers)


@pytest.mark.usefixtures("quick_retries")
def test_smtp_421_is_retried_then_delivered(
    client: TestClient, enterprise: Org, mailed: Org, smtp: Mailbox
) -> None:
    smtp.data_replies.append("421 4.3.2 Service not available, try again later")
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, mailed)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    first, second = attempts(delivery.id)
    assert (first.outcome, second.outcome) == ("retry", "delivered")
    assert first.response is not None
    assert first.response.startswith("421")
    assert len(smtp.to(MAILBOX)) == 1


@pytest.mark.usefixtures("quick_retries")
def test_message_id_is_stable_across_retries(
    client: TestClient, enterprise: Org, mailed: Org, smtp: Mailbox
) -> None:
    smtp.data_replies.append("451 4.3.0 Temporary failure")
    post_report(client, enterprise)

    drain()

    [refused] = smtp.refused
    [accepted] = smtp.to(MAILBOX)
    assert refused.message["Message-ID"] == accepted.message["Message-ID"]


@pytest.mark.usefixtures("quick_retries")
def test_delivery_fails_after_the_last_retry(
    client: TestClient, enterprise: Org, hooked: Org, receiver: Receiver
) -> None:
    receiver.reply("/police", Reply(500), Reply(502), Reply(500), Reply(500))
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, hooked)
    # The first attempt and one per delay of the schedule ("0s,0s"), then no more.
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.at("/police")) == 3
    assert delivery.last_error == "http_500: HTTP 500 Internal Server Error"
    assert delivery.next_attempt_at is None
    assert [a.outcome for a in attempts(delivery.id)] == ["retry", "retry", "failed"]


def test_webhook_answered_410_fails_at_once(
    client: TestClient, enterprise: Org, hooked: Org, receiver: Receiver
) -> None:
    receiver.reply("/police", Reply(410))
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, hooked)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "410" in delivery.last_error
    assert len(receiver.at("/police")) == 1


def test_smtp_permanent_refusal_of_every_recipient_fails_at_once(
    client: TestClient, enterprise: Org, mailed: Org, smtp: Mailbox
) -> None:
    smtp.refuse[MAILBOX] = "550 5.1.1 No such mailbox"
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, mailed)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550" in delivery.last_error


def test_smtp_temporary_refusal_of_a_recipient_is_retried(
    client: TestClient, enterprise: Org, mailed: Org, smtp: Mailbox
) -> None:
    smtp.refuse[MAILBOX] = "450 4.2.1 Mailbox busy"
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, mailed)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "450" in delivery.last_error


def test_retry_after_is_honoured(
    client: TestClient,
    enterprise: Org,
    hooked: Org,
    receiver: Receiver,
    configure: Configure,
    frozen_clock: Any,
) -> None:
    configure(retry_schedule="1s,1s")
    receiver.reply("/police", Reply(503, {"Retry-After": "120"}))
    report = post_report(client, enterprise).json()

    drain()
    delivery = police_delivery(report, hooked)
    assert delivery.next_attempt_at == frozen_clock.now() + timedelta(seconds=120)

    frozen_clock.advance(timedelta(seconds=119))
    drain()
    assert len(receiver.at("/police")) == 1

    frozen_clock.advance(timedelta(seconds=1))
    drain()
    assert len(receiver.at("/police")) == 2
    assert police_delivery(report, hooked).status == "delivered"


def test_next_try_follows_the_schedule(
    client: TestClient,
    enterprise: Org,
    hooked: Org,
    receiver: Receiver,
    configure: Configure,
    frozen_clock: Any,
) -> None:
    configure(retry_schedule="5s,5m")
    receiver.reply("/police", Reply(500), Reply(500))
    report = post_report(client, enterprise).json()

    drain()
    assert police_delivery(report, hooked).next_attempt_at == frozen_clock.now() + timedelta(
        seconds=5
    )

    frozen_clock.advance(timedelta(seconds=5))
    drain()
    assert police_delivery(report, hooked).next_attempt_at == frozen_clock.now() + timedelta(
        minutes=5
    )


def test_redirects_are_not_followed(
    client: TestClient, enterprise: Org, hooked: Org, receiver: Receiver
) -> None:
    receiver.reply("/police", Reply(307, {"Location": receiver.url("/elsewhere")}))
    report = post_report(client, enterprise).json()

    drain()

    assert receiver.at("/elsewhere") == []
    delivery = police_delivery(report, hooked)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("http_307: HTTP 307")


def test_receiver_that_does_not_answer_in_time_is_retried(
    client: TestClient,
    enterprise: Org,
    hooked: Org,
    receiver: Receiver,
    configure: Configure,
) -> None:
    configure(webhook_timeout_seconds="0.5")
    receiver.answering.clear()
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, hooked)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "no answer in time" in delivery.last_error


def test_unreachable_receiver_is_retried(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    police = orgs.create(
        "police", commune_code="24121", webhook_url=f"http://127.0.0.1:{free_port()}/gone"
    )
    orgs.create("inspectorate", notify_emails=["thanhtra@tnld.test"])
    report = post_report(client, enterprise).json()

    drain()

    delivery = police_delivery(report, police)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("connection_refused: ConnectError")
