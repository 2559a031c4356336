"""E-mails of a batch share SMTP sessions (several messages per connection) and a connection
the server dropped is reopened for the message that met it: each delivery is still one attempt.
Real aiosmtpd server."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.notifications.email import SMTP_SESSIONS
from tests.helpers import Org, OrgFactory, post_report
from tests.notifications.conftest import (
    INSPECTORATE_EMAIL,
    POLICE_EMAIL,
    Mailbox,
    attempts,
    deliveries,
    drain,
)

#: Eight e-mails: one claim (a recipient's share is eight), four sessions of two messages.
REPORTS = 4


def by_email(orgs: OrgFactory) -> None:
    orgs.create("police", commune_code="24121", notify_emails=[POLICE_EMAIL])
    orgs.create("inspectorate", notify_emails=[INSPECTORATE_EMAIL])


def test_a_batch_of_emails_shares_a_few_smtp_sessions(
    client: TestClient, orgs: OrgFactory, enterprise: Org, smtp: Mailbox
) -> None:
    by_email(orgs)
    for _ in range(REPORTS):
        post_report(client, enterprise)

    drain()

    assert len(smtp.mails) == 2 * REPORTS
    assert len(set(smtp.peers)) == SMTP_SESSIONS  # eight messages, four connections
    assert all(d.status == "delivered" for d in deliveries())


def test_a_dropped_smtp_connection_is_reopened_within_the_attempt(
    client: TestClient, orgs: OrgFactory, enterprise: Org, smtp: Mailbox
) -> None:
    by_email(orgs)
    for _ in range(REPORTS):
        post_report(client, enterprise)
    smtp.drop_at = {5}  # a connection breaks mid-batch (second messages come after 4)

    drain()

    assert len(smtp.mails) == 2 * REPORTS
    assert len(set(smtp.peers)) == SMTP_SESSIONS + 1
    for delivery in deliveries():
        assert delivery.status == "delivered"
        [attempt] = attempts(delivery.id)
        assert attempt.outcome == "delivered"
