"""Webhook targets (Security and privacy): never this machine, a private network or a metadata
address, in any spelling, at registration and again at send time; a recipient's errors stay
with the recipient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_problem
from tests.helpers import Configure, Org, OrgFactory, post_report
from tests.notifications.conftest import Receiver, Reply, deliveries, drain

REFUSED = [
    "http://127.0.0.1:5432/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://localhost/",
    "http://localhost./",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://[2002:7f00:1::]/",
    "http://nowhere.invalid/",
]


@pytest.fixture
def no_allowed_networks(configure: Configure) -> None:
    configure(webhook_allowed_networks="")


def _create(client: TestClient, admin: Org, url: str) -> Any:
    return client.post(
        "/api/v1/organisations",
        json={"name": "Thanh tra", "kind": "inspectorate", "webhook_url": url},
        headers=admin.headers,
    )


@pytest.mark.usefixtures("no_allowed_networks")
@pytest.mark.parametrize("url", REFUSED)
def test_webhook_to_a_non_public_address_is_422(client: TestClient, admin: Org, url: str) -> None:
    assert_problem(_create(client, admin, url), 422, pointer="/webhook_url")


def test_allowed_network_may_receive_webhooks(
    client: TestClient, admin: Org, configure: Configure
) -> None:
    configure(webhook_allowed_networks="127.0.0.0/8")
    assert _create(client, admin, "http://127.0.0.1:9/hook").status_code == 201
    assert_problem(_create(client, admin, "http://[::1]:9/hook"), 422, pointer="/webhook_url")


def test_production_needs_https(client: TestClient, admin: Org, configure: Configure) -> None:
    configure(env="production", password_hashing="standard", webhook_allowed_networks="127.0.0.0/8")
    assert_problem(_create(client, admin, "http://localhost/hook"), 422, pointer="/webhook_url")
    assert _create(client, admin, "https://localhost/hook").status_code == 201


def test_send_time_check_fails_the_delivery_with_address_not_allowed(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    configure: Configure,
) -> None:
    police = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))
    orgs.create("inspectorate", notify_emails=["tt@tnld.test"])
    report = post_report(client, enterprise).json()
    # The deployment no longer allows loopback (or the name now resolves there).
    configure(webhook_allowed_networks="")

    drain()

    [delivery] = [d for d in deliveries(report["id"]) if str(d.recipient_id) == police.id]
    assert delivery.status == "failed"
    assert (delivery.last_error or "").startswith("address_not_allowed: ")
    assert receiver.at("/police") == []


def test_the_filer_sees_only_the_class_of_a_recipient_error(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    configure: Configure,
) -> None:
    configure(retry_schedule="1h")
    police = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))
    inspectorate = orgs.create("inspectorate", notify_emails=["tt@tnld.test"])
    other_police = orgs.create("police", commune_code="24121", notify_emails=["ca@tnld.test"])
    receiver.reply("/police", Reply(500, body=b"db password=hunter2"))
    report = post_report(client, enterprise).json()

    drain()

    def police_error(reader: Org) -> str:
        response = client.get(
            f"/api/v1/reports/{report['id']}/notifications", headers=reader.headers
        )
        assert response.status_code == 200, response.text
        [item] = [d for d in response.json() if d["recipient"]["id"] == police.id]
        return str(item["last_error"])

    assert police_error(enterprise) == "http_500"
    assert police_error(other_police) == "http_500"
    assert "hunter2" in police_error(police)
    assert "hunter2" in police_error(inspectorate)
