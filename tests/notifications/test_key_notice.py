"""A new API key is told to its organisation by e-mail, through the outbox (contract, Security
and privacy: organisations change without being re-created): which key (id, label), when and by
whom, never the key itself; only to organisations with ``notify_emails``; by e-mail only."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from app.auth.models import ApiKey
from app.auth.service import issue_api_key
from app.db import session_factory
from app.notifications.models import Channel
from tests.helpers import Org, OrgFactory
from tests.notifications.conftest import (
    POLICE_EMAIL,
    Mailbox,
    Receiver,
    Recipients,
    deliveries,
    drain,
)

API = "/api/v1"


def test_a_new_key_is_told_by_email_without_the_key(
    client: TestClient, admin: Org, recipients: Recipients, smtp: Mailbox, receiver: Receiver
) -> None:
    police = recipients.police
    created = client.post(
        f"{API}/organisations/{police.id}/api-keys",
        json={"label": "Máy chủ tích hợp"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    key_id, raw_key = created.json()["id"], created.json()["key"]

    (notice,) = deliveries()
    assert notice.report_id is None
    assert notice.channel == Channel.email  # never the webhook: it is the organisation's key
    assert notice.recipient_id == uuid.UUID(police.id)
    drain()

    (mail,) = smtp.to(POLICE_EMAIL)
    assert "Khóa API mới" in mail.message["Subject"]
    assert police.name in mail.message["Subject"]
    text = mail.text
    assert key_id in text
    assert "Máy chủ tích hợp" in text
    assert admin.name in text
    assert admin.id in text
    assert "giờ Việt Nam" in text  # when
    with session_factory()() as session:
        stored = session.get_one(ApiKey, uuid.UUID(key_id))
        secrets = [raw_key, raw_key.removeprefix("tnld_"), stored.key_hash]
    raw = mail.message.as_string()
    for secret in secrets:
        assert secret not in text
        assert secret not in raw
    assert receiver.at("/police") == []


def test_no_notice_without_notify_emails(client: TestClient, admin: Org, orgs: OrgFactory) -> None:
    enterprise = orgs.create("enterprise", tax_code="6000123456")
    created = client.post(
        f"{API}/organisations/{enterprise.id}/api-keys", json={}, headers=admin.headers
    )
    assert created.status_code == 201
    assert deliveries() == []


def test_a_key_made_on_the_command_line_says_so(recipients: Recipients, smtp: Mailbox) -> None:
    with session_factory()() as session:
        issue_api_key(
            session,
            actor=None,
            organisation_id=uuid.UUID(recipients.police.id),
            label=None,
        )
    drain()
    (mail,) = smtp.to(POLICE_EMAIL)
    assert "dòng lệnh" in mail.text
    assert "(không đặt tên)" in mail.text


def test_a_refused_key_tells_nobody(client: TestClient, admin: Org, recipients: Recipients) -> None:
    refused = client.post(
        f"{API}/organisations/{uuid.uuid4()}/api-keys", json={}, headers=admin.headers
    )
    assert refused.status_code == 404
    assert deliveries() == []
