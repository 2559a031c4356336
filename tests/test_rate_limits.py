"""Rate limits per API key and, without a valid key, per client address (Security and
privacy: limits): 429 problem+json with Retry-After; 0 turns a limit off; Redis shares the
counters between processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.ratelimit import _limiter
from tests.assertions import assert_problem
from tests.helpers import Configure, Org, OrgFactory

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    """Counters in memory start empty for each test."""
    _limiter.cache_clear()
    yield
    _limiter.cache_clear()


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, configure: Configure) -> Iterator[None]:
    settings = {"rate_limit_writes": "3/minute", "rate_limit_reads": "5/minute"}
    if request.param == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError:
            pytest.skip("needs Redis at 127.0.0.1:6379")
        settings["redis_url"] = REDIS_URL
    configure(**settings)
    yield
    get_settings.cache_clear()


def _reads(client: TestClient, org: Org, n: int) -> list[int]:
    return [client.get("/api/v1/organisations", headers=org.headers).status_code for _ in range(n)]


@pytest.mark.usefixtures("limited")
def test_reads_over_the_limit_are_429_with_retry_after(client: TestClient, admin: Org) -> None:
    assert _reads(client, admin, 5) == [200] * 5
    response = client.get("/api/v1/organisations", headers=admin.headers)
    problem = assert_problem(response, 429)
    assert problem["type"].endswith("/rate-limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


@pytest.mark.usefixtures("limited")
def test_writes_and_reads_are_counted_apart(client: TestClient, admin: Org) -> None:
    for n in range(3):
        response = client.post(
            f"/api/v1/organisations/{admin.id}/api-keys", json={}, headers=admin.headers
        )
        assert response.status_code == 201, (n, response.text)
    refused = client.post(
        f"/api/v1/organisations/{admin.id}/api-keys", json={}, headers=admin.headers
    )
    assert_problem(refused, 429)
    assert "Retry-After" in refused.headers
    assert _reads(client, admin, 1) == [200]


def test_each_key_has_its_own_allowance(
    client: TestClient, orgs: OrgFactory, configure: Configure
) -> None:
    first, second = orgs.create("admin"), orgs.create("admin")
    configure(rate_limit_reads="2/minute", rate_limit_writes="0")
    assert _reads(client, first, 3) == [200, 200, 429]
    assert _reads(client, second, 2) == [200, 200]


def test_requests_without_a_valid_key_are_limited_per_address(
    client: TestClient, configure: Configure
) -> None:
    configure(rate_limit_reads="2/minute", rate_limit_writes="0")
    # Every guess a different key: the address is what is counted.
    statuses = [
        client.get(
            "/api/v1/organisations", headers={"Authorization": f"Bearer tnld_{uuid.uuid4().hex}"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_zero_turns_a_limit_off(client: TestClient, admin: Org, configure: Configure) -> None:
    configure(rate_limit_reads="0", rate_limit_writes="0")
    assert set(_reads(client, admin, 30)) == {200}


def test_public_endpoints_are_limited_per_address_key_or_not(
    client: TestClient, configure: Configure
) -> None:
    """/api/v1/divisions needs no key: every caller is counted by address, and a made-up key
    does not open a second allowance."""
    configure(rate_limit_reads="3/minute", rate_limit_writes="0")
    made_up = {"Authorization": f"Bearer tnld_{uuid.uuid4().hex}"}
    statuses = [
        client.get("/api/v1/divisions?at=2026-01-01", headers=headers).status_code
        for headers in ({}, made_up, {})
    ]
    assert statuses == [200, 200, 200]
    refused = client.get("/api/v1/divisions?at=2026-01-01", headers=made_up)
    problem = assert_problem(refused, 429)
    assert problem["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_requests_without_a_key_are_counted_once_wherever_they_go(
    client: TestClient, admin: Org, configure: Configure
) -> None:
    """A missing key (a 401), an unknown path (a 404) and a public endpoint draw on the same
    allowance of the address, each request once; a valid key from that address keeps its own."""
    configure(rate_limit_reads="3/minute", rate_limit_writes="1/minute")
    assert client.get("/api/v1/organisations").status_code == 401
    assert client.get("/api/v1/no-such-thing").status_code == 404
    assert client.get("/api/v1/divisions?at=2026-01-01").status_code == 200
    refused = client.get("/api/v1/reports")
    assert_problem(refused, 429)
    assert "Retry-After" in refused.headers
    assert client.get("/api/v1/organisations", headers=admin.headers).status_code == 200
    # Writes have their own allowance: a keyless POST is a 401, the next one a 429.
    assert client.post("/api/v1/reports", json={}).status_code == 401
    assert_problem(client.post("/api/v1/reports", json={}), 429)


def test_the_address_is_the_client_s(live_server: str, configure: Configure) -> None:
    """Against the real server: the connection's address is counted (loopback here)."""
    configure(rate_limit_reads="2/minute", rate_limit_writes="0")
    with httpx.Client(base_url=live_server) as http:
        statuses = [http.get("/api/v1/divisions?at=2026-01-01").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_addresses_are_counted_in_redis_too(client: TestClient, configure: Configure) -> None:
    """With Redis the middleware counts in a thread (no network I/O on the event loop)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/3"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    configure(rate_limit_reads="2/minute", rate_limit_writes="0", redis_url=url)
    statuses = [client.get("/api/v1/divisions?at=2026-01-01").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    redis.Redis.from_url(url).flushdb()
    get_settings.cache_clear()
