"""TNLD_SECRET_KEY as a key ring (older keys still verify API keys, which are re-hashed under
the current one on use); strong keys in production; settings errors name the setting, never
its value (Security and privacy: secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings, describe
from tests.helpers import Configure, Org

TNLD = str(Path(sys.executable).parent / "tnld")
OLD = os.environ["TNLD_SECRET_KEY"]
NEW = "Zq4-Lm8vR2xT6pNw0sKj3YbH7dGf5CaE1uIo9"


def _stored_hash(client: TestClient, admin: Org) -> str:
    from sqlalchemy import select

    from app.auth.models import ApiKey
    from app.db import session_factory

    with session_factory()() as session:
        hashes = session.scalars(
            select(ApiKey.key_hash).where(ApiKey.organisation_id == uuid.UUID(admin.id))
        ).all()
    assert len(hashes) == 1
    return hashes[0]


def test_keys_hashed_under_an_older_key_work_and_are_rehashed(
    client: TestClient, admin: Org, configure: Configure
) -> None:
    from app.auth.service import hash_api_key

    configure(secret_key=f"{NEW},{OLD}")
    response = client.get("/api/v1/organisations", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert _stored_hash(client, admin) == hash_api_key(admin.key, NEW.encode())

    # The old key can now leave the ring.
    configure(secret_key=NEW)
    assert client.get("/api/v1/organisations", headers=admin.headers).status_code == 200


def test_a_key_outside_the_ring_does_not_verify(
    client: TestClient, admin: Org, configure: Configure
) -> None:
    configure(secret_key=NEW)
    assert client.get("/api/v1/organisations", headers=admin.headers).status_code == 401


@pytest.mark.parametrize(
    "key",
    [
        "abcdefghij" * 4,
        "abcdefghij" * 3 + "abcde",
        "short-but-random-9f8e7d",
        "a" * 64,
        f"{NEW},{'abcdefghij' * 4}",
    ],
)
def test_weak_production_keys_are_refused_without_being_printed(key: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(env="production", secret_key=key, password_hashing="standard")
    text = describe(raised.value)
    assert "TNLD_SECRET_KEY" in text
    for part in key.split(","):
        assert part not in text


def test_a_strong_production_key_ring_is_accepted() -> None:
    assert (
        Settings(
            env="production", secret_key=f"{NEW},{OLD}", password_hashing="standard"
        ).secret_keys[0]
        == NEW.encode()
    )


def test_settings_errors_name_the_setting_never_the_value(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(
        TNLD_ENV="production",
        TNLD_SECRET_KEY="abcdefghij" * 4,
        TNLD_SMTP_PORT="hunter2-password",
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    result = subprocess.run(
        [TNLD, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "TNLD_SMTP_PORT" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "abcdefghij" not in result.stderr + result.stdout
