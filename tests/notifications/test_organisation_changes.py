"""Organisations change without being re-created: PATCH name and channels; a new webhook
secret, with both signatures for 24 hours (Security and privacy)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from tests.assertions import assert_problem
from tests.helpers import Org, OrgFactory, post_report
from tests.notifications.conftest import Receiver, drain

API = "/api/v1/organisations"


def test_patch_changes_name_and_channels(client: TestClient, admin: Org, orgs: OrgFactory) -> None:
    police = orgs.create("police", commune_code="24121", notify_emails=["ca@tnld.test"])
    response = client.patch(
        f"{API}/{police.id}",
        json={"name": "Công an phường", "notify_emails": ["moi@tnld.test"]},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    read = client.get(f"{API}/{police.id}", headers=admin.headers).json()
    assert (read["name"], read["notify_emails"]) == ("Công an phường", ["moi@tnld.test"])
    assert response.json()["webhook_secret"] is None


def test_patch_checks_the_webhook_target_and_the_channels(
    client: TestClient, admin: Org, orgs: OrgFactory, configure: Any
) -> None:
    configure(webhook_allowed_networks="")
    police = orgs.create("police", commune_code="24121", notify_emails=["ca@tnld.test"])
    url = client.patch(
        f"{API}/{police.id}", json={"webhook_url": "http://169.254.169.254/"}, headers=admin.headers
    )
    assert_problem(url, 422, pointer="/webhook_url")
    none = client.patch(f"{API}/{police.id}", json={"notify_emails": []}, headers=admin.headers)
    assert_problem(none, 422, pointer="/notify_emails")


def test_only_admins_patch(client: TestClient, orgs: OrgFactory, inspectorate: Org) -> None:
    police = orgs.create("police", commune_code="24121", notify_emails=["ca@tnld.test"])
    response = client.patch(f"{API}/{police.id}", json={"name": "X"}, headers=inspectorate.headers)
    assert_problem(response, 403)


def test_a_new_webhook_secret_signs_beside_the_old_one_for_24_hours(
    client: TestClient,
    admin: Org,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    frozen_clock: Any,
) -> None:
    police = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))
    orgs.create("inspectorate", notify_emails=["tt@tnld.test"])
    old = police.data["webhook_secret"]
    rotated = client.post(f"{API}/{police.id}/webhook-secret", headers=admin.headers)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new.startswith("whsec_")
    assert new != old

    post_report(client, enterprise)
    drain()
    [hook] = receiver.at("/police")
    assert len(hook.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(hook.body, hook.headers)
    Webhook(old).verify(hook.body, hook.headers)

    frozen_clock.advance(timedelta(hours=24, minutes=1))
    post_report(client, enterprise)
    drain()
    later = receiver.at("/police")[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.body, later.headers)
