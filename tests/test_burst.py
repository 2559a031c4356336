"""A burst of simultaneous requests is answered, never absorbed (issue 8).

200 connections are opened to a real uvicorn server, then 200 requests are sent at one
instant: filings, reads, amendments of one report, replays of one Idempotency-Key. Every
request gets an answer (2xx; 409 for a replay while its first request is in flight; 503, or
429, with Retry-After), twice in a row, and afterwards /healthz answers at once and, on
PostgreSQL, no connection is left idle in a transaction. Timeouts here detect a hang; they do
not measure speed (bench/burst.py does)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import get_settings
from app.db import get_engine
from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.health import router as health_router
from app.main import API_ROUTERS
from app.routing import ReleasingRoute
from tests.helpers import API, Org, file_report, report_body

BURST = 200
ROUNDS = 2
#: Long enough for any answer on a loaded machine, short enough to show a hang.
ANSWER_TIMEOUT_SECONDS = 90.0
HEALTHZ_TIMEOUT_SECONDS = 1.0
BUSY = {429, 503}


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    expected: frozenset[int]


def _calls(
    *, round_: int, report_id: str, enterprise: Org, inspectorate: Org, replay_key: str
) -> list[Call]:
    replayed = report_body(summary=f"Báo cáo gửi lại nhiều lần, đợt {round_}.")
    calls = []
    for i in range(BURST):
        match i % 5:
            case 0:
                calls.append(
                    Call(
                        "filing",
                        "POST",
                        f"{API}/reports",
                        {**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
                        report_body(),
                        frozenset({201}),
                    )
                )
            case 1:
                calls.append(
                    Call(
                        "read",
                        "GET",
                        f"{API}/investigations",
                        inspectorate.headers,
                        None,
                        frozenset({200}),
                    )
                )
            case 2:
                calls.append(
                    Call(
                        "read",
                        "GET",
                        f"{API}/reports/{report_id}",
                        enterprise.headers,
                        None,
                        frozenset({200}),
                    )
                )
            case 3:
                # Each amendment changes the summary to its own text (one that changes
                # nothing would be 422); all of them lock the same report.
                calls.append(
                    Call(
                        "amendment",
                        "POST",
                        f"{API}/reports/{report_id}/amendments",
                        {**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
                        {"summary": f"Bổ sung thông tin, đợt {round_}, lần {i}."},
                        frozenset({201}),
                    )
                )
            case _:
                # One key, one body: 201 (first or replayed), or 409 while the first is in
                # flight (contract, Reports).
                calls.append(
                    Call(
                        "replay",
                        "POST",
                        f"{API}/reports",
                        {**enterprise.headers, "Idempotency-Key": replay_key},
                        replayed,
                        frozenset({201, 409}),
                    )
                )
    return calls


async def _fire(base_url: str, calls: list[Call]) -> list[httpx.Response | BaseException]:
    """One connection per call, all opened (and used once) first; then every call at once."""
    timeout = httpx.Timeout(ANSWER_TIMEOUT_SECONDS, connect=ANSWER_TIMEOUT_SECONDS)
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        for _ in calls
    ]
    try:
        opened = await asyncio.gather(*(c.get("/healthz") for c in clients))
        assert {r.status_code for r in opened} == {200}
        start = asyncio.Event()

        async def send(http: httpx.AsyncClient, call: Call) -> httpx.Response:
            await start.wait()
            return await http.request(call.method, call.url, json=call.body, headers=call.headers)

        tasks = [asyncio.create_task(send(c, call)) for c, call in zip(clients, calls, strict=True)]
        await asyncio.sleep(0)  # every task is now waiting for the start
        start.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _unanswered_or_wrong(
    calls: list[Call], results: list[httpx.Response | BaseException]
) -> list[str]:
    wrong = []
    for call, result in zip(calls, results, strict=True):
        if isinstance(result, BaseException):
            wrong.append(f"{call.kind} {call.method} {call.url}: no answer ({result!r})")
        elif result.status_code in BUSY:
            if not result.headers.get("retry-after", "").isdigit():
                wrong.append(f"{call.kind}: {result.status_code} without Retry-After")
        elif result.status_code not in call.expected:
            wrong.append(f"{call.kind}: {result.status_code} {result.text[:300]}")
    return wrong


def _idle_in_transaction() -> list[str]:
    """Backends of this test database left idle in a transaction (PostgreSQL)."""
    with get_engine().connect() as connection:
        rows = connection.execute(
            text(
                "SELECT state, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state LIKE 'idle in transaction%'"
            )
        ).all()
    return [f"{state}: {query}" for state, query in rows]


def test_a_burst_of_simultaneous_requests_is_answered_twice_in_a_row(
    live_server: str,
    client: TestClient,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    frozen_clock: Any,
) -> None:
    report_id = file_report(client, enterprise)["id"]
    statuses: list[dict[str, int]] = []
    for round_ in range(ROUNDS):
        calls = _calls(
            round_=round_,
            report_id=report_id,
            enterprise=enterprise,
            inspectorate=inspectorate,
            replay_key=f"burst-replay-{round_}",
        )
        results = asyncio.run(_fire(live_server, calls))
        assert _unanswered_or_wrong(calls, results) == [], f"round {round_}"
        counted: dict[str, int] = {}
        for call, result in zip(calls, results, strict=True):
            assert isinstance(result, httpx.Response)
            label = f"{call.kind} {result.status_code}"
            counted[label] = counted.get(label, 0) + 1
        statuses.append(counted)

        healthz = httpx.get(f"{live_server}/healthz", timeout=HEALTHZ_TIMEOUT_SECONDS)
        assert healthz.status_code == 200
        if get_engine().dialect.name == "postgresql":
            assert _idle_in_transaction() == []
    # Something got through in each round: the service did not just refuse everything.
    for counted in statuses:
        assert any(label.endswith((" 200", " 201")) for label in counted), statuses


@pytest.fixture
def one_request_in_flight(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The admission limit at one request, refused at once (no wait for a place)."""
    monkeypatch.setenv("TNLD_MAX_REQUESTS_IN_FLIGHT", "1")
    monkeypatch.setenv("TNLD_ADMISSION_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("TNLD_MAX_REQUESTS_IN_FLIGHT")
    monkeypatch.delenv("TNLD_ADMISSION_WAIT_SECONDS")
    get_settings.cache_clear()


def _poll(http: httpx.Client, path: str, status: int) -> httpx.Response:
    """GET ``path`` until it answers ``status`` (the held request reaches the app on the
    server's own time); a bounded number of tries, no sleeps."""
    for _ in range(2000):
        response = http.get(path)
        if response.status_code == status:
            return response
    raise AssertionError(f"{path} never answered {status} (last: {response.status_code})")


@contextlib.contextmanager
def _request_held_in_flight(live_server: str, path: str, content_type: str) -> Iterator[None]:
    """A POST whose body never comes: admitted, it stays in flight until we hang up."""
    address = urlsplit(live_server)
    assert address.hostname is not None
    assert address.port is not None
    held = socket.create_connection((address.hostname, address.port), timeout=10)
    try:
        held.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: 100\r\n\r\n".encode()
        )
        yield
    finally:
        held.close()


def test_past_the_limit_a_request_gets_503_problem_with_retry_after(
    one_request_in_flight: None, live_server: str
) -> None:
    with (
        _request_held_in_flight(live_server, f"{API}/reports", "application/json"),
        httpx.Client(base_url=live_server, timeout=10) as http,
    ):
        refused = _poll(http, f"{API}/divisions", 503)
        assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert refused.headers["retry-after"] == "1"
        problem = refused.json()
        assert problem["type"] == PROBLEM_TYPE_BASE + "overloaded"
        assert problem["status"] == 503
        assert problem["detail"]
        # /healthz is never counted nor refused.
        assert http.get("/healthz").status_code == 200
    with httpx.Client(base_url=live_server, timeout=10) as http:
        _poll(http, f"{API}/divisions", 200)


def test_past_the_limit_a_page_is_refused_with_a_page(
    one_request_in_flight: None, live_server: str
) -> None:
    with (
        _request_held_in_flight(live_server, "/dang-nhap", "application/x-www-form-urlencoded"),
        httpx.Client(base_url=live_server, timeout=10) as http,
    ):
        refused = _poll(http, "/dang-nhap", 503)
        assert refused.headers["content-type"].startswith("text/html")
        assert refused.headers["retry-after"] == "1"
        assert 'lang="vi"' in refused.text
        assert "Hệ thống đang bận" in refused.text


def test_every_route_gives_its_session_back_in_its_own_thread() -> None:
    """A route outside ReleasingRoute would keep a read's transaction (and its connection)
    while its response waits for a request thread: the hang of issue 8."""
    routes = [
        route
        for router in (health_router, *API_ROUTERS)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    assert len(routes) > 20
    assert [r.path for r in routes if not isinstance(r, ReleasingRoute)] == []
