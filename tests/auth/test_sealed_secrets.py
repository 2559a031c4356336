"""Webhook secrets are stored encrypted under TNLD_SECRET_KEY, readable with any key of the
ring (Security and privacy: secrets)."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from standardwebhooks import Webhook

from app.db import session_factory
from app.sealed import seal, unseal
from tests.helpers import Configure, Org, OrgFactory, post_report
from tests.notifications.conftest import Receiver, drain
from tests.notifications.conftest import receiver as _receiver

receiver = pytest.fixture(_receiver.__wrapped__, name="receiver")  # type: ignore[attr-defined]

NEW = "Zq4-Lm8vR2xT6pNw0sKj3YbH7dGf5CaE1uIo9"


def _stored(organisation_id: str) -> str:
    with session_factory()() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        value = session.execute(
            text("SELECT webhook_secret FROM organisations WHERE id = :id"),
            {"id": uuid.UUID(organisation_id).hex if sqlite else organisation_id},
        ).scalar_one()
    return str(value)


def test_a_webhook_secret_is_not_stored_in_clear(orgs: OrgFactory, receiver: Receiver) -> None:
    police = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/p"))
    secret = police.data["webhook_secret"]
    stored = _stored(police.id)
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert unseal(stored) == secret


def test_secrets_stay_readable_after_the_secret_key_is_rotated(
    client: TestClient,
    orgs: OrgFactory,
    enterprise: Org,
    receiver: Receiver,
    configure: Configure,
) -> None:
    police = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))
    orgs.create("inspectorate", notify_emails=["tt@tnld.test"])
    configure(secret_key=f"{NEW},{os.environ['TNLD_SECRET_KEY']}")
    post_report(client, enterprise)
    drain()
    [hook] = receiver.at("/police")
    Webhook(police.data["webhook_secret"]).verify(hook.body, hook.headers)


def test_sealing_round_trips_and_plain_values_are_read_as_they_are() -> None:
    keys = [b"k" * 40]
    secret = "whsec_" + "A" * 44
    assert unseal(seal(secret, keys), keys) == secret
    assert unseal("whsec_plain", keys) == "whsec_plain"
    with pytest.raises(ValueError, match="TNLD_SECRET_KEY"):
        unseal(seal(secret, keys), [b"x" * 40])
